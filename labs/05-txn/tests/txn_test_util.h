#pragma once
// Helpers shared by the lab 5 tests: a short way to write txns, a store to run them on, and
// readable printing of results.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "etcdlab/mvcc/errors.h"
#include "etcdlab/mvcc/store.h"
#include "etcdlab/txn/txn.h"

namespace etcdlab::txn::testing {

using mvcc::KeyRange;
using mvcc::KvStore;
using mvcc::MvccError;

// ---- building requests: put("k", "v"), get("k"), del("a", "c"), nested(txn)

inline RequestOp put(std::string key, std::string value, int64_t lease = 0) {
  PutOp p;
  p.key = std::move(key);
  p.value = std::move(value);
  p.lease = lease;
  return p;
}
inline RequestOp get(std::string key, std::string range_end = "", int64_t revision = 0) {
  RangeOp r;
  r.range = {std::move(key), std::move(range_end)};
  r.options.revision = revision;
  return r;
}
inline RequestOp del(std::string key, std::string range_end = "") {
  DeleteOp d;
  d.range = {std::move(key), std::move(range_end)};
  return d;
}
inline RequestOp nested(TxnRequest t) { return std::make_shared<const TxnRequest>(std::move(t)); }

inline Compare cmp(CompareTarget target, CompareResult result, std::string key, int64_t number) {
  return Compare::of(target, result, std::move(key), number);
}
inline Compare value_is(std::string key, std::string value,
                        CompareResult result = CompareResult::kEqual) {
  return Compare::of_value(result, std::move(key), std::move(value));
}

inline TxnRequest txn(std::vector<Compare> compare, std::vector<RequestOp> success,
                      std::vector<RequestOp> failure = {}) {
  return TxnRequest{std::move(compare), std::move(success), std::move(failure)};
}

// Every lease exists / none does.
inline bool any_lease(int64_t) { return true; }
inline bool no_lease(int64_t) { return false; }

// ---- reading results

inline const mvcc::RangeResult& range_at(const TxnResult& r, size_t i) {
  return std::get<mvcc::RangeResult>(r.responses.at(i));
}
inline const mvcc::PutResult& put_at(const TxnResult& r, size_t i) {
  return std::get<mvcc::PutResult>(r.responses.at(i));
}
inline const mvcc::DeleteResult& del_at(const TxnResult& r, size_t i) {
  return std::get<mvcc::DeleteResult>(r.responses.at(i));
}
inline const TxnResult& txn_at(const TxnResult& r, size_t i) {
  return *std::get<std::shared_ptr<TxnResult>>(r.responses.at(i));
}

inline std::string value_of(const KvStore& store, const std::string& key) {
  auto r = store.range(KeyRange{key, ""});
  return r.kvs.empty() ? "<missing>" : r.kvs[0].value;
}

// The error a call throws, as etcd's message ("" when it does not throw).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const TxnError& e) {
    return e.what();
  } catch (const MvccError& e) {
    return e.what();
  } catch (const LeaseMissing& e) {
    return e.what();
  }
  return "";
}

inline constexpr const char* kTooMany = "etcdserver: too many operations in txn request";
inline constexpr const char* kDuplicate = "etcdserver: duplicate key given in txn request";
inline constexpr const char* kKeyNotFound = "etcdserver: key not found";
inline constexpr const char* kEmptyKey = "etcdserver: key is not provided";
inline constexpr const char* kLeaseNotFound = "etcdserver: requested lease not found";
inline constexpr const char* kCompacted = "etcdserver: mvcc: required revision has been compacted";
inline constexpr const char* kFuture = "etcdserver: mvcc: required revision is a future revision";

// A store in memory with a, b, c put at revisions 2, 3, 4 ("a" twice more: version 3 at 6).
inline std::unique_ptr<KvStore> sample_store() {
  auto s = KvStore::open();
  s->put("a", "a1");       // 2
  s->put("b", "b1", 7);    // 3 (lease 7)
  s->put("c", "c1");       // 4
  s->put("a", "a2");       // 5
  s->put("a", "a3");       // 6
  return s;
}

}  // namespace etcdlab::txn::testing
