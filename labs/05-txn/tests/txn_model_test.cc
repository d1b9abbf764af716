// Part B, everything at once: random txns (nested, compares of every target and operator with
// and without their own operand, over keys and ranges, ranges with revisions, limits and
// options, puts with leases, prev_kv, ignore_value and ignore_lease, deletes of keys and
// ranges) on random stores (leases, deletes, compactions), run by execute() and by a small
// model (txn_model.h). Results, sub-response revisions, errors, events and the store after
// each txn must be the same.
//
// The txns are not validated first: execute()'s rules give every txn a meaning (operations
// run in order, on one write), and the generator makes what validate() would refuse (two puts
// of one key, a put in a deleted range) as well as what it accepts.
#include <gtest/gtest.h>

#include "etcdlab/random.h"
#include "etcdlab/testing/seeds.h"
#include "etcdlab/testing/step_trail.h"
#include "txn_model.h"
#include "txn_test_util.h"

namespace etcdlab::txn::testing {
namespace {

// ---- printing: everything compared is compared as text, so a failure shows both sides

std::string printable(std::string_view bytes) {
  std::string out = "\"";
  for (unsigned char ch : bytes) {
    if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
      out += static_cast<char>(ch);
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out + "\"";
}

std::string describe(const KeyRange& r) {
  if (r.range_end.empty()) return printable(r.key);
  return "[" + printable(r.key) + ", " + printable(r.range_end) + ")";
}

std::string describe(const mvcc::KeyValue& kv) {
  return printable(kv.key) + "=" + printable(kv.value) + " create " +
         std::to_string(kv.create_revision) + " mod " + std::to_string(kv.mod_revision) + " ver " +
         std::to_string(kv.version) + (kv.lease != 0 ? " lease " + std::to_string(kv.lease) : "");
}

std::string describe(const std::vector<mvcc::KeyValue>& kvs) {
  std::string out = "[";
  for (const auto& kv : kvs) out += (out.size() > 1 ? ", " : "") + describe(kv);
  return out + "]";
}

std::string describe(const std::vector<mvcc::Event>& events) {
  std::string out;
  for (const auto& e : events) {
    out += e.type == mvcc::Event::Type::kPut ? "\n  PUT " : "\n  DELETE ";
    out += describe(e.kv);
    if (e.prev_kv) out += " (was " + describe(*e.prev_kv) + ")";
  }
  return out.empty() ? "no events" : out;
}

const char* const kTargets[] = {"version", "create", "mod", "value", "lease"};
const char* const kResults[] = {"=", ">", "<", "!="};

std::string describe(const Compare& c) {
  std::string out = kTargets[static_cast<int>(c.target)];
  out += "(" + describe(KeyRange{c.key, c.range_end}) + ") ";
  out += kResults[static_cast<int>(c.result)];
  out += " " + (c.operand == CompareTarget::kValue ? printable(c.value) : std::to_string(c.number));
  if (c.operand != c.target) {
    out += c.operand ? std::string(" (operand of ") + kTargets[static_cast<int>(*c.operand)] + ")"
                     : " (no operand)";
  }
  return out;
}

std::string describe(const TxnRequest& t, const std::string& indent);

std::string describe(const RequestOp& op, const std::string& indent) {
  if (const auto* r = std::get_if<RangeOp>(&op)) {
    const auto& o = r->options;
    return "get " + describe(r->range) + (o.revision ? " rev " + std::to_string(o.revision) : "") +
           (o.limit ? " limit " + std::to_string(o.limit) : "") + (o.keys_only ? " keys_only" : "") +
           (o.count_only ? " count_only" : "");
  }
  if (const auto* p = std::get_if<PutOp>(&op)) {
    return "put " + printable(p->key) + "=" + printable(p->value) +
           (p->lease ? " lease " + std::to_string(p->lease) : "") +
           (p->options.prev_kv ? " prev_kv" : "") + (p->options.ignore_value ? " ignore_value" : "") +
           (p->options.ignore_lease ? " ignore_lease" : "");
  }
  if (const auto* d = std::get_if<DeleteOp>(&op)) {
    return "del " + describe(d->range) + (d->prev_kv ? " prev_kv" : "");
  }
  return "txn " + describe(*std::get<NestedTxn>(op), indent + "    ");
}

// if [compares]
// then: one operation a line (a nested txn indented below its "txn")
// else: ...
std::string describe(const TxnRequest& t, const std::string& indent) {
  std::string out = "if [";
  for (const Compare& c : t.compare) out += (&c == t.compare.data() ? "" : ", ") + describe(c);
  out += "]";
  for (const auto* list : {&t.success, &t.failure}) {
    out += "\n" + indent + (list == &t.success ? "then:" : "else:");
    for (const RequestOp& op : *list) out += "\n" + indent + "  " + describe(op, indent);
  }
  return out;
}

std::string describe(const TxnResult& r, const std::string& indent = "") {
  std::string out = r.succeeded ? "succeeded" : "failed";
  out += ", revision " + std::to_string(r.revision) + ":";
  for (const ResponseOp& op : r.responses) {
    out += "\n" + indent + "  ";
    if (const auto* g = std::get_if<mvcc::RangeResult>(&op)) {
      out += "range @" + std::to_string(g->revision) + " count " + std::to_string(g->count) +
             (g->more ? " more " : " ") + describe(g->kvs);
    } else if (const auto* p = std::get_if<mvcc::PutResult>(&op)) {
      out += "put @" + std::to_string(p->revision) +
             (p->prev_kv ? " prev " + describe(*p->prev_kv) : "");
    } else if (const auto* d = std::get_if<mvcc::DeleteResult>(&op)) {
      out += "del @" + std::to_string(d->revision) + " deleted " + std::to_string(d->deleted) +
             " prev " + describe(d->prev_kvs);
    } else {
      out += "txn " + describe(*std::get<std::shared_ptr<TxnResult>>(op), indent + "    ");
    }
  }
  return out;
}

std::string contents(const KvStore& s) {
  return describe(s.range(KeyRange{std::string(1, '\0'), std::string(1, '\0')}).kvs);
}
std::string contents(const TxnModel& m) {
  std::vector<mvcc::KeyValue> kvs;
  for (const auto& [k, kv] : m.now()) kvs.push_back(kv);
  return describe(kvs);
}

// ---- random stores and txns

bool lease_exists(int64_t lease) { return lease == 1 || lease == 2; }  // 9 never does

class Generator {
 public:
  Generator(uint64_t seed, const TxnModel& model) : rng_(seed), model_(model) {}

  Rng& rng() { return rng_; }

  std::string key() {
    static const char* const kKeys[] = {"a", "ab", "b", "c", "d", "\xff"};
    return kKeys[rng_.uniform(0, 5)];
  }

  KeyRange range() {
    uint64_t kind = rng_.uniform(0, 9);
    if (kind < 5) return {key(), ""};
    if (kind < 7) {
      std::string a = key(), b = key();
      return rng_.chance(0.9) ? KeyRange{std::min(a, b), std::max(a, b)} : KeyRange{a, b};
    }
    if (kind < 8) return {key(), std::string(1, '\0')};
    std::string p = key();
    return {p, mvcc::prefix_end(p)};
  }

  // A number for a compare of `target`: often a key's own field or next to it, so compares go
  // both ways (and a compare that reads a number meant for another target often goes wrong).
  int64_t number(CompareTarget target) {
    const auto& now = model_.now();
    if (!now.empty() && target != CompareTarget::kValue && rng_.chance(0.6)) {
      auto it = std::next(now.begin(), static_cast<long>(rng_.uniform(0, now.size() - 1)));
      const mvcc::KeyValue& kv = it->second;
      int64_t field = target == CompareTarget::kVersion  ? kv.version
                      : target == CompareTarget::kCreate ? kv.create_revision
                      : target == CompareTarget::kMod    ? kv.mod_revision
                                                         : kv.lease;
      return field + (rng_.chance(0.5) ? 0 : static_cast<int64_t>(rng_.uniform(0, 2)) - 1);
    }
    return static_cast<int64_t>(rng_.uniform(0, static_cast<uint64_t>(model_.revision() + 1)));
  }

  std::string value() {
    const auto& now = model_.now();
    if (!now.empty() && rng_.chance(0.5)) {
      return std::next(now.begin(), static_cast<long>(rng_.uniform(0, now.size() - 1)))->second.value;
    }
    return rng_.chance(0.15) ? "" : "v" + std::to_string(rng_.uniform(0, 9));
  }

  Compare compare() {
    Compare c;
    c.target = static_cast<CompareTarget>(rng_.uniform(0, 4));
    c.result = static_cast<CompareResult>(rng_.uniform(0, 3));
    KeyRange r = range();
    c.key = r.key;
    c.range_end = r.range_end;
    uint64_t operand = rng_.uniform(0, 9);
    c.operand = operand < 8 ? std::optional(c.target)
                : operand < 9 ? std::optional(static_cast<CompareTarget>(rng_.uniform(0, 4)))
                              : std::nullopt;
    // With another target's operand (or none) the compare is against 0, or "": the number is
    // still drawn for the compare's own target, where reading it by mistake shows.
    if (c.operand == CompareTarget::kValue) {
      c.value = value();
    } else if (c.operand) {
      c.number = number(c.target);
    }
    return c;
  }

  RequestOp op(int depth) {
    uint64_t kind = rng_.uniform(0, 99);
    if (kind < 35) {
      RangeOp r;
      r.range = range();
      if (rng_.chance(0.3)) {
        r.options.revision =
            static_cast<int64_t>(rng_.uniform(0, static_cast<uint64_t>(model_.revision() + 4))) - 2;
      }
      if (rng_.chance(0.2)) r.options.limit = static_cast<int64_t>(rng_.uniform(1, 3));
      r.options.keys_only = rng_.chance(0.1);
      r.options.count_only = rng_.chance(0.1);
      return r;
    }
    if (kind < 70) {
      PutOp p;
      p.key = key();
      p.options.prev_kv = rng_.chance(0.4);
      p.options.ignore_value = rng_.chance(0.12);
      p.options.ignore_lease = rng_.chance(0.12);
      if (!p.options.ignore_value) p.value = "v" + std::to_string(rng_.uniform(0, 9));
      if (!p.options.ignore_lease && rng_.chance(0.4)) {
        p.lease = rng_.chance(0.9) ? static_cast<int64_t>(rng_.uniform(1, 2)) : 9;
      }
      return p;
    }
    if (kind < 85 || depth >= 2) {
      DeleteOp d;
      d.range = range();
      d.prev_kv = rng_.chance(0.5);
      return d;
    }
    return std::make_shared<const TxnRequest>(txn(depth + 1));
  }

  TxnRequest txn(int depth = 0) {
    TxnRequest t;
    uint64_t most = depth == 0 ? 4 : 2;
    for (uint64_t n = rng_.uniform(0, 3); n > 0; --n) t.compare.push_back(compare());
    for (uint64_t n = rng_.uniform(0, most); n > 0; --n) t.success.push_back(op(depth));
    for (uint64_t n = rng_.uniform(0, most); n > 0; --n) t.failure.push_back(op(depth));
    return t;
  }

 private:
  Rng rng_;
  const TxnModel& model_;
};

// The answer of one side: the result and its events, or the error it threw.
template <typename F>
std::string answer(F&& run) {
  std::vector<mvcc::Event> events;
  try {
    TxnResult r = run(&events);
    return describe(r) + "\nevents: " + describe(events);
  } catch (const mvcc::MvccError& e) {
    return std::string("error: ") + e.what();
  } catch (const LeaseMissing& e) {
    return std::string("error: ") + e.what() + " (lease " + std::to_string(e.lease()) + ")";
  }
}

void run(uint64_t seed, int txns) {
  TxnModel model;
  Generator g(seed, model);
  auto store = KvStore::open();
  ::etcdlab::testing::StepTrail trail(4);
  auto same_store = [&](const std::string& after) {
    ASSERT_EQ(store->revision(), model.revision()) << "the store's revision after " << after;
    ASSERT_EQ(contents(*store), contents(model)) << "the store's keys after " << after;
  };
  // A store with some history: puts (with leases), deletes of keys and ranges.
  for (uint64_t n = g.rng().uniform(3, 12); n > 0; --n) {
    RequestOp op;
    if (g.rng().chance(0.75)) {
      op = put(g.key(), "v" + std::to_string(g.rng().uniform(0, 9)),
               static_cast<int64_t>(g.rng().uniform(0, 2)));
    } else {
      KeyRange r = g.range();
      op = del(r.key, r.range_end);
    }
    const auto* p = std::get_if<PutOp>(&op);
    if (p != nullptr) {
      store->put(p->key, p->value, p->lease);
    } else {
      store->delete_range(std::get<DeleteOp>(op).range);
    }
    model.write(op);
    trail.add("setup: " + describe(op, ""));
  }
  ASSERT_NO_FATAL_FAILURE(same_store("the setup"));
  for (int step = 0; step < txns; ++step) {
    SCOPED_TRACE(trail.text());
    if (g.rng().chance(0.08) && model.revision() > model.compact_revision()) {
      int64_t c = model.compact_revision() + 1 +
                  static_cast<int64_t>(g.rng().uniform(
                      0, static_cast<uint64_t>(model.revision() - model.compact_revision() - 1)));
      store->compact(c);
      while (!store->compaction_step()) {
      }
      model.compact(c);
      trail.add("step " + std::to_string(step) + ": compact " + std::to_string(c));
      continue;
    }
    TxnRequest t = g.txn();
    std::string what = "step " + std::to_string(step) + ", on revision " +
                       std::to_string(model.revision()) + " (compacted at " +
                       std::to_string(model.compact_revision()) + ") holding " + contents(model) +
                       ": txn " + describe(t, "  ");
    std::string got = answer([&](auto* events) { return execute(*store, t, lease_exists, events); });
    std::string want = answer([&](auto* events) { return model.execute(t, lease_exists, events); });
    ASSERT_EQ(got, want) << what;
    ASSERT_NO_FATAL_FAILURE(same_store(what));
    // One line per step in the trail: the store it ran on and the whole txn are in a failure.
    std::string outcome = want.substr(0, want.find('\n'));
    if (outcome.ends_with(':')) outcome.pop_back();
    trail.add("step " + std::to_string(step) + ": a txn: " + outcome);
  }
}

TEST(TxnRandom, ExecuteMatchesTheModel) {
  ::etcdlab::testing::for_each_seed(::etcdlab::testing::seed_count(60, 2000),
                                    [](uint64_t seed) { run(seed, 40); });
}

}  // namespace
}  // namespace etcdlab::txn::testing
