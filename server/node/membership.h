#pragma once
// etcd 3.4's rules for changing the membership (etcdserver's AddMember, RemoveMember,
// UpdateMember, PromoteMember and the membership checks behind them), as pure functions of
// what the leader knows: its Raft status (configuration, followers' progress) and the member
// list. KvNode calls admit() before it proposes a configuration change; the same rules run in
// the server and in the simulator.
//
// Member and cluster ids are derived as etcd derives them: a hash of the sorted peer URLs and
// the cluster token (member), of the sorted member ids (cluster).

#include <cstdint>
#include <string>
#include <vector>

#include "etcdlab/raft/config.h"
#include "etcdlab/types.h"
#include "state_machine.h"

namespace etcdlab::server {

// A membership request as a client asks it (member/add|remove|update|promote).
struct MemberChange {
  enum class Kind { kAdd, kRemove, kUpdate, kPromote };
  Kind kind = Kind::kAdd;
  NodeId id = kNoNode;                 // remove, update, promote
  std::vector<std::string> peer_urls;  // add, update
  bool learner = false;                // add
  // add: the new member's id. 0: derived from its peer URLs and `salt` (the server passes a
  // time, so a member added again after removal gets a new id); the simulator names its own.
  NodeId new_id = kNoNode;
  std::string salt;
};

// A change the rules allow: the configuration change to propose and the member it concerns
// (with the peer URLs it will have; client URLs are never part of the change).
struct AdmittedChange {
  ConfChange::Type type = ConfChange::Type::kAddVoter;
  Member member;
};

// Checks `change` against etcd's rules on the leader `self`. Throws ApiError with etcd's code
// and text: member not found, peer URLs exist or invalid, too many learners, not enough
// started members, unhealthy cluster (a voter the leader is not replicating to), not a
// learner, learner not in sync (its match below 90% of the leader's last index).
AdmittedChange admit(const MemberChange& change, NodeId self, const RaftStatus& status,
                     const std::vector<Member>& members, const std::string& cluster_token);

// Whether `url` is a peer URL this store can dial: [http[s]://]host:port with an IP address or
// a host name (as etcd's; the runtime resolves names when it dials).
bool valid_member_url(const std::string& url);

uint64_t member_id_of(const std::vector<std::string>& peer_urls, const std::string& token);
uint64_t cluster_id_of(std::vector<uint64_t> member_ids);

}  // namespace etcdlab::server
