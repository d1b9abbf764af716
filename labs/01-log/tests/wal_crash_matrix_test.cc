// Lab 1, part C (crash safety): a random workload of appends, overwrites, hard states and syncs
// on the simulated disk, crashed after every step in each way a disk can lose data. After each
// crash the reopened WAL must hold a prefix of the records written that includes every record
// that was synced: nothing synced lost, nothing torn or unsynced beyond the cut, no garbage;
// and it must take appends again.
#include <gtest/gtest.h>

#include <optional>

#include "etcdlab/fs/sim_file_system.h"
#include "etcdlab/log/wal.h"
#include "etcdlab/testing/seeds.h"
#include "log_test_util.h"

namespace etcdlab::lab1 {
namespace {

// One call on the WAL. Each append call writes its records in one write.
struct Op {
  enum class Kind { kAppend, kHardState, kSync } kind;
  std::vector<Entry> entries;
  HardState state;
};

// The state a prefix of the records describes (the replay rules of wal.h, without snapshots).
struct Model {
  std::vector<Entry> entries;
  HardState state;
  void apply_entry(const Entry& e) {
    while (!entries.empty() && entries.back().index >= e.index) entries.pop_back();
    entries.push_back(e);
  }
};

std::vector<Op> random_workload(Rng& rng) {
  std::vector<Op> ops;
  uint64_t last = 0, term = 1, committed = 0;
  size_t n = rng.uniform(15, 30);
  for (size_t i = 0; i < n; ++i) {
    switch (rng.uniform(0, 5)) {
      case 0:
      case 1:
      case 2: {  // append 1-4 entries, sometimes overwriting an uncommitted suffix
        uint64_t start = last + 1;
        if (last > committed && rng.chance(0.25)) {
          start = rng.uniform(committed + 1, last);
          term++;
        }
        Op op{Op::Kind::kAppend, {}, {}};
        size_t count = rng.uniform(1, 4);
        for (size_t k = 0; k < count; ++k) {
          // Sizes from empty to several sectors, so records straddle sector boundaries.
          std::string data =
              rng.chance(0.1) ? std::string(rng.uniform(600, 2500), 'L') : random_data(rng, 120);
          op.entries.push_back({start + k, term, EntryType::kNormal, data});
        }
        last = start + count - 1;
        ops.push_back(std::move(op));
        break;
      }
      case 3: {
        committed = std::max(committed, rng.uniform(committed, last));
        ops.push_back({Op::Kind::kHardState, {}, {term, rng.uniform(1, 3), committed}});
        break;
      }
      default:
        ops.push_back({Op::Kind::kSync, {}, {}});
        break;
    }
  }
  return ops;
}

// The model after each prefix of the records, one entry per record (index 0: nothing).
std::vector<Model> models_by_record(const std::vector<Op>& ops, size_t upto,
                                    size_t* synced_records) {
  std::vector<Model> out{Model{}};
  *synced_records = 0;
  for (size_t i = 0; i < upto; ++i) {
    const Op& op = ops[i];
    if (op.kind == Op::Kind::kSync) *synced_records = out.size() - 1;
    if (op.kind == Op::Kind::kAppend) {
      for (const Entry& e : op.entries) {
        out.push_back(out.back());
        out.back().apply_entry(e);
      }
    }
    if (op.kind == Op::Kind::kHardState) {
      out.push_back(out.back());
      out.back().state = op.state;
    }
  }
  return out;
}

void run(Wal& wal, const Op& op) {
  switch (op.kind) {
    case Op::Kind::kAppend:
      wal.append_entries(op.entries);
      break;
    case Op::Kind::kHardState:
      wal.append_hard_state(op.state);
      break;
    case Op::Kind::kSync:
      wal.sync();
      break;
  }
}

void check_crash_at_every_step(CrashMode mode, size_t seed_count) {
  testing::for_each_seed(seed_count, [&](uint64_t seed) {
    Rng rng(seed);
    std::vector<Op> ops = random_workload(rng);
    WalOptions options{rng.uniform(1500, 6000), rng.chance(0.5)};
    for (size_t step = 0; step <= ops.size(); ++step) {
      SCOPED_TRACE("crash after step " + std::to_string(step) + " of " +
                   std::to_string(ops.size()) + " (" + to_string(mode) + ", segment " +
                   std::to_string(options.segment_bytes) +
                   (options.preallocate ? " bytes, preallocated)" : " bytes)"));
      SimFileSystem fs;
      {
        auto wal = Wal::open(fs, "wal", options);
        for (size_t i = 0; i < step; ++i) run(*wal, ops[i]);
      }
      fs.crash(seed * 1000 + step, mode);

      size_t synced = 0;
      std::vector<Model> models = models_by_record(ops, step, &synced);
      std::unique_ptr<Wal> wal;
      ASSERT_NO_THROW(wal = Wal::open(fs, "wal", options))
          << "recovery must not fail after a crash";
      const WalContents& got = wal->replayed();
      std::optional<size_t> match;
      for (size_t k = synced; k < models.size() && !match; ++k) {
        if (models[k].entries == got.entries && models[k].state == got.hard_state) match = k;
      }
      ASSERT_TRUE(match.has_value())
          << "the recovered log is no prefix of what was written that keeps every synced record ("
          << synced << " synced of " << models.size() - 1
          << ").\n  recovered: " << describe(got.entries) << " " << to_string(got.hard_state)
          << "\n  synced:    " << describe(models[synced].entries) << " "
          << to_string(models[synced].state) << "\n  written:   " << describe(models.back().entries)
          << " " << to_string(models.back().state);

      // The log must take appends again, and keep them across a clean reopen.
      Entry next{models[*match].entries.empty() ? 1 : models[*match].entries.back().index + 1, 99,
                 EntryType::kNormal, "after-recovery"};
      wal->append_entries(std::vector<Entry>{next});
      wal->sync();
      wal.reset();
      auto reopened = Wal::open(fs, "wal", options);
      ASSERT_FALSE(reopened->replayed().entries.empty());
      EXPECT_EQ(reopened->replayed().entries.back(), next);
    }
  });
}

}  // namespace

TEST(WalCrashMatrix, DropUnsyncedKeepsEverythingSynced) {
  check_crash_at_every_step(CrashMode::kDropUnsynced, 25);
}

TEST(WalCrashMatrix, RandomPrefixOfUnsyncedWrites) {
  check_crash_at_every_step(CrashMode::kRandomPrefix, 25);
}

TEST(WalCrashMatrix, TornLastWrite) {
  check_crash_at_every_step(CrashMode::kTornWrite, 40);
}

TEST(WalCrashMatrix, AnyMixOfLosses) {
  check_crash_at_every_step(CrashMode::kAny, 25);
}

}  // namespace etcdlab::lab1
