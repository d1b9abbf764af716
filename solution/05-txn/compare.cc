// Lab 5, part A: compares (etcd 3.4's applyCompare and compareKV).
#include "etcdlab/broken.h"
#include "etcdlab/txn/txn.h"

namespace etcdlab::txn {
namespace {

template <typename T>
int three_way(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// The operand a compare of `target` reads: its own field if the request set it, else zero.
int64_t number_operand(const Compare& c) {
  if (ETCDLAB_BROKEN("compare-reads-any-operand")) return c.number;
  return c.operand == c.target ? c.number : 0;
}

}  // namespace

bool compare_kv(const Compare& c, const mvcc::KeyValue* kv) {
  static const mvcc::KeyValue kMissing;
  if (kv == nullptr) {
    // etcd cannot tell a missing value from an empty one, so it refuses to compare values of
    // keys that do not exist: the compare fails, whatever its operator.
    if (c.target == CompareTarget::kValue && !ETCDLAB_BROKEN("missing-value-compares-empty")) {
      return false;
    }
    kv = &kMissing;
  }
  int result = 0;
  switch (c.target) {
    case CompareTarget::kValue: {
      // (Both arms string_views: `? c.value : ""` would make a temporary std::string, and the
      // view would outlive it.)
      std::string_view operand =
          c.operand == CompareTarget::kValue ? std::string_view(c.value) : std::string_view();
      // Bytewise, as Go's bytes.Compare (std::string_view compares chars as unsigned).
      result = std::string_view(kv->value).compare(operand);
      result = result < 0 ? -1 : (result > 0 ? 1 : 0);
      break;
    }
    case CompareTarget::kCreate:
      result = three_way(kv->create_revision, number_operand(c));
      break;
    case CompareTarget::kMod:
      result = three_way(kv->mod_revision, number_operand(c));
      break;
    case CompareTarget::kVersion:
      result = three_way(kv->version, number_operand(c));
      break;
    case CompareTarget::kLease:
      result = three_way(kv->lease, number_operand(c));
      break;
  }
  switch (c.result) {
    case CompareResult::kEqual:
      return result == 0;
    case CompareResult::kNotEqual:
      return result != 0;
    case CompareResult::kGreater:
      return result > 0;
    case CompareResult::kLess:
      return result < 0;
  }
  return true;  // (etcd: an unknown operator holds)
}

bool compare_holds(const Compare& c, const RangeReader& read) {
  mvcc::RangeResult r = read(mvcc::KeyRange{c.key, c.range_end}, mvcc::RangeOptions{});
  if (r.kvs.empty()) return compare_kv(c, nullptr);
  if (ETCDLAB_BROKEN("range-compare-first-key-only")) return compare_kv(c, &r.kvs.front());
  for (const mvcc::KeyValue& kv : r.kvs) {
    if (!compare_kv(c, &kv)) return false;
  }
  return true;
}

}  // namespace etcdlab::txn
