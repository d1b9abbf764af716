#pragma once
// The server's node (server/node/kv_node.h) as the logic of a simulated node: what
// etcdlab.Cluster(kv=True) runs, and what the simulated suites of the server's node test. The
// MVCC store is in memory (":memory:"): a simulated crash destroys it and the node rebuilds it
// from its Raft snapshot and log, as kv_node.h describes.
//
// Credentials. A client's payload is an encoded request (requests.h); a version-2 payload
// with a stamp names the client's user in the stamp's `user` (its revision is ignored): it
// is passed as the TLS certificate's user (Credentials::cert_user), and the node stamps the
// entry itself. A payload without a stamp is an anonymous client, as before auth existed.
//
// Clients call the node as the JSON gateway does, and are told what the gateway would answer
// (kv_outputs.h): a write is KvNode::submit(), a linearizable read is KvNode::read_index()
// then a range on the store, a serializable read is a range at once, a membership change is
// KvNode::change_member() under etcd's rules. An error the node answers before anything
// reached the log with "unavailable" (no leader) sends the client elsewhere; any other error
// before the log is final (failed); an error after it (timed out) leaves the outcome unknown.
//
// Members are named n<id>, with peer URLs http://10.0.0.<id>:2380 and client URLs
// http://10.0.0.<id>:2379; a new cluster's members are its first log entries, as the server
// bootstraps one.

#include <cstdint>
#include <functional>
#include <vector>

#include "auto_compactor.h"
#include "kv_node.h"
#include "etcdlab/sim/node_logic.h"

namespace etcdlab::sim {

struct KvSimOptions {
  uint64_t quota_bytes = 0;  // a put past it raises NOSPACE (0: no quota)
  // Called on every member after each batch of committed entries is applied (the auth
  // checkers of sim/tests/kv_auth_sim_test.cc watch every member's applied state with it).
  std::function<void(NodeId, const std::vector<Entry>&, server::KvNode&)> applied;
  server::AutoCompaction auto_compaction;
  int request_timeout_ms = 0;      // 0: etcd's (5 s plus two election timeouts)
  int64_t compaction_batch = 1000;  // revisions removed per compaction step
};

// A factory for ClusterOptions::node_logic.
NodeLogicFactory kv_node_logic(const KvSimOptions& options = {});

// The KvNode inside a node logic made by kv_node_logic() (nullptr for any other, or none).
const server::KvNode* kv_node_of(const NodeLogic* logic);
server::KvNode* kv_node_of(NodeLogic* logic);  // to call it (a watch stream's client)

// The URLs a simulated member has (index: the node's index; its Raft id is index + 1).
std::string sim_peer_url(NodeId id);
std::string sim_client_url(NodeId id);

}  // namespace etcdlab::sim
