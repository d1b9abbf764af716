// etcd 3.4's membership rules (server/node/membership.h), as pure functions of the leader's
// Raft status and the member list: each test names the rule and the etcd error it answers.
#include "../node/membership.h"

#include <gtest/gtest.h>

#include "../node/api_error.h"

namespace etcdlab::server {
namespace {

using Kind = MemberChange::Kind;

Member member(NodeId id, bool started = true, bool learner = false) {
  std::string n = std::to_string(id);
  return Member{id, started ? "m" + n : "", {"http://10.0.0." + n + ":2380"}, {}, learner};
}

// The leader 1's view: voters 1..3 (all replicating unless told), members started.
struct View {
  RaftStatus status;
  std::vector<Member> members;

  View() {
    status.id = 1;
    status.last_index = 100;
    for (NodeId id : {1, 2, 3}) {
      status.conf.voters.push_back(id);
      members.push_back(member(id));
      if (id != 1) status.progress[id] = {100, 101, ProgressStatus::State::kReplicate, false};
    }
  }
  AdmittedChange admit(const MemberChange& c) const {
    return server::admit(c, 1, status, members, "tok");
  }
  // The error admit() answers, as "code: message" (or "admitted").
  std::string refusal(const MemberChange& c) const {
    try {
      admit(c);
      return "admitted";
    } catch (const ApiError& e) {
      return std::to_string(static_cast<int>(e.code())) + ": " + e.what();
    }
  }
};

MemberChange add(std::vector<std::string> urls, bool learner = false) {
  MemberChange c;
  c.kind = Kind::kAdd;
  c.peer_urls = std::move(urls);
  c.learner = learner;
  c.salt = "1";
  return c;
}

MemberChange of(Kind kind, NodeId id, std::vector<std::string> urls = {}) {
  MemberChange c;
  c.kind = kind;
  c.id = id;
  c.peer_urls = std::move(urls);
  return c;
}

const std::string kInvalidArgument = "3: ";
const std::string kNotFound = "5: ";
const std::string kFailedPrecondition = "9: ";
const std::string kUnavailable = "14: ";

TEST(MembershipRules, AddGivesANewVoterAnIdFromItsUrlsAndTheSalt) {
  View v;
  AdmittedChange a = v.admit(add({"http://10.0.0.9:2380"}));
  EXPECT_EQ(a.type, ConfChange::Type::kAddVoter);
  EXPECT_EQ(a.member.id, member_id_of({"http://10.0.0.9:2380"}, "tok:1"));
  EXPECT_EQ(a.member.peer_urls, std::vector<std::string>{"http://10.0.0.9:2380"});
  EXPECT_TRUE(a.member.name.empty()) << "a new member is named when it publishes";
  MemberChange later = add({"http://10.0.0.9:2380"});
  later.salt = "2";
  EXPECT_NE(v.admit(later).member.id, a.member.id) << "added again later: another id";
  MemberChange named = add({"http://10.0.0.9:2380"});
  named.new_id = 42;
  EXPECT_EQ(v.admit(named).member.id, 42u);
}

TEST(MembershipRules, AddRefusesBadOrTakenPeerUrls) {
  View v;
  using namespace rpctypes;
  EXPECT_EQ(v.refusal(add({})), kInvalidArgument + kBadMemberUrls);
  EXPECT_EQ(v.refusal(add({"not a url"})), kInvalidArgument + kBadMemberUrls);
  EXPECT_EQ(v.refusal(add({"http://10.0.0.9"})), kInvalidArgument + kBadMemberUrls) << "no port";
  EXPECT_EQ(v.refusal(add({"http://10.0.0.2:2380"})), kFailedPrecondition + kPeerUrlExists);
  EXPECT_EQ(v.refusal(add({"127.0.0.1:2390"})), "admitted") << "http:// is assumed";
  EXPECT_EQ(v.refusal(add({"http://localhost:2390"})), "admitted");
  // Host names, as etcd takes them (issue 23): resolved when dialled, not refused here.
  EXPECT_EQ(v.refusal(add({"http://node4.example:2380"})), "admitted");
  EXPECT_EQ(v.refusal(add({"http://[::1]:2391"})), "admitted");
  EXPECT_EQ(v.refusal(add({"http://bad host:2380"})), kInvalidArgument + kBadMemberUrls);
}

TEST(MembershipRules, AddVoterNeedsAStartedQuorumAfterTheAddition) {
  View v;
  using namespace rpctypes;
  v.members[1].name.clear();  // member 2 has not published: 2 of 4 started, quorum 3
  EXPECT_EQ(v.refusal(add({"http://10.0.0.9:2380"})), kFailedPrecondition + kNotEnoughStarted);
  EXPECT_EQ(v.refusal(add({"http://10.0.0.9:2380"}, /*learner=*/true)), "admitted")
      << "a learner does not count toward quorum";
  View single;
  single.status.conf.voters = {1};
  single.status.progress.clear();
  single.members = {member(1)};
  EXPECT_EQ(single.refusal(add({"http://10.0.0.9:2380"})), "admitted")
      << "one started member may add a second";
}

TEST(MembershipRules, AddVoterNeedsTheLeaderReplicatingToEveryVoter) {
  View v;
  using namespace rpctypes;
  v.status.progress[3].state = ProgressStatus::State::kProbe;
  EXPECT_EQ(v.refusal(add({"http://10.0.0.9:2380"})), kUnavailable + kUnhealthy);
}

TEST(MembershipRules, OneLearnerAtATime) {
  View v;
  using namespace rpctypes;
  v.status.conf.learners = {4};
  v.members.push_back(member(4, true, true));
  EXPECT_EQ(v.refusal(add({"http://10.0.0.9:2380"}, true)),
            kFailedPrecondition + kTooManyLearners);
}

TEST(MembershipRules, AnIdAlreadyInUseIsRefused) {
  View v;
  MemberChange c = add({"http://10.0.0.9:2380"});
  c.new_id = 2;
  EXPECT_EQ(v.refusal(c), kFailedPrecondition + rpctypes::kMemberExists);
}

TEST(MembershipRules, RemoveNeedsTheMemberAndAStartedReachableQuorumWithoutIt) {
  View v;
  using namespace rpctypes;
  EXPECT_EQ(v.refusal(of(Kind::kRemove, 9)), kNotFound + kMemberNotFound);
  AdmittedChange a = v.admit(of(Kind::kRemove, 3));
  EXPECT_EQ(a.type, ConfChange::Type::kRemoveNode);
  EXPECT_EQ(a.member.id, 3u);
  // Without 3: voters 1 and 2 must both be started and reachable.
  v.members[1].name.clear();
  EXPECT_EQ(v.refusal(of(Kind::kRemove, 3)), kFailedPrecondition + kNotEnoughStarted);
  v.members[1].name = "m2";
  v.status.progress[2].state = ProgressStatus::State::kProbe;
  EXPECT_EQ(v.refusal(of(Kind::kRemove, 3)), kUnavailable + kUnhealthy);
  EXPECT_EQ(v.refusal(of(Kind::kRemove, 2)), "admitted") << "the unreachable one may go";
}

TEST(MembershipRules, RemovingALearnerSkipsTheQuorumChecks) {
  View v;
  v.status.conf.learners = {4};
  v.members.push_back(member(4, false, true));
  v.status.progress[2].state = ProgressStatus::State::kProbe;
  v.status.progress[3].state = ProgressStatus::State::kProbe;
  EXPECT_EQ(v.refusal(of(Kind::kRemove, 4)), "admitted");
}

TEST(MembershipRules, UpdateChangesOnlyThePeerUrls) {
  View v;
  using namespace rpctypes;
  EXPECT_EQ(v.refusal(of(Kind::kUpdate, 9, {"http://10.0.0.9:2380"})),
            kNotFound + kMemberNotFound);
  EXPECT_EQ(v.refusal(of(Kind::kUpdate, 2, {"http://10.0.0.3:2380"})),
            kFailedPrecondition + kPeerUrlExists)
      << "another member's URL";
  EXPECT_EQ(v.refusal(of(Kind::kUpdate, 2, {"http://10.0.0.2:2380"})), "admitted")
      << "its own URL again";
  AdmittedChange a = v.admit(of(Kind::kUpdate, 2, {"http://10.0.0.22:2380"}));
  EXPECT_EQ(a.type, ConfChange::Type::kUpdateNode);
  EXPECT_EQ(a.member.name, "m2");
  EXPECT_EQ(a.member.peer_urls, std::vector<std::string>{"http://10.0.0.22:2380"});
}

TEST(MembershipRules, PromoteOnlyALearnerInSyncWithTheLeader) {
  View v;
  using namespace rpctypes;
  v.status.conf.learners = {4};
  v.members.push_back(member(4, true, true));
  EXPECT_EQ(v.refusal(of(Kind::kPromote, 9)), kNotFound + kMemberNotFound);
  EXPECT_EQ(v.refusal(of(Kind::kPromote, 2)), kFailedPrecondition + kNotLearner);
  v.status.progress[4] = {89, 90, ProgressStatus::State::kReplicate, true};
  EXPECT_EQ(v.refusal(of(Kind::kPromote, 4)), kFailedPrecondition + kLearnerNotReady)
      << "89 < 90% of 100";
  v.status.progress[4].match = 90;
  AdmittedChange a = v.admit(of(Kind::kPromote, 4));
  EXPECT_EQ(a.type, ConfChange::Type::kAddVoter);
  EXPECT_FALSE(a.member.learner);
}

TEST(MembershipRules, ALearnerOfAOneVoterClusterIsNotPromoted) {
  View v;
  v.status.conf.voters = {1};
  v.status.progress.clear();
  v.members = {member(1), member(4, true, true)};
  v.status.conf.learners = {4};
  v.status.progress[4] = {100, 101, ProgressStatus::State::kReplicate, true};
  EXPECT_EQ(v.refusal(of(Kind::kPromote, 4)),
            kFailedPrecondition + rpctypes::kPromoteSingleVoter)
      << "its promotion would commit on the leader alone; restarted before it hears, the "
         "learner never votes and no leader is ever elected";
}

TEST(MembershipRules, ClientUrlsAreNeverPartOfAChange) {
  View v;
  v.members[1].client_urls = {"http://10.0.0.2:2379"};
  EXPECT_TRUE(v.admit(of(Kind::kUpdate, 2, {"http://10.0.0.22:2380"})).member.client_urls.empty());
}

TEST(MembershipIds, MemberIdsIgnoreUrlOrderAndDependOnTheToken) {
  EXPECT_EQ(member_id_of({"http://a:1", "http://b:2"}, "t"),
            member_id_of({"http://b:2", "http://a:1"}, "t"));
  EXPECT_NE(member_id_of({"http://a:1"}, "t"), member_id_of({"http://a:1"}, "u"));
  EXPECT_EQ(cluster_id_of({3, 1, 2}), cluster_id_of({1, 2, 3}));
  EXPECT_NE(member_id_of({}, ""), 0u) << "0 is no member";
}

}  // namespace
}  // namespace etcdlab::server
