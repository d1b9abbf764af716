// Lab 4, part A (everything at once): a randomized differential test. Grants (ids negative and
// positive, TTLs below the minimum and above the maximum), revokes, puts with and without
// leases, deletes, ticks, promotes and demotes, keep-alives, expiry with lost revokes, reads,
// and restarts of the lessor run on a member and on a tiny model (lessor_model.h) under a
// random configuration. Every answer, errors included, the lease table and the store's keys
// must be the model's.
#include <gtest/gtest.h>

#include <deque>

#include "etcdlab/random.h"
#include "etcdlab/testing/seeds.h"
#include "lease_test_util.h"
#include "lessor_model.h"

namespace etcdlab::lab4 {
namespace {

template <typename T>
std::string text(const T& value) {
  return describe(value);
}
inline std::string text(const std::string& value) {
  return value;
}
inline std::string text(int64_t value) {
  return std::to_string(value);
}
inline std::string text(bool value) {
  return value ? "true" : "false";
}
inline std::string text(const std::vector<LeaseRow>& rows) {
  std::string out;
  for (const auto& r : rows)
    out += (out.empty() ? "" : " ") + std::to_string(r.id) + ":" + std::to_string(r.ttl);
  return out;
}

// Runs the same call on the lessor and on the model: both must throw the same error, or both
// answer the same (compared as text, so a failure shows both).
template <typename LessorFn, typename ModelFn>
void same(const std::string& what, LessorFn&& on_lessor, ModelFn&& on_model) {
  auto answer = [](auto&& fn) -> std::string {
    try {
      return text(fn());
    } catch (const LeaseError& e) {
      return std::string("error: ") + e.what();
    }
  };
  std::string lessor_answer = answer(on_lessor);
  std::string model_answer = answer(on_model);
  ASSERT_EQ(lessor_answer, model_answer) << what;
}

class Workload {
 public:
  explicit Workload(uint64_t seed) : rng_(seed), cfg_(random_config()), m_(cfg_), model_(cfg_) {}

  void step() {
    uint64_t op = rng_.uniform(0, 99);
    if (op < 12) {
      LeaseId id = some_id();
      int64_t ttl = some_ttl();
      doing("grant " + std::to_string(id) + " ttl " + std::to_string(ttl));
      same(
          trail(), [&] { return m_.lessor->grant(id, ttl); },
          [&] { return model_.grant(id, ttl); });
    } else if (op < 18) {
      revoke(some_id());
    } else if (op < 38) {
      std::string k = some_key();
      LeaseId lease = rng_.chance(0.3) ? kNoLease : some_id();
      doing("put " + k + " lease " + std::to_string(lease));
      bool exists = lease == kNoLease || m_.lessor->exists(lease);
      ASSERT_EQ(exists, lease == kNoLease || model_.exists(lease))
          << "exists(" << lease << ")" << trail();
      if (!exists) return;  // the node refuses the put: "requested lease not found"
      m_.put(k, lease);
      model_.put(k, lease);
    } else if (op < 44) {
      std::string a = some_key(), b = some_key();
      KeyRange r = rng_.chance(0.5) ? key(a) : KeyRange{std::min(a, b), std::max(a, b)};
      doing("delete [" + r.key + ", " + r.range_end + ")");
      for (const auto& kv : m_.store->range(r).kvs) model_.erase(kv.key);
      m_.del(r);
    } else if (op < 62) {
      auto n = static_cast<int64_t>(rng_.uniform(1, 25));
      doing("tick x" + std::to_string(n));
      for (int64_t i = 0; i < n; ++i) {
        m_.lessor->tick();
        model_.tick();
      }
    } else if (op < 66) {
      if (model_.primary() && rng_.chance(0.6)) {
        doing("demote");
        m_.lessor->demote();
        model_.demote();
      } else {
        auto extend = static_cast<int64_t>(rng_.uniform(0, 20));
        doing("promote extend " + std::to_string(extend));
        m_.lessor->promote(extend);
        model_.promote(extend);
      }
    } else if (op < 76) {
      if (!model_.primary()) return;  // keep-alives go to the leader
      LeaseId id = some_id();
      doing("renew " + std::to_string(id));
      same(
          trail(), [&] { return m_.lessor->renew(id); }, [&] { return model_.renew(id); });
    } else if (op < 86) {
      doing("expired");
      std::vector<LeaseId> got = m_.lessor->expired();
      std::string problem = model_.accept_expired(got);
      ASSERT_EQ(problem, "") << "expired() answered " << describe(got) << trail();
      for (LeaseId id : got) {
        if (rng_.chance(0.7)) revoke(id);  // the node's revoke; the others are lost on the way
        if (::testing::Test::HasFatalFailure()) return;
      }
    } else if (op < 95) {
      LeaseId id = some_id();
      bool with_keys = rng_.chance(0.5);
      doing("info " + std::to_string(id) + (with_keys ? " with keys" : ""));
      same(
          trail(), [&] { return m_.lessor->info(id, with_keys); },
          [&] { return model_.info(id, with_keys); });
      std::string k = some_key();
      same(
          trail() + " lease_of " + k, [&] { return m_.lessor->lease_of(k); },
          [&] { return model_.lease_of(k); });
    } else {
      doing("reopen");
      m_.reopen();
      model_.reopen();
      same(
          trail(), [&] { return m_.lessor->primary(); }, [&] { return model_.primary(); });
    }
    if (::testing::Test::HasFatalFailure()) return;
    same(
        trail() + "\nthen leases()", [&] { return m_.lessor->leases(); },
        [&] { return model_.leases(); });
    same(
        trail() + "\nthen the lease table", [&] { return m_.table.load(); },
        [&] { return model_.rows(); });
    ASSERT_EQ(store_keys(*m_.store), model_.store_keys()) << "the store's keys" << trail();
  }

