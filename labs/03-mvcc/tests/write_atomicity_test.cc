// Lab 3, part C: a write outside a batch commits in one transaction of its own, so a process
// killed in the middle of it leaves all of the write or none of it, never some of its keys.
#include <gtest/gtest.h>

#include "kill_vfs.h"
#include "mvcc_test_util.h"

namespace etcdlab::lab3 {

TEST(Restart, KilledAtAnyWriteAWriteOutsideABatchIsAllOrNothing) {
  // A child opens the store, writes five keys in one Write (no batch) and is killed right
  // after its n-th write to SQLite's WAL, for n = 1, 2, ... until it gets through.
  const std::vector<std::string> keys{"k1", "k2", "k3", "k4", "k5"};
  for (int n = 1; n <= 200; ++n) {
    SCOPED_TRACE("killed right after WAL write " + std::to_string(n));
    TempDir dir;
    std::string path = dir.file("kv.db");
    file_store(path);  // the schema exists before the write under test
    int status = 0;
    kill_vfs::Outcome outcome = kill_vfs::run_killed_after(
        n,
        [&] {
          auto s = file_store(path);
          Write w = s->write();
          for (const std::string& k : keys) w.put(k, "v", 0);
          w.end();
        },
        status);
    ASSERT_NE(outcome, kill_vfs::Outcome::kFailed)
        << "the child failed on its own (status " << status << ")";
    bool finished = outcome == kill_vfs::Outcome::kFinished;
    auto s = file_store(path);
    if (s->revision() == 1) {
      EXPECT_EQ(s->key_count(), 0) << "none of the write";
      EXPECT_FALSE(finished) << "the child ended its write, but the write is not there";
      continue;
    }
    EXPECT_EQ(s->revision(), 2);
    EXPECT_EQ(s->key_count(), 5) << "a write that is there is there whole: put its rows in one "
                                 << "transaction";
    EXPECT_EQ(read(*s, everything()).size(), keys.size());
    if (finished) return;
    if (::testing::Test::HasFailure()) return;
  }
  FAIL() << "one write of five keys made more than 200 writes to the WAL";
}

}  // namespace etcdlab::lab3
