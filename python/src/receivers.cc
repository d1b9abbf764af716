// pybind11 2.10 refuses None as a method's receiver only when the method was bound with py::arg
// annotations: they create the argument record of `self` that says "not None". Without them
// (`.def("size", &Cluster::size)`, def_readwrite's setters, a lambda taking `const Entry&`),
// `Cluster.size(None)` reaches C++ with a null `this` and crashes the interpreter, or a
// reference cast fails with an empty RuntimeError. This pass, run once after everything is
// bound, gives every such method the record pybind11 gives annotated ones, so None is refused
// like any other wrong receiver (a TypeError naming the signature), in bindings written today
// and later alike.
#include <pybind11/pybind11.h>

#include <cstring>

#include "bindings.h"

namespace py = pybind11;

namespace etcdlab::python {
namespace {

void refuse_none(py::handle callable) {
  py::handle fn = py::detail::get_function(callable);  // unwraps instance methods
  if (!fn || !PyCFunction_Check(fn.ptr())) return;
  py::handle self = PyCFunction_GET_SELF(fn.ptr());
  if (!self || !py::isinstance<py::capsule>(self)) return;
  auto capsule = py::reinterpret_borrow<py::capsule>(self);
  if (!py::detail::is_function_record_capsule(capsule)) return;  // not one of pybind11's
  for (auto* r = capsule.get_pointer<py::detail::function_record>(); r != nullptr; r = r->next) {
    if (!r->is_method || r->is_constructor || !r->args.empty()) continue;
    // As pybind11 records `self` for an annotated method. The record owns its strings (it
    // frees them with itself), so the name is a copy, as pybind11's own are.
    r->args.emplace_back(strdup("self"), nullptr, py::handle(), /*convert=*/true, /*none=*/false);
  }
}

void refuse_none_in_class(py::handle cls, py::handle property) {
  // A class's __dict__ is a mappingproxy, not a dict: go through its values().
  for (py::handle value : cls.attr("__dict__").attr("values")()) {
    if (py::isinstance<py::type>(value)) {
      refuse_none_in_class(value, property);  // nested: Operation.Kind
    } else if (py::isinstance(value, property)) {
      refuse_none(value.attr("fget"));
      refuse_none(value.attr("fset"));
    } else {
      refuse_none(value);
    }
  }
}

}  // namespace

void refuse_none_receivers(py::module_& m) {
  py::object property = py::module_::import("builtins").attr("property");
  for (auto item : m.attr("__dict__").cast<py::dict>()) {
    if (py::isinstance<py::type>(item.second)) refuse_none_in_class(item.second, property);
  }
}

}  // namespace etcdlab::python