 private:
  LessorConfig random_config() {
    LessorConfig c = config(std::vector<int>{100, 200, 250, 500, 1000}[rng_.uniform(0, 4)]);
    c.min_ttl_seconds = static_cast<int64_t>(rng_.uniform(1, 3));
    c.max_revokes_per_tick = rng_.uniform(1, 4);
    c.expired_retry_ticks = static_cast<int64_t>(rng_.uniform(1, 40));
    return c;
  }
  LeaseId some_id() {
    LeaseId id = static_cast<LeaseId>(rng_.uniform(0, 8)) - 2;  // -2 .. 6
    return id == kNoLease ? 7 : id;
  }
  int64_t some_ttl() {
    if (rng_.chance(0.03)) return kMaxTtlSeconds + static_cast<int64_t>(rng_.uniform(0, 1));
    return static_cast<int64_t>(rng_.uniform(0, 9)) - 1;  // -1 .. 8 seconds
  }
  std::string some_key() { return std::string(1, static_cast<char>('a' + rng_.uniform(0, 5))); }

  void revoke(LeaseId id) {
    doing("revoke " + std::to_string(id));
    int64_t before = m_.store->revision();
    same(
        trail(),
        [&] {
          int64_t r = m_.lessor->revoke(id, *m_.store);
          return std::string(r == 0            ? "no revision"
                             : r == before + 1 ? "revision +1"
                                               : "revision " + std::to_string(r)) +
                 ", store revision +" + std::to_string(m_.store->revision() - before);
        },
        [&] {
          bool any = !model_.revoke(id).empty();
          return std::string(any ? "revision +1, store revision +1"
                                 : "no revision, store revision +0");
        });
  }

  void doing(std::string what) {
    steps_.push_back("step " + std::to_string(count_++) + ": " + std::move(what));
    if (steps_.size() > 12) steps_.pop_front();
  }
  std::string trail() const {
    std::string out = "\nlast steps (tick " + std::to_string(cfg_.tick_ms) + " ms, min TTL " +
                      std::to_string(cfg_.min_ttl_seconds) + " s, at most " +
                      std::to_string(cfg_.max_revokes_per_tick) + " per expired(), retry after " +
                      std::to_string(cfg_.expired_retry_ticks) + " ticks):";
    for (const auto& s : steps_) out += "\n  " + s;
    return out;
  }

  Rng rng_;
  LessorConfig cfg_;
  Member m_;
  LessorModel model_;
  std::deque<std::string> steps_;
  int count_ = 0;
};

}  // namespace

TEST(LeaseDifferential, MatchesTheModel) {
  testing::for_each_seed(30, [](uint64_t seed) {
    Workload run(seed);
    for (int i = 0; i < 500; ++i) {
      run.step();
      if (::testing::Test::HasFatalFailure()) return;
    }
  });
}

}  // namespace etcdlab::lab4
