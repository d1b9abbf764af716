// Lab 2, part B: proposals forwarded by followers reach the leader as kPropose messages; the
// leader appends exactly the entries they carry.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {

TEST(ReplicationRules, AForwardedProposalWithoutEntriesAppendsNothing) {
  Script s({1, 2, 3});
  s.elect(1);
  uint64_t last = s.status(1).last_index;
  Message p;
  p.type = MessageType::kPropose;
  p.from = 2;
  p.to = 1;
  s.step(p);  // no entries: nothing to append (a peer's message is input, not a promise)
  EXPECT_EQ(s.status(1).last_index, last) << s.trail();
  p.entries = {Entry{0, 0, EntryType::kNormal, "x"}};
  s.step(p);
  s.stabilize();
  EXPECT_EQ(s.status(1).last_index, last + 1) << s.trail();
  EXPECT_EQ(data_of(s.applied(2)), std::vector<std::string>{"x"}) << s.trail();
}

}  // namespace etcdlab::lab2
