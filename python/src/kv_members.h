#pragma once
// What the KV bindings share (bind_kv.cc, bind_watch.cc): finding a member's KvNode in a
// simulated cluster, and a key-value as the JSON gateway shapes it.
#include <pybind11/pybind11.h>

#include "etcdlab/mvcc/types.h"
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

}  // namespace etcdlab::python
