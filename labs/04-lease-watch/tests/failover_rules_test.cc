// Lab 4, part A: the failover rule. The remaining TTL of a lease lives only in the leader's
// clock, so when the leader changes, the new one cannot know how long each lease had left. It
// gives every lease its whole TTL again plus an election timeout (promote): a lease kept alive
// on the old leader never expires early on the new one. (Leases may live longer than their TTL
// across elections; a TTL is a minimum, never a maximum.) Here three members apply the same
// grants, puts and revokes, as the node would from the log; one of them is primary at a time.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "etcdlab/random.h"
#include "etcdlab/testing/seeds.h"
#include "lease_test_util.h"

namespace etcdlab::lab4 {
namespace {

// Members that apply the same entries in the same order. `trail` records what happened, for
// failure messages.
struct Trio {
  explicit Trio(LessorConfig c = config()) {
    for (int i = 0; i < 3; ++i) members.push_back(std::make_unique<Member>(c));
  }
  Lessor& lessor(int i) { return *members[static_cast<size_t>(i)]->lessor; }
  void grant(LeaseId id, int64_t ttl) {
    for (auto& m : members) m->lessor->grant(id, ttl);
  }
  void put(const std::string& k, LeaseId lease) {
    for (auto& m : members) m->put(k, lease);
  }
  void revoke(LeaseId id) {
    for (auto& m : members) m->lessor->revoke(id, *m->store);
  }
  void tick() {
    ++now;
    for (auto& m : members) m->tick();
  }
  void note(const std::string& what) { trail.push_back("t=" + std::to_string(now) + " " + what); }
  std::string last_steps(size_t n = 25) const {
    std::string out = "\nlast steps:";
    for (size_t i = trail.size() > n ? trail.size() - n : 0; i < trail.size(); ++i) {
      out += "\n  " + trail[i];
    }
    return out;
  }

  std::vector<std::unique_ptr<Member>> members;
  int64_t now = 0;
  std::vector<std::string> trail;
};

}  // namespace

TEST(LeaseFailover, AKeptAliveLeaseNeverExpiresEarlyOnTheNewLeader) {
  Trio c;  // 100 ms ticks; the election timeout is 10 ticks
  c.lessor(0).promote(10);
  c.grant(1, 10);  // 100 ticks
  c.put("svc/a", 1);
  // The client keeps the lease alive on member 0, the leader, every 5 s for 30 s.
  for (int t = 1; t <= 300; ++t) {
    c.tick();
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(c.lessor(i).expired().empty())
          << "t=" << t << ": member " << i << " expired a lease kept alive every 50 ticks";
    }
    if (t % 50 == 0) c.lessor(0).renew(1);
  }
  // Member 0 fails right after the keep-alive at t=300. An election takes 8 ticks, then
  // member 1 leads. Its own clock never counted this lease (it was a follower).
  c.lessor(0).demote();
  for (int t = 301; t <= 308; ++t) {
    c.tick();
    ASSERT_TRUE(c.lessor(1).expired().empty()) << "t=" << t << ": during the election";
  }
  c.lessor(1).promote(10);
  for (int t = 309; t < 340; ++t) {
    c.tick();
    ASSERT_TRUE(c.lessor(1).expired().empty())
        << "t=" << t << ": the new leader expired the lease " << t - 300
        << " ticks after its last keep-alive, before its TTL of 100 ticks: it must give every "
           "lease its whole TTL at the promote";
  }
  c.tick();  // t=340: the client's next keep-alive reaches the new leader
  EXPECT_EQ(c.lessor(1).renew(1), 10) << "the new leader keeps the lease alive";
  // The client stops: 100 ticks after its last keep-alive's tick the lease expires, not before.
  EXPECT_EQ(ticks_until_expired(c.lessor(1), 1, 300), 101);
}

TEST(LeaseFailover, ANewLeaderGivesTheWholeTtlEvenToALeaseAboutToExpire) {
  Trio c;
  c.lessor(0).promote(10);
  c.grant(1, 10);  // 100 ticks; never kept alive
  c.put("svc/a", 1);
  for (int t = 1; t <= 90; ++t) c.tick();
  c.lessor(0).demote();  // 10 ticks were left on the old leader's clock
  for (int t = 91; t <= 98; ++t) c.tick();
  c.lessor(2).promote(10);
  for (int t = 99; t <= 105; ++t) {
    c.tick();
    ASSERT_TRUE(c.lessor(2).expired().empty()) << "t=" << t;
  }
  EXPECT_EQ(c.lessor(2).renew(1), 10)
      << "t=105: by the old leader's clock the lease ran out at t=100, but the new leader "
         "cannot know that; it gave the lease 100 + 10 ticks at t=98";
  EXPECT_EQ(ticks_until_expired(c.lessor(2), 1, 300), 101);
}

