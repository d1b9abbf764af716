#pragma once
// A small model of part B for TxnRandom (txn_model_test.cc): etcd 3.4's rules for applying a
// txn, written as plainly as possible and without the lab's code (no compare_kv, no KvStore).
// The store is a map of key -> KeyValue per revision; a txn is checked, then run on a copy of
// the newest map, which becomes the next revision if anything was written. Read it as a second
// statement of the rules: where it and your execute() disagree, one of them is wrong, and this
// one is short.
//
// One shortcut, which is also the rule: every compare, nested ones included, reads the store
// as it was before the txn. The model never changes that map while it runs (it writes a copy),
// so it can evaluate a nested txn's compares when it reaches it and get what etcd gets by
// deciding every level first.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "etcdlab/mvcc/errors.h"
#include "etcdlab/txn/txn.h"

namespace etcdlab::txn::testing {

class TxnModel {
 public:
  using State = std::map<std::string, mvcc::KeyValue>;
  using Events = std::vector<mvcc::Event>;

  int64_t revision() const { return static_cast<int64_t>(states_.size()); }  // 1 when empty
  int64_t compact_revision() const { return compact_; }
  const State& now() const { return states_.back(); }
  const State& at(int64_t revision) const { return states_.at(static_cast<size_t>(revision - 1)); }

  // [key, range_end): an empty end is the key alone, "\0" every key from `key` on.
  static bool in(const mvcc::KeyRange& r, const std::string& k) {
    if (r.range_end.empty()) return k == r.key;
    if (r.range_end == std::string(1, '\0')) return k >= r.key;
    return r.key <= k && k < r.range_end;
  }

  // The store's compaction, as far as a txn can see it: reads below it fail.
  void compact(int64_t revision) { compact_ = revision; }

  // Applies `t` (see txn.h, execute()). Throws what execute() must throw, changing nothing.
  TxnResult execute(const TxnRequest& t, const std::function<bool(int64_t)>& lease_exists,
                    Events* events) {
    check_puts(t, lease_exists);
    check_ranges(t);
    Run run{now(), {}};
    TxnResult result = apply(t, run);
    result.revision = revision();
    if (!run.events.empty()) {
      result.revision = revision() + 1;
      for (mvcc::Event& e : run.events) {  // each event's prev_kv: the key before the txn
        auto it = now().find(e.kv.key);
        if (it != now().end()) e.prev_kv = it->second;
      }
      states_.push_back(run.working);
    }
    if (events != nullptr) *events = run.events;
    return result;
  }

  // A one-operation write outside any txn (to build the store the txns run on).
  void write(const RequestOp& op) {
    execute(TxnRequest{{}, {op}, {}}, [](int64_t) { return true; }, nullptr);
  }

 private:
  struct Run {
    State working;  // the store as the txn's own writes left it
    Events events;
  };

  // ---- which list runs: every compare against the store before the txn

  static bool compare_one(const Compare& c, const mvcc::KeyValue* kv) {
    using T = CompareTarget;
    if (kv == nullptr && c.target == T::kValue) return false;  // a missing value is not ""
    mvcc::KeyValue zeros;
    if (kv == nullptr) kv = &zeros;
    int sign = 0;
    if (c.target == T::kValue) {
      std::string operand = c.operand == T::kValue ? c.value : "";
      int r = kv->value.compare(operand);  // char_traits<char> compares bytes as unsigned
      sign = (r > 0) - (r < 0);
    } else {
      int64_t field = c.target == T::kVersion  ? kv->version
                      : c.target == T::kCreate ? kv->create_revision
                      : c.target == T::kMod    ? kv->mod_revision
                                               : kv->lease;
      int64_t operand = c.operand == c.target ? c.number : 0;
      sign = (field > operand) - (field < operand);
    }
    switch (c.result) {
      case CompareResult::kEqual: return sign == 0;
      case CompareResult::kNotEqual: return sign != 0;
      case CompareResult::kGreater: return sign > 0;
      case CompareResult::kLess: return sign < 0;
    }
    return true;
  }

  bool holds(const Compare& c) const {
    bool any = false;
    for (const auto& [k, kv] : now()) {
      if (!in(mvcc::KeyRange{c.key, c.range_end}, k)) continue;
      any = true;
      if (!compare_one(c, &kv)) return false;
    }
    return any || compare_one(c, nullptr);
  }

  const std::vector<RequestOp>& chosen(const TxnRequest& t) const {
    for (const Compare& c : t.compare) {
      if (!holds(c)) return t.failure;
    }
    return t.success;
  }

  // ---- the checks: every chosen put, then every chosen range (etcd's two passes)

