// Lab 2, parts C and D: what a node restarting from its storage makes of it.
#include <gtest/gtest.h>

#include <stdexcept>

#include "etcdlab/errors.h"
#include "raft_script.h"

namespace etcdlab::lab2 {

// A crash between installing a received snapshot and saving the hard state that came with it
// leaves a storage whose hard state commits less than the snapshot holds.
TEST(SnapshotRules, ASnapshotInTheStorageIsCommittedWhateverTheHardStateSays) {
  Script s({1, 2, 3});
  SnapshotMeta meta{5, 1, ConfState{{1, 2, 3}, {}}};
  auto w = s.storage(1).begin_snapshot(meta);
  w->write("state@5");
  w->commit();
  s.storage(1).set_hard_state({1, kNoNode, 0});
  s.restart(1);
  EXPECT_EQ(s.commit(1), 5u) << "entries up to a snapshot's index are committed by definition"
                             << s.trail();
  EXPECT_EQ(s.status(1).applied, 5u)
      << "and applied (the snapshot is the state machine)" << s.trail();
}

TEST(PersistenceRules, ACommitIndexPastTheRestoredLogIsFatal) {
  Script s({1, 2, 3});
  s.storage(1).append({Entry{1, 1, EntryType::kNormal, "a"}, Entry{2, 1, EntryType::kNormal, "b"}});
  s.storage(1).set_hard_state({1, kNoNode, 5});
  bool refused = false;
  try {
    s.restart(1);
  } catch (const Unimplemented&) {
    throw;  // not a refusal: the part is not written yet
  } catch (const std::exception& e) {
    refused = true;
    s.note(std::string("restart refused: ") + e.what());
  }
  EXPECT_TRUE(refused)
      << "the hard state commits 5 but the log ends at 2: an earlier Ready persisted a commit "
         "beyond its log (or the log was lost). Starting anyway would hand out entries that "
         "are not there; clamping would hide the bug (README, part C)"
      << s.trail();
}

}  // namespace etcdlab::lab2
