#include "request_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <stdexcept>

namespace etcdlab::bench {

void append_base64(std::string& out, std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  auto at = [&](size_t j) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[j])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (size_t rest = bytes.size() - i; rest > 0) {
    uint32_t n = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
}

std::string RequestSource::key_bytes(uint64_t k, uint32_t key_size) {
  std::string digits = fmt::format("{}", k);
  if (digits.size() >= key_size) return digits.substr(digits.size() - key_size);
  return std::string(key_size - digits.size(), '0') + digits;
}

void validate_key_size(const LoadOptions& o) {
  if (o.key_size == 0) throw std::invalid_argument("--key-size must be at least 1");
  if (o.key_space == 0) throw std::invalid_argument("--key-space must be at least 1");
  size_t digits = fmt::format("{}", o.key_offset + o.key_space - 1).size();
  if (digits > o.key_size) {
    throw std::invalid_argument(fmt::format(
        "--key-size {} is too small for --key-space {} from --key-offset {} (keys need {} digits)",
        o.key_size, o.key_space, o.key_offset, digits));
  }
  if (o.range_keys == 0 || o.range_keys > o.key_space) {
    throw std::invalid_argument(
        fmt::format("--range-keys must be in [1, --key-space {}]", o.key_space));
  }
}

RequestSource::RequestSource(const LoadOptions& options, uint32_t stream)
    : options_(options),
      rng_(options.seed * 0x9E3779B97F4A7C15ULL + stream),
      sequence_(options.key_space / std::max<uint32_t>(options.threads, 1) * stream) {
  // A value of val_size bytes that is not all one byte (a store could compress that).
  value_.assign(options.val_size, 'v');
  for (size_t i = 0; i < value_.size(); i++) value_[i] = static_cast<char>('a' + (i * 7) % 26);
  append_base64(value_b64_, value_);
}

RequestSource::Choice RequestSource::next_choice() {
  // The read decision comes before the key, in this order, so that a seed gives the same
  // requests as before the gRPC mode existed.
  Choice c;
  c.read = options_.workload == Workload::kRange ||
           (options_.workload == Workload::kMixed && rng_.chance(options_.read_ratio));
  uint64_t span = c.read ? options_.range_keys : 1;
  uint64_t k = next_key(span);
  c.key = key_bytes(k, options_.key_size);
  if (span > 1) {
    // Keys are fixed-width decimals, so byte order is numeric order: [key k, key k+span-1 + \0)
    // holds keys k .. k+span-1 and no other key of the space.
    c.range_end = key_bytes(k + span - 1, options_.key_size);
    c.range_end += '\0';
  }
  return c;
}

uint64_t RequestSource::next_key(uint64_t span) {
  uint64_t starts = options_.key_space - (span - 1);  // validate_key_size: span <= key_space
  if (options_.sequential_keys) return options_.key_offset + sequence_++ % starts;
  return options_.key_offset + rng_.uniform(0, starts - 1);
}

void RequestSource::next(std::string& out, std::string_view host) {
  if (options_.workload == Workload::kTxn) {
    key_.clear();
    append_base64(key_, key_bytes(next_key(), options_.key_size));
    post(out, host, "/v3/kv/txn",
         fmt::format("{{\"compare\":[{{\"key\":\"{0}\",\"target\":\"MOD\",\"result\":"
                     "\"LESS\",\"mod_revision\":\"4611686018427387904\"}}],\"success\":[{{"
                     "\"request_put\":{{\"key\":\"{0}\",\"value\":\"{1}\"}}}}],\"failure\":[{{"
                     "\"request_range\":{{\"key\":\"{0}\"}}}}]}}",
                     key_, value_b64_));
    return;
  }
  Choice choice = next_choice();
  bool read = choice.read;
  key_.clear();
  append_base64(key_, choice.key);
  range_end_.clear();
  if (!choice.range_end.empty()) append_base64(range_end_, choice.range_end);
  // Body: {"key":"<b64>","value":"<b64>"} or
  // {"key":"<b64>"[,"range_end":"<b64>"][,"serializable":true]}.
  size_t body_size =
      10 + key_.size() +
      (read ? (options_.linearizable ? 0 : 20) + (range_end_.empty() ? 0 : 15 + range_end_.size())
            : 11 + value_b64_.size());
  out.clear();
  out += read ? "POST /v3/kv/range HTTP/1.1\r\nHost: " : "POST /v3/kv/put HTTP/1.1\r\nHost: ";
  out += host;
  out += "\r\nContent-Type: application/json\r\nContent-Length: ";
  fmt::format_to(std::back_inserter(out), "{}", body_size);
  out += "\r\n\r\n";
  size_t body_start = out.size();
  out += "{\"key\":\"";
  out += key_;
  if (read && !range_end_.empty()) {
    out += "\",\"range_end\":\"";
    out += range_end_;
  }
  if (!read) {
    out += "\",\"value\":\"";
    out += value_b64_;
    out += "\"}";
  } else if (!options_.linearizable) {
    out += "\",\"serializable\":true}";
  } else {
    out += "\"}";
  }
  if (out.size() - body_start != body_size) {
    throw std::logic_error("request_source: body length miscounted");
  }
}

void RequestSource::post(std::string& out, std::string_view host, std::string_view path,
                         std::string_view body) {
  out.clear();
  fmt::format_to(std::back_inserter(out),
                 "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n"
                 "Content-Length: {}\r\n\r\n{}",
                 path, host, body.size(), body);
}

void RequestSource::lease_grant(std::string& out, std::string_view host) {
  post(out, host, "/v3/lease/grant", fmt::format("{{\"TTL\":\"{}\"}}", options_.lease_ttl));
}

void RequestSource::lease_put(std::string& out, std::string_view host, int64_t lease) {
  key_.clear();
  append_base64(key_, key_bytes(next_key(), options_.key_size));
  post(out, host, "/v3/kv/put",
       fmt::format("{{\"key\":\"{}\",\"value\":\"{}\",\"lease\":\"{}\"}}", key_, value_b64_,
                   lease));
}

void RequestSource::lease_revoke(std::string& out, std::string_view host, int64_t lease) {
  post(out, host, "/v3/lease/revoke", fmt::format("{{\"ID\":\"{}\"}}", lease));
}

void RequestSource::lease_keepalive(std::string& out, std::string_view host, int64_t lease) {
  post(out, host, "/v3/lease/keepalive", fmt::format("{{\"ID\":\"{}\"}}", lease));
}

}  // namespace etcdlab::bench
