#pragma once
// A deterministic world for the lock recipe's tests: one in-memory store, leases as sets of
// keys, and contenders each driving a LockRecipe one step at a time. The world plays the
// member: a txn is lab 5's execute(), a range is the store's, a wait for a deletion is a
// watch from a revision (the store's history, so a deletion that happened before the wait
// began is seen). Nothing runs unless a test says so: the schedule is the test's.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "etcdlab/mvcc/store.h"
#include "etcdlab/txn/lock.h"
#include "etcdlab/txn/txn.h"

namespace etcdlab::txn::testing {

class LockWorld {
 public:
  struct Contender {
    int64_t lease = 0;
    std::optional<LockRecipe> recipe;
    LockStep step;
    bool started = false;
    bool held = false;
    bool failed = false;
    std::string error;
    int64_t token = 0;
  };

  LockWorld() : store_(mvcc::KvStore::open()) {}

  mvcc::KvStore& store() { return *store_; }

  // A new contender for `name` with a session of its own (a lease that exists).
  int add(const std::string& name, int64_t lease) {
    leases_.insert(lease);
    Contender c;
    c.lease = lease;
    c.recipe.emplace(name, lease);
    contenders_.push_back(std::move(c));
    return static_cast<int>(contenders_.size()) - 1;
  }
  Contender& at(int i) { return contenders_.at(static_cast<size_t>(i)); }

  // Runs contender i until it holds, fails, or waits for a deletion that has not happened.
  void run(int i) {
    Contender& c = at(i);
    if (!c.started) {
      c.started = true;
      c.step = c.recipe->start();
    }
    for (int guard = 0; guard < 1000; ++guard) {
      switch (c.step.kind) {
        case LockStep::Kind::kTxn: {
          std::vector<mvcc::Event> events;
          TxnResult r;
          try {
            r = execute(*store_, c.step.txn, [&](int64_t l) { return leases_.count(l) > 0; },
                        &events);
          } catch (const LeaseMissing& e) {  // the session ended before it asked
            c.failed = true;
            c.error = e.what();
            return;
          }
          for (const auto& e : events) {
            if (e.type == mvcc::Event::Type::kPut && e.kv.lease != 0) keys_[e.kv.lease].insert(e.kv.key);
          }
          c.step = c.recipe->on_txn(r);
          break;
        }
        case LockStep::Kind::kRange:
          c.step = c.recipe->on_range(store_->range(c.step.range, c.step.options));
          break;
        case LockStep::Kind::kWaitDelete: {
          if (!deleted_since(c.step.key, c.step.from_revision)) return;  // still waiting
          c.step = c.recipe->on_deleted();
          break;
        }
        case LockStep::Kind::kHeld:
          c.held = true;
          c.token = c.recipe->revision();
          return;
        case LockStep::Kind::kFailed:
          c.failed = true;
          c.error = c.step.error;
          return;
      }
    }
    ADD_FAILURE() << "contender " << i << " took 1000 steps without waiting or finishing";
  }

  // Runs every contender that can move until none can.
  void settle() {
    for (int round = 0; round < 100; ++round) {
      bool moved = false;
      for (int i = 0; i < static_cast<int>(contenders_.size()); ++i) {
        Contender& c = at(i);
        if (!c.started || c.held || c.failed) continue;
        LockStep before = c.step;
        run(i);
        moved |= c.held || c.failed || before.kind != c.step.kind || before.key != c.step.key;
      }
      if (!moved) return;
    }
  }

  // The holder releases (etcd's Unlock: delete the owner key).
  void release(int i) {
    Contender& c = at(i);
    store_->delete_range(mvcc::KeyRange{c.recipe->key(), ""});
    c.held = false;
  }
  // The session's lease expires: its keys go, in one write (as a revoke).
  void expire(int i) {
    Contender& c = at(i);
    leases_.erase(c.lease);
    mvcc::Write w = store_->write();
    for (const auto& key : keys_[c.lease]) w.delete_range(mvcc::KeyRange{key, ""});
    w.end();
    keys_.erase(c.lease);
  }

  // Whose key exists now, among those that believe they hold the lock.
  std::vector<int> live_holders() {
    std::vector<int> out;
    for (int i = 0; i < static_cast<int>(contenders_.size()); ++i) {
      Contender& c = at(i);
      if (c.held && !store_->range(mvcc::KeyRange{c.recipe->key(), ""}).kvs.empty()) out.push_back(i);
    }
    return out;
  }

 private:
  bool deleted_since(const std::string& key, int64_t from) {
    if (from > store_->revision()) return false;
    for (const auto& e : store_->events_since(from, mvcc::KeyRange{key, ""}, false)) {
      if (e.type == mvcc::Event::Type::kDelete) return true;
    }
    return false;
  }

  std::unique_ptr<mvcc::KvStore> store_;
  std::set<int64_t> leases_;
  std::map<int64_t, std::set<std::string>> keys_;
  std::vector<Contender> contenders_;
};

}  // namespace etcdlab::txn::testing
