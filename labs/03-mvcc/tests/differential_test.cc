// Lab 3, part D (it needs every part): a randomized differential test. Random puts (with every
// option), deletes, multi-operation writes with reads inside them, ranges with random options
// at random revisions, compactions and their steps, events_since, hash_kv and snapshot
// round trips run on the store and on a tiny model that keeps the whole history
// (mvcc_model.h). Every answer, error codes included, must be the same.
#include <gtest/gtest.h>

#include "etcdlab/random.h"
#include "etcdlab/testing/seeds.h"
#include "etcdlab/testing/step_trail.h"
#include "mvcc_model.h"
#include "mvcc_test_util.h"

namespace etcdlab::lab3 {
namespace {

std::string describe(const PutResult& r) {
  return "revision=" + std::to_string(r.revision) +
         " prev=" + (r.prev_kv ? mvcc::describe(*r.prev_kv) : "none");
}

std::string describe(const DeleteResult& r) {
  std::string out = "revision=" + std::to_string(r.revision) +
                    " deleted=" + std::to_string(r.deleted) + " prev=[";
  for (const auto& kv : r.prev_kvs) out += mvcc::describe(kv) + " ";
  return out + "]";
}

std::string describe(const std::vector<Event>& events) {
  std::string out = "[";
  for (const auto& e : events) out += mvcc::describe(e) + "\n ";
  return out + "]";
}

using mvcc::describe;

// Runs the same request on the store and on the model: both must fail with the same code, or
// both succeed with the same answer (compared as text, so a failure shows both).
template <typename StoreFn, typename ModelFn>
void same(const std::string& what, StoreFn&& on_store, ModelFn&& on_model) {
  std::optional<MvccError::Code> store_error, model_error;
  std::string store_answer, model_answer;
  try {
    store_answer = describe(on_store());
  } catch (const MvccError& e) {
    store_error = e.code();
    store_answer = std::string("error: ") + e.what();
  }
  try {
    model_answer = describe(on_model());
  } catch (const MvccError& e) {
    model_error = e.code();
    model_answer = std::string("error: ") + e.what();
  }
  ASSERT_EQ(store_answer, model_answer) << what;
}

class Workload {
 public:
  explicit Workload(uint64_t seed) : rng_(seed) {}

  std::string some_key() {
    static const char kChars[] = {'a', 'b', 'c', '\xff'};
    std::string k(1, kChars[rng_.uniform(0, 3)]);
    if (rng_.chance(0.5)) k += kChars[rng_.uniform(0, 3)];
    return k;
  }

  KeyRange some_range() {
    switch (rng_.uniform(0, 9)) {
      case 0:
        return everything();
      case 1:
        return from(some_key());
      case 2:
        return span(some_key(), prefix_end(some_key()));
      case 3:
      case 4: {
        std::string a = some_key(), b = some_key();
        return rng_.chance(0.8) ? span(std::min(a, b), std::max(a, b)) : span(a, b);
      }
      case 5:
        return rng_.chance(0.3) ? key("") : key(some_key());
      default:
        return key(some_key());
    }
  }

  int64_t some_revision(const Model& m) {
    if (rng_.chance(0.3)) return 0;
    int64_t lo = std::max<int64_t>(1, m.compact_revision() - 1);
    return lo + static_cast<int64_t>(rng_.uniform(0, static_cast<uint64_t>(m.revision() + 1 - lo)));
  }

  RangeOptions some_options(const Model& m) {
    RangeOptions o;
    o.limit = static_cast<int64_t>(rng_.uniform(0, 5)) - 1;
    o.revision = some_revision(m);
    o.sort_order = static_cast<SortOrder>(rng_.uniform(0, 2));
    o.sort_target = static_cast<SortTarget>(rng_.uniform(0, 4));
    o.keys_only = rng_.chance(0.2);
    o.count_only = rng_.chance(0.1);
    if (rng_.chance(0.2)) {
      auto r = [&] {
        return static_cast<int64_t>(rng_.uniform(0, static_cast<uint64_t>(m.revision())));
      };
      o.min_mod_revision = r();
      o.max_mod_revision = r();
      o.min_create_revision = rng_.chance(0.5) ? r() : 0;
      o.max_create_revision = rng_.chance(0.5) ? r() : 0;
    }
    return o;
  }

  PutOptions some_put_options() {
    PutOptions o;
    o.prev_kv = rng_.chance(0.4);
    o.ignore_value = rng_.chance(0.1);
    o.ignore_lease = rng_.chance(0.1);
    return o;
  }

  std::string some_value(const PutOptions& o) {
    if (o.ignore_value && rng_.chance(0.8)) return "";
    return "v" + std::to_string(rng_.uniform(0, 999));
  }

  int64_t some_lease(const PutOptions& o) {
    if (o.ignore_lease && rng_.chance(0.8)) return 0;
    return static_cast<int64_t>(rng_.uniform(0, 3));
  }

  Rng& rng() { return rng_; }

