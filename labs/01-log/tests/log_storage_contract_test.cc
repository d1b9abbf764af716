// The LogStorage contract (log_storage.h), checked on both implementations: MemoryStorage
// (lab 1, part A) and WalStorage on the simulated disk (part E). Each test names the rule it
// checks.
#include <gtest/gtest.h>

#include "etcdlab/errors.h"
#include "etcdlab/fs/sim_file_system.h"
#include "etcdlab/log/log_storage.h"
#include "etcdlab/log/wal_storage.h"
#include "log_test_util.h"

namespace etcdlab::lab1 {

// Makes a fresh storage of one kind; WalStorage lives on its own simulated disk.
template <typename T>
struct Fresh;

template <>
struct Fresh<MemoryStorage> {
  std::unique_ptr<LogStorage> make() { return std::make_unique<MemoryStorage>(); }
};

template <>
struct Fresh<WalStorage> {
  SimFileSystem fs;
  std::unique_ptr<LogStorage> make() {
    return WalStorage::open(fs, "data", WalStorageOptions{WalOptions{8192, true}, 2});
  }
};

template <typename T>
class LogStorageContract : public ::testing::Test {
 protected:
  void SetUp() override { storage = fresh.make(); }
  Fresh<T> fresh;
  std::unique_ptr<LogStorage> storage;
};

struct StorageNames {
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, MemoryStorage> ? "MemoryStorage" : "WalStorage";
  }
};
using StorageTypes = ::testing::Types<MemoryStorage, WalStorage>;
TYPED_TEST_SUITE(LogStorageContract, StorageTypes, StorageNames);

TYPED_TEST(LogStorageContract, EmptyLogStartsAtIndexOne) {
  LogStorage& s = *this->storage;
  EXPECT_EQ(s.first_index(), 1u);
  EXPECT_EQ(s.last_index(), 0u) << "an empty log's last index is the snapshot's (0)";
  EXPECT_EQ(s.term(0), 0u) << "term(snapshot index) is the snapshot's term, 0 with none";
  EXPECT_TRUE(s.hard_state().empty());
  EXPECT_TRUE(s.entries(1, 1, 100).empty()) << "entries(lo, lo) is an empty range";
  EXPECT_EQ(s.open_snapshot(), nullptr) << "no snapshot yet";
}

TYPED_TEST(LogStorageContract, AppendThenReadBack) {
  LogStorage& s = *this->storage;
  s.append({});
  EXPECT_EQ(s.last_index(), 0u) << "appending no entries changes nothing";
  s.append(make_entries(1, 6, 1));
  EXPECT_EQ(s.last_index(), 5u);
  EXPECT_EQ(s.term(3), 1u);
  auto got = s.entries(2, 5, ~0ULL);
  ASSERT_EQ(got.size(), 3u) << "entries(2, 5) is the half-open range [2, 5)";
  EXPECT_EQ(got.front(), make_entries(2, 3, 1)[0]);
  EXPECT_EQ(got.back().index, 4u);
}

TYPED_TEST(LogStorageContract, AppendReplacesConflictingSuffix) {
  LogStorage& s = *this->storage;
  s.append(make_entries(1, 6, 1));
  s.append(make_entries(3, 5, 2));  // a new leader overwrote 3 and 4; 5 is gone with them
  EXPECT_EQ(s.last_index(), 4u) << "the replaced suffix must not survive past the new entries";
  EXPECT_EQ(s.term(2), 1u);
  EXPECT_EQ(s.term(3), 2u);
  EXPECT_EQ(s.term(4), 2u);
}

TYPED_TEST(LogStorageContract, AppendRejectsAGap) {
  LogStorage& s = *this->storage;
  s.append(make_entries(1, 3, 1));
  EXPECT_THROW(s.append(make_entries(4, 5, 1)), std::invalid_argument) << "index 3 is missing";
  EXPECT_EQ(s.last_index(), 2u) << "a rejected append changes nothing";
  auto bad = make_entries(3, 5, 1);
  bad[1].index = 5;
  EXPECT_THROW(s.append(bad), std::invalid_argument) << "entries must be consecutive";
  s.append(make_entries(3, 7, 1));
  s.begin_snapshot({4, 1, {{1}, {}}})->commit();
  EXPECT_THROW(s.append(make_entries(3, 5, 2)), std::invalid_argument)
      << "a start below first_index() (5) would overwrite what the snapshot covers";
  EXPECT_EQ(s.last_index(), 6u);
}

TYPED_TEST(LogStorageContract, EntriesRespectMaxBytesButReturnAtLeastOne) {
  LogStorage& s = *this->storage;
  s.append(make_entries(1, 11, 1, std::string(100, 'x')));
  uint64_t one = entry_size(make_entries(1, 2, 1, std::string(100, 'x'))[0]);
  EXPECT_EQ(s.entries(1, 11, 3 * one).size(), 3u);
  EXPECT_EQ(s.entries(1, 11, 3 * one + 1).size(), 3u);
  EXPECT_EQ(s.entries(1, 11, 1).size(), 1u) << "always at least one entry, or nothing progresses";
  EXPECT_EQ(s.entries(1, 11, ~0ULL).size(), 10u);
}

