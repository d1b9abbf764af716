// Reference Raft: step() -- every message goes through here. Terms are handled once, for every
// role; then vote requests are answered, and everything else goes to the role's handler.
#include <fmt/format.h>

#include "etcdlab/broken.h"
#include "raft_impl.h"

namespace etcdlab {
namespace {

bool is_vote_request(MessageType t) {
  return t == MessageType::kVote || t == MessageType::kPreVote;
}

bool from_leader(MessageType t) {
  return t == MessageType::kAppend || t == MessageType::kHeartbeat || t == MessageType::kSnapshot;
}

}  // namespace

void Raft::Impl::step(const Message& m) {
  if (ETCDLAB_BROKEN("reset-timer-on-every-message") && m.term != 0) election_elapsed = 0;
  if (m.term == 0) {
    // Term-less: a proposal, read or transfer request forwarded by a follower.
  } else if (m.term > term) {
    if (is_vote_request(m.type)) {
      bool force = m.context == "transfer" && !ETCDLAB_BROKEN("transfer-vote-ignored");
      bool in_lease =
          config.check_quorum && lead != kNoNode && election_elapsed < config.election_ticks;
      if (ETCDLAB_BROKEN("leader-adopts-ignored-vote-term") && role == Role::kLeader) {
        in_lease = false;  // the bug: the leader forgets its own lease
      }
      if (!force && in_lease) {
        // We heard from a live leader less than an election timeout ago: this candidate is
        // probably partitioned or disruptive. Ignore it without adopting its term (§9.6).
        note("node {} ignored a {} from {} at term {}: leader {} is alive", id, to_string(m.type),
             m.from, m.term, lead);
        return;
      }
    }
    if (m.type == MessageType::kPreVote) {
      // A pre-vote never changes our term.
    } else if (m.type == MessageType::kPreVoteResponse && !m.reject) {
      // The pre-vote was granted at the future term we asked about; our term moves only when
      // the real election starts.
    } else {
      become_follower(m.term, from_leader(m.type) ? m.from : kNoNode);
    }
  } else if (m.term < term) {
    if (ETCDLAB_BROKEN("count-stale-vote") && m.type == MessageType::kVoteResponse &&
        role == Role::kCandidate) {
      poll(m.from, !m.reject, false);  // the bug: a vote of an older term counted
      return;
    }
    if ((config.check_quorum || config.pre_vote) &&
        (m.type == MessageType::kHeartbeat || m.type == MessageType::kAppend)) {
      // A stale leader (perhaps cut off and back): tell it our term so it steps down. Without
      // this, with pre-vote on, it would keep its term and nobody could elect past it.
      Message resp;
      resp.type = MessageType::kAppendResponse;
      resp.to = m.from;
      send(std::move(resp));
    } else if (m.type == MessageType::kPreVote && !ETCDLAB_BROKEN("stale-prevote-ignored")) {
      Message resp;
      resp.type = MessageType::kPreVoteResponse;
      resp.to = m.from;
      resp.reject = true;
      send(std::move(resp));
    }
    return;  // everything else from an older term is stale
  }

  if (is_vote_request(m.type)) {
    handle_vote_request(m);
    return;
  }
  switch (role) {
    case Role::kLeader:
      step_leader(m);
      break;
    case Role::kCandidate:
    case Role::kPreCandidate:
      step_candidate(m);
      break;
    case Role::kFollower:
      step_follower(m);
      break;
  }
}

void Raft::Impl::handle_vote_request(const Message& m) {
  bool pre = m.type == MessageType::kPreVote;
  // We can vote for m.from if we already did in this term, or have voted for nobody and know
  // of no leader; a pre-vote for a future term is always considered.
  bool can_vote = vote == m.from || (vote == kNoNode && lead == kNoNode) || (pre && m.term > term);
  // A learner that is asked votes like anyone (etcd does too). Candidates only ask the voters of
  // their configuration, so the candidate has applied a promotion this learner has not: the
  // promotion may have committed without reaching it, and if the leader then fails, the
  // remaining majority of the new configuration needs this vote to elect anyone. The same holds
  // for a new member that has not applied its own addition yet: it votes too.
  if (ETCDLAB_BROKEN("learner-refuses-votes")) can_vote = can_vote && !tracker.is_learner(id);
  if (ETCDLAB_BROKEN("non-voter-refuses-votes")) can_vote = can_vote && tracker.is_voter(id);
  bool up_to_date =
      log.is_up_to_date(m.index, m.log_term) || ETCDLAB_BROKEN("vote-without-log-check");
  Message resp;
  resp.type = pre ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;
  resp.to = m.from;
  if (can_vote && up_to_date) {
    // The response carries the term of the request (for a pre-vote, the future term), so the
    // candidate counts it.
    resp.term = m.term;
    note("node {} granted {} to {} at term {}", id, to_string(m.type), m.from, m.term);
    if (!pre) {
      election_elapsed = 0;
      vote = m.from;
    }
  } else {
    resp.term = term;
    resp.reject = true;
  }
  send(std::move(resp));
}

}  // namespace etcdlab
