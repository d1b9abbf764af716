#pragma once
// etcdctl's output formats (../shared/reference/etcd-v3-json-api.md §11): "simple" lines,
// "json" (the response with int64 values as numbers, bytes as base64) and "table" (as
// etcdctl's tablewriter draws it: centered upper-case headers, right-aligned cells).

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace etcdlab::cli {

// The gateway's JSON (int64 as strings) as etcdctl -w json prints it (int64 as numbers).
boost::json::value numbers_for_ints(const boost::json::value& v);

std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows);

// go-humanize's Bytes: SI units, "20 kB", "1.2 MB".
std::string human_bytes(uint64_t bytes);

std::string hex(uint64_t id);

}  // namespace etcdlab::cli
