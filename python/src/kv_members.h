#pragma once
// What the KV bindings share (bind_kv.cc, bind_watch.cc, bind_txn.cc): finding a member's KvNode in a
// simulated cluster, and a key-value as the JSON gateway shapes it.
#include <pybind11/pybind11.h>

#include "etcdlab/mvcc/types.h"
#include "etcdlab/txn/txn.h"
#include "etcdlab/sim/cluster.h"
#include "kv_node.h"

namespace etcdlab::python {

// The KvNode on node `index` of a KV cluster, or nullptr while that node is down. Raises
// IndexError for a node the cluster does not have, ValueError on a plain-log cluster.
const server::KvNode* kv_member(const sim::Cluster& c, int index);
// The same, to call (a watch stream's client talks to its member as a TCP client would).
server::KvNode* kv_member(sim::Cluster& c, int index);

// {"key", "create_revision", "mod_revision", "version", "value", "lease" (only when set)}:
// bytes for keys and values, ints for the rest.
pybind11::dict kv_dict(const mvcc::KeyValue& kv);

// A txn result's fields after its header, as the gateway shapes them (bind_txn.cc): succeeded
// (only when true) and the sub-responses.
void add_txn_fields(pybind11::dict& d, const txn::TxnResult& t);

}  // namespace etcdlab::python