 private:
  Rng rng_;
};

void one_step(Workload& g, std::unique_ptr<KvStore>& s, Model& m, int64_t batch,
              const std::string& what, std::string& done);

void run(uint64_t seed, int steps) {
  Workload g(seed);
  auto batch = static_cast<int64_t>(g.rng().uniform(1, 6));
  auto s = memory_store(batch);
  Model m;
  testing::StepTrail trail;
  for (int step = 0; step < steps; ++step) {
    SCOPED_TRACE(trail.text());  // every failure in this step shows the steps before it
    std::string what = "step " + std::to_string(step) + ": ";
    std::string done = what + "?";  // what this step did, for the trail
    try {
      one_step(g, s, m, batch, what, done);
    } catch (const std::exception& e) {
      FAIL() << done << " threw: " << e.what();
    }
    if (::testing::Test::HasFatalFailure()) return;
    trail.add(done);
    ASSERT_EQ(s->revision(), m.revision()) << what;
    ASSERT_EQ(s->compact_revision(), m.compact_revision()) << what;
    ASSERT_EQ(s->key_count(), m.key_count()) << what;
  }
}

// One random operation on the store and the model; `done` says what it was.
void one_step(Workload& g, std::unique_ptr<KvStore>& s, Model& m, int64_t batch,
              const std::string& what, std::string& done) {
  {
    uint64_t op = g.rng().uniform(0, 99);
    if (op < 30) {
      std::string k = g.rng().chance(0.05) ? "" : g.some_key();
      PutOptions o = g.some_put_options();
      std::string v = g.some_value(o);
      int64_t lease = g.some_lease(o);
      std::string label = what + "put " + printable(k) + " " + printable(v);
      done = label;
      same(
          label, [&] { return s->put(k, v, lease, o); }, [&] { return m.put(k, v, lease, o); });
    } else if (op < 40) {
      KeyRange r = g.some_range();
      bool prev = g.rng().chance(0.5);
      std::string label = what + "delete_range " + describe(r) + (prev ? " prev_kv" : "");
      done = label;
      same(
          label, [&] { return s->delete_range(r, prev); }, [&] { return m.delete_range(r, prev); });
    } else if (op < 50) {
      done = what + "a write of several operations";
      auto w = s->write();
      Model::Write mw(m);
      for (uint64_t n = g.rng().uniform(1, 5); n > 0; --n) {
        uint64_t kind = g.rng().uniform(0, 2);
        if (kind == 0) {
          std::string k = g.some_key();
          PutOptions o = g.some_put_options();
          std::string v = g.some_value(o);
          int64_t lease = g.some_lease(o);
          std::string label = what + "write: put " + printable(k) + " " + printable(v);
          same(
              label, [&] { return w.put(k, v, lease, o); }, [&] { return mw.put(k, v, lease, o); });
        } else if (kind == 1) {
          KeyRange r = g.some_range();
          std::string label = what + "write: delete_range " + describe(r);
          same(
              label, [&] { return w.delete_range(r, true); },
              [&] { return mw.delete_range(r, true); });
        } else {
          KeyRange r = g.some_range();
          RangeOptions o = g.some_options(m);
          if (o.revision == m.revision() + 1 && g.rng().chance(0.5)) o.revision = 0;
          std::string label = what + "write: range " + describe(r) + " " + describe(o);
          same(
              label, [&] { return w.range(r, o); }, [&] { return mw.range(r, o); });
        }
        if (::testing::Test::HasFatalFailure()) return;
      }
      if (g.rng().chance(0.1)) return;  // dropped without end()
      same(
          what + "write: end", [&] { return w.end(); }, [&] { return mw.end(); });
    } else if (op < 70) {
      KeyRange r = g.some_range();
      RangeOptions o = g.some_options(m);
      std::string label = what + "range " + describe(r) + " " + describe(o);
      done = label;
      same(
          label, [&] { return s->range(r, o); }, [&] { return m.range(r, o); });
    } else if (op < 75) {
      int64_t c = m.compact_revision() - 1 +
                  static_cast<int64_t>(g.rng().uniform(
                      0, static_cast<uint64_t>(m.revision() + 2 - m.compact_revision())));
      done = what + "compact " + std::to_string(c);
      same(
          what + "compact " + std::to_string(c),
          [&] {
            s->compact(c);
            return RangeResult{};
          },
          [&] {
            m.compact(c);
            return RangeResult{};
          });
    } else if (op < 85) {
      done = what + "compaction_step";
      s->compaction_step();
    } else if (op < 92) {
      int64_t since = g.some_revision(m);
      KeyRange r = g.some_range();
      if (r.key.empty()) r = everything();
      bool prev = g.rng().chance(0.5);
      std::string label = what + "events_since " + std::to_string(since) + " " + describe(r) +
                          (prev ? " prev_kv" : "");
      done = label;
      same(
          label, [&] { return s->events_since(since, r, prev); },
          [&] { return m.events_since(since, r, prev); });
    } else if (op < 97) {
      int64_t lo = std::max<int64_t>(1, m.compact_revision());
      auto pick = [&] {
        return lo +
               static_cast<int64_t>(g.rng().uniform(0, static_cast<uint64_t>(m.revision() - lo)));
      };
      int64_t r1 = pick(), r2 = pick();
      done = what + "hash_kv " + std::to_string(r1) + " and " + std::to_string(r2);
      bool same_state = m.at(r1) == m.at(r2);
      ASSERT_EQ(s->hash_kv(r1) == s->hash_kv(r2), same_state)
          << what << "hash_kv(" << r1 << ") vs hash_kv(" << r2 << ")";
    } else {
      done = what + "snapshot, restore into a new store";
      std::string image;
      s->snapshot([&](std::string_view c) { image += c; });
      auto t = memory_store(batch);
      bool sent = false;
      t->restore([&] {
        if (sent) return std::string();
        sent = true;
        return image;
      });
      s = std::move(t);
    }
  }
}

}  // namespace

TEST(Differential, MatchesTheFullHistoryModel) {
  testing::for_each_seed(25, [](uint64_t seed) { run(seed, 400); });
}

}  // namespace etcdlab::lab3