TEST(LeaseFailover, RandomFailoversNeverExpireAKeptAliveLease) {
  testing::for_each_seed(40, [](uint64_t seed) {
    Rng rng(seed);
    const int tick_ms = std::vector<int>{100, 250, 300}[rng.uniform(0, 2)];
    const auto extend = static_cast<int64_t>(rng.uniform(5, 15));  // an election timeout
    Trio c(config(tick_ms));
    c.note("tick " + std::to_string(tick_ms) + " ms, election timeout " + std::to_string(extend) +
           " ticks");
    struct Client {
      int64_t ttl = 0;       // seconds
      int64_t interval = 0;  // ticks between keep-alives, shorter than the TTL
      int64_t last_ok = 0;   // the tick of the grant or of the last successful keep-alive
      int64_t stops_at = 0;  // the client stops keeping it alive at this tick
      bool revoked = false;
    };
    std::map<LeaseId, Client> clients;
    for (LeaseId id = 1; id <= 4; ++id) {
      Client cl;
      cl.ttl = static_cast<int64_t>(rng.uniform(2, 6));
      int64_t ttl_ticks_floor = cl.ttl * 1000 / tick_ms;  // whole ticks inside the TTL
      cl.interval =
          static_cast<int64_t>(rng.uniform(1, static_cast<uint64_t>(ttl_ticks_floor - 1)));
      cl.stops_at = rng.chance(0.5) ? static_cast<int64_t>(rng.uniform(50, 600)) : 600;
      c.grant(id, cl.ttl);
      c.put("svc/" + std::to_string(id), id);
      clients[id] = cl;
    }
    int primary = static_cast<int>(rng.uniform(0, 2));
    c.lessor(primary).promote(extend);
    c.note("member " + std::to_string(primary) + " promoted");
    int64_t election_ends = 0;
    bool faults = true;

    // Whether `id` has been kept alive for less than its TTL, in milliseconds.
    auto early = [&](LeaseId id) {
      const Client& cl = clients[id];
      return (c.now - cl.last_ok) * tick_ms < cl.ttl * 1000;
    };
    auto step = [&] {
      c.tick();
      if (primary < 0 && c.now >= election_ends) {
        primary = static_cast<int>(rng.uniform(0, 2));
        c.lessor(primary).promote(extend);
        c.note("member " + std::to_string(primary) + " promoted");
      } else if (primary >= 0 && faults && rng.chance(0.01)) {
        if (rng.chance(0.5)) {
          c.members[static_cast<size_t>(primary)]->reopen();  // a crash and restart
          c.note("member " + std::to_string(primary) + " crashed and restarted");
        } else {
          c.lessor(primary).demote();
          c.note("member " + std::to_string(primary) + " stepped down");
        }
        primary = -1;
        election_ends = c.now + static_cast<int64_t>(rng.uniform(1, static_cast<uint64_t>(extend)));
      }
      for (int i = 0; i < 3; ++i) {
        std::vector<LeaseId> expired = c.lessor(i).expired();
        if (i != primary) {
          ASSERT_TRUE(expired.empty()) << "member " << i << " is not the leader and returned "
                                       << describe(expired) << c.last_steps();
          continue;
        }
        for (LeaseId id : expired) {
          ASSERT_FALSE(early(id)) << "lease " << id << " (TTL " << clients[id].ttl
                                  << " s) expired on member " << i << " "
                                  << c.now - clients[id].last_ok
                                  << " ticks after its last keep-alive" << c.last_steps();
          if (faults && rng.chance(0.2)) {
            c.note("revoke of " + std::to_string(id) + " lost");
            continue;  // the proposal was lost: expired() must return it again later
          }
          c.revoke(id);
          clients[id].revoked = true;
          c.note("lease " + std::to_string(id) + " expired and revoked");
        }
      }
      for (auto& [id, cl] : clients) {
        // Due every `interval` ticks; with no leader the client tries again the next tick.
        bool due = c.now - cl.last_ok >= cl.interval;
        if (cl.revoked || c.now >= cl.stops_at || !due || primary < 0) continue;
        try {
          c.lessor(primary).renew(id);
          cl.last_ok = c.now;
          c.note("keep-alive " + std::to_string(id) + " on member " + std::to_string(primary));
        } catch (const LeaseError& e) {
          ASSERT_FALSE(early(id)) << "keep-alive of lease " << id << " refused on member "
                                  << primary << " " << c.now - cl.last_ok
                                  << " ticks after the last one: " << e.what() << c.last_steps();
          cl.stops_at = c.now;  // expired: the client gives up; the revoke is coming
        }
      }
    };
    while (c.now < 600) {
      step();
      if (::testing::Test::HasFatalFailure()) return;
    }
    // The clients stop, the faults too: every lease must now expire, and be revoked.
    faults = false;
    for (auto& [id, cl] : clients) cl.stops_at = std::min<int64_t>(cl.stops_at, c.now);
    int64_t longest = 6000 / tick_ms + 1 + extend + 15;
    for (int64_t t = 0; t < longest + 5 * 30; ++t) {
      step();
      if (::testing::Test::HasFatalFailure()) return;
    }
    for (auto& [id, cl] : clients) {
      EXPECT_TRUE(cl.revoked) << "lease " << id << " was not kept alive after t=" << cl.last_ok
                              << " and never expired" << c.last_steps();
    }
    EXPECT_EQ(store_keys(*c.members[0]->store), "") << "revoked leases leave no keys";
  });
}

}  // namespace etcdlab::lab4