TYPED_TEST(LogStorageContract, OutOfRangeReadsThrowTheNamedErrors) {
  LogStorage& s = *this->storage;
  s.append(make_entries(1, 4, 1));
  EXPECT_THROW(s.term(4), UnavailableError);
  EXPECT_THROW(s.entries(2, 5, ~0ULL), UnavailableError) << "hi may be at most last_index() + 1";
  auto w = s.begin_snapshot({2, 1, {{1, 2, 3}, {}}});
  w->commit();
  EXPECT_THROW(s.term(1), CompactedError);
  EXPECT_THROW(s.entries(1, 3, ~0ULL), CompactedError);
}

TYPED_TEST(LogStorageContract, HardStateIsKept) {
  LogStorage& s = *this->storage;
  s.set_hard_state({3, 2, 1});
  EXPECT_EQ(s.hard_state(), (HardState{3, 2, 1}));
  s.sync();  // nothing to do in memory, but part of the contract
}

TYPED_TEST(LogStorageContract, SnapshotCompactsTheLogItCovers) {
  LogStorage& s = *this->storage;
  s.append(make_entries(1, 11, 1));
  SnapshotMeta meta{7, 1, {{1, 2, 3}, {}}};
  auto w = s.begin_snapshot(meta);
  w->write("state-");
  w->write("at-7");
  EXPECT_EQ(s.first_index(), 1u) << "nothing changes before commit()";
  w->commit();
  EXPECT_EQ(s.snapshot(), meta);
  EXPECT_EQ(s.first_index(), 8u);
  EXPECT_EQ(s.last_index(), 10u) << "entries after the snapshot stay";
  EXPECT_EQ(s.term(7), 1u) << "the snapshot's term answers for its index";
  auto r = s.open_snapshot();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->meta(), meta);
  EXPECT_EQ(r->size(), 10u);
  EXPECT_EQ(r->read(0, 100), "state-at-7");
  EXPECT_EQ(r->read(6, 2), "at");
  EXPECT_EQ(r->read(10, 5), "") << "nothing at the end of the payload";
  EXPECT_EQ(r->read(100, 5), "") << "nor past it";
}

TYPED_TEST(LogStorageContract, InstalledSnapshotReplacesADisagreeingLog) {
  LogStorage& s = *this->storage;
  s.append(make_entries(1, 11, 1));
  // The leader's snapshot at index 5 has term 3: this log's entry 5 (term 1) is not in it.
  s.begin_snapshot({5, 3, {{1, 2, 3}, {}}})->commit();
  EXPECT_EQ(s.first_index(), 6u);
  EXPECT_EQ(s.last_index(), 5u) << "entries after a disagreeing snapshot must be dropped";
  s.append(make_entries(6, 8, 3));
  EXPECT_EQ(s.last_index(), 7u);
}

TYPED_TEST(LogStorageContract, SnapshotBeyondTheLogEmptiesIt) {
  LogStorage& s = *this->storage;
  s.append(make_entries(1, 4, 1));
  s.begin_snapshot({20, 4, {{1}, {}}})->commit();
  EXPECT_EQ(s.first_index(), 21u);
  EXPECT_EQ(s.last_index(), 20u);
  EXPECT_EQ(s.term(20), 4u);
}

TYPED_TEST(LogStorageContract, OlderSnapshotIsRefused) {
  LogStorage& s = *this->storage;
  s.append(make_entries(1, 11, 1));
  auto w = s.begin_snapshot({8, 1, {{1}, {}}});
  w->write("state at 8");
  w->commit();
  EXPECT_THROW(s.begin_snapshot({5, 1, {{1}, {}}})->commit(), std::invalid_argument);
  auto same = s.begin_snapshot({8, 1, {{1}, {}}});
  same->write("another state at 8");
  EXPECT_THROW(same->commit(), std::invalid_argument);
  EXPECT_EQ(s.snapshot().index, 8u);
  EXPECT_EQ(s.open_snapshot()->read(0, 100), "state at 8")
      << "a refused snapshot changes nothing, the current payload included (a file of the same "
         "name must not be replaced before the refusal)";
}

TYPED_TEST(LogStorageContract, SnapshotReaderOutlivesANewerSnapshot) {
  LogStorage& s = *this->storage;
  s.append(make_entries(1, 11, 1));
  auto w = s.begin_snapshot({4, 1, {{1}, {}}});
  w->write("old");
  w->commit();
  auto old_reader = s.open_snapshot();
  auto w2 = s.begin_snapshot({9, 1, {{1}, {}}});
  w2->write("new");
  w2->commit();
  EXPECT_EQ(old_reader->read(0, 10), "old") << "a reader in use keeps its snapshot's bytes";
  EXPECT_EQ(s.open_snapshot()->read(0, 10), "new");
}

TYPED_TEST(LogStorageContract, AbandonedSnapshotChangesNothing) {
  LogStorage& s = *this->storage;
  s.append(make_entries(1, 6, 1));
  {
    auto w = s.begin_snapshot({3, 1, {{1}, {}}});
    w->write("never committed");
  }
  EXPECT_EQ(s.first_index(), 1u);
  EXPECT_EQ(s.open_snapshot(), nullptr);
}

}  // namespace etcdlab::lab1
