// The Raft invariants, computed in C++ (sim/include/etcdlab/sim/invariants.h): the error a
// broken one raises, and the list of what is checked.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "etcdlab/errors.h"
#include "etcdlab/sim/invariants.h"

namespace py = pybind11;

namespace etcdlab::python {

void bind_checkers(py::module_& m) {
  static py::exception<sim::InvariantViolation> invariant_violation(m, "InvariantViolation",
                                                                     PyExc_AssertionError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const sim::InvariantViolation& v) {
      // The message names the invariant, node and event; the attributes let tests inspect it.
      py::handle type = invariant_violation;
      py::object instance = type(v.what());
      instance.attr("invariant") = v.invariant();
      instance.attr("node") = v.node();
      instance.attr("event") = v.event();
      instance.attr("time_ms") = v.time_us() / 1000.0;
      instance.attr("detail") = v.detail();
      PyErr_SetObject(type.ptr(), instance.ptr());
    }
  });
  // A lab skeleton's "not written yet" reads as Python's own NotImplementedError.
  py::register_exception<Unimplemented>(m, "Unimplemented", PyExc_NotImplementedError);
  // Bytes that do not decode (an operation's output, a KV request) are a bad argument.
  py::register_exception<DecodeError>(m, "DecodeError", PyExc_ValueError);
  m.attr("INVARIANTS") = py::make_tuple(
      "election safety", "log matching", "leader append-only", "leader completeness",
      "state machine safety", "durable commit", "durable term and vote", "learners", "snapshots",
      "one change at a time");
}

}  // namespace etcdlab::python
