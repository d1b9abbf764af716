// Lab 3, part C: restart. Closing and reopening a store, or killing the process between
// batches, gives back the same keys, revisions and consistent index: the index is rebuilt from
// the rows, and only a batch that was never committed is lost (whole).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "etcdlab/random.h"
#include "etcdlab/testing/seeds.h"
#include "kill_vfs.h"
#include "mvcc_model.h"
#include "mvcc_test_util.h"

namespace etcdlab::lab3 {
namespace {

std::vector<KeyValue> latest_of(const Model& m) {
  std::vector<KeyValue> out;
  for (const auto& [k, v] : m.at(m.revision())) out.push_back(v);
  return out;
}

}  // namespace

TEST(Restart, ReopenKeepsTheKeysTheRevisionAndTheConsistentIndex) {
  TempDir dir;
  std::string path = dir.file("kv.db");
  std::vector<KeyValue> before;
  {
    auto s = file_store(path);
    s->begin_batch();
    s->put("a", "1", 3);
    s->put("b", "1");
    s->put("a", "2", 3);
    s->commit_batch(10);
    s->begin_batch();
    {
      auto w = s->write();
      w.put("c", "1", 0);
      w.delete_range(key("b"));
      w.put("d", "1", 0);
      w.end();
    }
    s->put("a", "3", 4);
    s->commit_batch(11);
    before = read(*s, everything());
    EXPECT_EQ(s->revision(), 6);
  }
  auto s = file_store(path);
  EXPECT_EQ(s->revision(), 6);
  EXPECT_EQ(s->consistent_index(), 11u);
  EXPECT_EQ(s->key_count(), 3);
  EXPECT_EQ(read(*s, everything()), before);
  EXPECT_EQ(before,
            (std::vector{kv("a", 2, 6, 3, "3", 4), kv("c", 5, 5, 1, "1"), kv("d", 5, 5, 1, "1")}));
  // The generations go on where they were.
  EXPECT_EQ(s->put("a", "4").revision, 7);
  EXPECT_EQ(s->put("b", "2").revision, 8);
  EXPECT_EQ(read(*s, key("a")), std::vector{kv("a", 2, 7, 4, "4")});
  EXPECT_EQ(read(*s, key("b")), std::vector{kv("b", 8, 8, 1, "2")});
}

TEST(Restart, ARevisionThatEndedInADeleteIsStillTheRevision) {
  TempDir dir;
  std::string path = dir.file("kv.db");
  {
    auto s = file_store(path);
    s->put("a", "1");
    s->put("b", "1");
    s->delete_range(span("a", "c"));
  }
  auto s = file_store(path);
  EXPECT_EQ(s->revision(), 4);
  EXPECT_EQ(s->key_count(), 0);
  EXPECT_TRUE(read(*s, everything()).empty());
  s->put("a", "2");
  EXPECT_EQ(read(*s, key("a")), std::vector{kv("a", 5, 5, 1, "2")});
}

TEST(Restart, AKilledProcessLosesOnlyTheBatchItHadOpen) {
  TempDir dir;
  std::string path = dir.file("kv.db");
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child applies three batches and dies in the middle of the fourth: no destructor,
    // no close, no checkpoint.
    try {
      auto s = file_store(path);
      for (int b = 1; b <= 3; ++b) {
        s->begin_batch();
        for (int i = 0; i < 10; ++i) s->put("k" + std::to_string(i), "batch" + std::to_string(b));
        s->delete_range(key("gone" + std::to_string(b - 1)));
        s->put("gone" + std::to_string(b), "x");
        s->commit_batch(static_cast<uint64_t>(100 + b));
      }
      s->begin_batch();
      s->put("k0", "batch4");
      s->put("never", "x");
      ::raise(SIGKILL);
    } catch (...) {
    }
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the child failed before it was killed (status " << status << ")";

  auto s = file_store(path);
  EXPECT_EQ(s->consistent_index(), 103u);
  EXPECT_EQ(s->revision(), 1 + 3 * 12 - 1) << "12 writes per batch, the first delete a no-op";
  EXPECT_EQ(read(*s, key("k0")), std::vector{kv("k0", 2, 25, 3, "batch3")});
  EXPECT_TRUE(read(*s, key("never")).empty());
  EXPECT_EQ(read(*s, key("gone3")).size(), 1u);
  EXPECT_TRUE(read(*s, key("gone2")).empty());
  EXPECT_EQ(s->key_count(), 11);
}

TEST(Restart, KilledAtAnyWriteTheBatchAndItsConsistentIndexStayTogether) {
  // Batch b (1, 2, 3) puts "k" = "batch b" and "b<b>" and commits with consistent index 100 + b.
  // A child process runs them and is killed right after its n-th write to SQLite's WAL, for
  // n = 1, 2, ... until it gets through. Whatever a kill leaves, the consistent index must
  // name exactly the batches whose writes survived: a batch without its index would be
  // applied again from the Raft log, an index without its batch would skip it.
  for (int n = 1; n <= 500; ++n) {
    SCOPED_TRACE("killed right after WAL write " + std::to_string(n));
    TempDir dir;
    std::string path = dir.file("kv.db");
    file_store(path);  // the schema exists before the writes under test
    int status = 0;
    kill_vfs::Outcome outcome = kill_vfs::run_killed_after(
        n,
        [&] {
          auto s = file_store(path);
          for (int b = 1; b <= 3; ++b) {
            s->begin_batch();
            s->put("k", "batch" + std::to_string(b));
            s->put("b" + std::to_string(b), "x");
            s->commit_batch(static_cast<uint64_t>(100 + b));
          }
        },
        status);
    ASSERT_NE(outcome, kill_vfs::Outcome::kFailed)
        << "the child failed on its own (status " << status << ")";
    bool finished = outcome == kill_vfs::Outcome::kFinished;
    auto s = file_store(path);
    uint64_t ci = s->consistent_index();
    int64_t batches = ci == 0 ? 0 : static_cast<int64_t>(ci) - 100;
    ASSERT_TRUE(batches >= 0 && batches <= 3) << "consistent index " << ci;
    EXPECT_EQ(s->revision(), 1 + 2 * batches)
        << "the consistent index says " << batches << " batch(es) were applied, but the store "
        << "holds revision " << s->revision() << ": commit the index in the batch's own "
        << "transaction";
    if (batches > 0) {
      EXPECT_EQ(read(*s, key("k")),
                std::vector{kv("k", 2, 2 * batches, batches, "batch" + std::to_string(batches))});
    }
    if (finished) {
      EXPECT_EQ(ci, 103u);
      EXPECT_GT(n, 3) << "the batches wrote to the WAL";
      return;
    }
  }
  FAIL() << "three small batches made more than 500 writes to the WAL";
}

TEST(Restart, RandomBatchesReopensAndCrashesMatchTheModel) {
  testing::for_each_seed(8, [](uint64_t seed) {
    Rng rng(seed);
    TempDir dir;
    std::string path = dir.file("kv.db");
    auto s = file_store(path);
    Model model;
    Model committed;  // the model at the last point a crash cannot undo
    uint64_t ci = 0;
    auto some_key = [&] { return "key" + std::to_string(rng.uniform(0, 11)); };
    auto check = [&](const std::string& when) {
      SCOPED_TRACE(when);
      ASSERT_EQ(s->revision(), model.revision());
      ASSERT_EQ(s->consistent_index(), ci);
      ASSERT_EQ(s->key_count(), model.key_count());
      ASSERT_EQ(read(*s, everything()), latest_of(model));
    };
    for (int step = 0; step < 60; ++step) {
      if (::testing::Test::HasFatalFailure()) return;
      std::string when = "step " + std::to_string(step);
      bool batch = rng.chance(0.7);
      if (batch) s->begin_batch();
      for (uint64_t n = rng.uniform(1, 6); n > 0; --n) {
        uint64_t op = rng.uniform(0, 9);
        if (op < 6) {
          std::string k = some_key();
          std::string v = "v" + std::to_string(rng.uniform(0, 99));
          auto lease = static_cast<int64_t>(rng.uniform(0, 2));
          ASSERT_EQ(s->put(k, v, lease).revision, model.put(k, v, lease).revision);
        } else if (op < 8) {
          std::string a = some_key(), b = some_key();
          auto r = span(std::min(a, b), std::max(a, b));
          ASSERT_EQ(s->delete_range(r).deleted, model.delete_range(r).deleted);
        } else {
          auto w = s->write();
          Model::Write mw(model);
          for (int i = 0; i < 3; ++i) {
            std::string k = some_key();
            w.put(k, "w" + std::to_string(i), 0);
            mw.put(k, "w" + std::to_string(i), 0, {});
          }
          std::string k = some_key();
          w.delete_range(key(k));
          mw.delete_range(key(k), false);
          ASSERT_EQ(w.end(), mw.end());
        }
      }
      if (batch) {
        if (rng.chance(0.15)) {
          s.reset();  // a crash before the commit: the batch is lost
          model = committed;
          s = file_store(path);
          check(when + ": crash with an open batch, reopen");
          continue;
        }
        ci += rng.uniform(1, 3);
        s->commit_batch(ci);
      }
      committed = model;
      check(when);
      if (rng.chance(0.1)) {
        s.reset();
        s = file_store(path);
        check(when + ": reopen");
      }
    }
  });
}

}  // namespace etcdlab::lab3