  void check_puts(const TxnRequest& t, const std::function<bool(int64_t)>& lease_exists) const {
    for (const RequestOp& op : chosen(t)) {
      if (const auto* nested = std::get_if<NestedTxn>(&op)) check_puts(**nested, lease_exists);
      const auto* p = std::get_if<PutOp>(&op);
      if (p == nullptr) continue;
      if ((p->options.ignore_value || p->options.ignore_lease) && now().count(p->key) == 0) {
        throw mvcc::MvccError(mvcc::MvccError::Code::kKeyNotFound);
      }
      if (p->lease != 0 && !lease_exists(p->lease)) throw LeaseMissing(p->lease);
    }
  }

  void check_ranges(const TxnRequest& t) const {
    // etcd's "first revision" is the compact revision, or -1 before any compaction: so a
    // revision of -2 is "compacted" even then, and -1 reads the newest.
    int64_t first = compact_ > 0 ? compact_ : -1;
    for (const RequestOp& op : chosen(t)) {
      if (const auto* nested = std::get_if<NestedTxn>(&op)) check_ranges(**nested);
      const auto* r = std::get_if<RangeOp>(&op);
      if (r == nullptr || r->options.revision == 0) continue;
      if (r->options.revision > revision()) {
        throw mvcc::MvccError(mvcc::MvccError::Code::kFutureRevision);
      }
      if (r->options.revision < first) throw mvcc::MvccError(mvcc::MvccError::Code::kCompacted);
    }
  }

  // ---- the run: the chosen operations in order, on the working copy

  TxnResult apply(const TxnRequest& t, Run& run) const {
    TxnResult out;
    out.succeeded = &chosen(t) == &t.success;
    for (const RequestOp& op : chosen(t)) {
      if (const auto* nested = std::get_if<NestedTxn>(&op)) {
        out.responses.emplace_back(std::make_shared<TxnResult>(apply(**nested, run)));
      } else if (const auto* r = std::get_if<RangeOp>(&op)) {
        out.responses.emplace_back(range(*r, run));
      } else if (const auto* p = std::get_if<PutOp>(&op)) {
        out.responses.emplace_back(put(*p, run));
      } else if (const auto* d = std::get_if<DeleteOp>(&op)) {
        out.responses.emplace_back(del(*d, run));
      }
    }
    return out;  // a nested result's revision stays 0
  }

  // The revision the txn sees: the store's until the txn writes, then its own.
  int64_t seen(const Run& run) const { return revision() + (run.events.empty() ? 0 : 1); }

  mvcc::RangeResult range(const RangeOp& op, const Run& run) const {
    // A positive revision reads history (never the txn's own writes: they are above it).
    const State& state = op.options.revision > 0 ? at(op.options.revision) : run.working;
    mvcc::RangeResult out;
    out.revision = seen(run);
    for (const auto& [k, kv] : state) {
      if (!in(op.range, k)) continue;
      ++out.count;
      if (op.options.count_only) continue;
      if (op.options.limit > 0 && static_cast<int64_t>(out.kvs.size()) == op.options.limit) {
        out.more = true;
        continue;
      }
      out.kvs.push_back(kv);
      if (op.options.keys_only) out.kvs.back().value.clear();
    }
    return out;
  }

  mvcc::PutResult put(const PutOp& op, Run& run) const {
    int64_t rev = revision() + 1;
    auto it = run.working.find(op.key);
    bool exists = it != run.working.end();
    // Checked before the txn too; but the txn may have deleted the key since.
    if ((op.options.ignore_value || op.options.ignore_lease) && !exists) {
      throw mvcc::MvccError(mvcc::MvccError::Code::kKeyNotFound);
    }
    mvcc::PutResult out;
    out.revision = rev;
    mvcc::KeyValue kv{op.key, rev, rev, 1, op.value, op.lease};
    if (exists) {
      if (op.options.prev_kv) out.prev_kv = it->second;
      kv.create_revision = it->second.create_revision;
      kv.version = it->second.version + 1;
      if (op.options.ignore_value) kv.value = it->second.value;
      if (op.options.ignore_lease) kv.lease = it->second.lease;
    }
    run.working[op.key] = kv;
    run.events.push_back(mvcc::Event{mvcc::Event::Type::kPut, kv, std::nullopt});
    return out;
  }

  mvcc::DeleteResult del(const DeleteOp& op, Run& run) const {
    int64_t rev = revision() + 1;
    mvcc::DeleteResult out;
    for (auto it = run.working.begin(); it != run.working.end();) {
      if (!in(op.range, it->first)) {
        ++it;
        continue;
      }
      ++out.deleted;
      if (op.prev_kv) out.prev_kvs.push_back(it->second);
      mvcc::KeyValue gone{it->first, 0, rev, 0, "", 0};
      run.events.push_back(mvcc::Event{mvcc::Event::Type::kDelete, gone, std::nullopt});
      it = run.working.erase(it);
    }
    out.revision = seen(run);
    return out;
  }

  std::vector<State> states_{State{}};  // states_[r - 1]: the store at revision r
  int64_t compact_ = 0;
};

}  // namespace etcdlab::txn::testing
