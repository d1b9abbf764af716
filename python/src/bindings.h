#pragma once
// One function per bound area (the kuzu / pybind11 habit: the module file stays thin).
#include <pybind11/pybind11.h>

namespace etcdlab::python {

void bind_checkers(pybind11::module_& m);  // InvariantViolation and the invariants' names
void bind_sim(pybind11::module_& m);       // Cluster and what it reports
void bind_kv(pybind11::module_& m);        // the KV state machine in the simulator (after sim)
void bind_watch(pybind11::module_& m);     // watch streams on its members (after sim)
void bind_txn(pybind11::module_& m);       // txn requests for the simulated KV cluster

// Last: every method of every class bound in `m` refuses None as its receiver (receivers.cc).
void refuse_none_receivers(pybind11::module_& m);

}  // namespace etcdlab::python
