// Transactions in the simulator: the request a Python Cluster proposes (built from plain
// Python values, below) and a txn result as a dict shaped like the JSON gateway's answer
// (bytes for keys and values, int64s as ints): {"header": {"revision"}, "succeeded" (only
// when true), "responses": [{"response_range" | "response_put" | "response_delete_range" |
// "response_txn": {...}}]}, a sub-response's header holding its revision, a nested txn's
// none.
//
// A request is given as
//   compares  a list of (key, range_end, target, result, operand): target one of "version",
//             "create", "mod", "value", "lease"; result one of "==", "!=", ">", "<"; operand
//             an int, bytes (value), or None (no operand: compared with 0)
//   ops       lists of ("range", key, range_end, revision, limit, serializable)
//                      ("put", key, value, lease, prev_kv, ignore_value, ignore_lease)
//                      ("delete", key, range_end, prev_kv)
//                      ("txn", compares, success, failure)
//                      ("empty",)   an operation with no request (refused, as etcd's {})
#include <fmt/format.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "etcdlab/txn/lock.h"
#include "kv_members.h"
#include "kv_outputs.h"
#include "requests.h"

namespace py = pybind11;

namespace etcdlab::python {
namespace {

constexpr int kMaxDepth = 100;  // Python recursion would give up first; a clear error instead

txn::CompareTarget target_of(const std::string& s) {
  if (s == "version") return txn::CompareTarget::kVersion;
  if (s == "create") return txn::CompareTarget::kCreate;
  if (s == "mod") return txn::CompareTarget::kMod;
  if (s == "value") return txn::CompareTarget::kValue;
  if (s == "lease") return txn::CompareTarget::kLease;
  throw py::value_error("a compare's target is version, create, mod, value or lease, not " + s);
}

txn::CompareResult result_of(const std::string& s) {
  if (s == "==") return txn::CompareResult::kEqual;
  if (s == "!=") return txn::CompareResult::kNotEqual;
  if (s == ">") return txn::CompareResult::kGreater;
  if (s == "<") return txn::CompareResult::kLess;
  throw py::value_error("a compare's result is ==, !=, > or <, not " + s);
}

txn::Compare compare_of(const py::tuple& c) {
  if (c.size() != 5) throw py::value_error("a compare is (key, range_end, target, result, operand)");
  txn::Compare out;
  out.key = c[0].cast<std::string>();
  out.range_end = c[1].cast<std::string>();
  out.target = target_of(c[2].cast<std::string>());
  out.result = result_of(c[3].cast<std::string>());
  if (!c[4].is_none()) {
    out.operand = out.target;
    if (out.target == txn::CompareTarget::kValue) {
      out.value = c[4].cast<std::string>();
    } else {
      out.number = c[4].cast<int64_t>();
    }
  }
  return out;
}

txn::TxnRequest txn_of(const py::list& compares, const py::list& success, const py::list& failure,
                       int depth);

txn::RequestOp op_of(const py::tuple& t, int depth) {
  if (t.empty()) throw py::value_error("an empty operation tuple: use (\"empty\",)");
  std::string kind = t[0].cast<std::string>();
  auto need = [&](size_t n) {
    if (t.size() != n) throw py::value_error(fmt::format("a {} operation has {} fields", kind, n));
  };
  if (kind == "range") {
    need(6);
    txn::RangeOp op;
    op.range = {t[1].cast<std::string>(), t[2].cast<std::string>()};
    op.options.revision = t[3].cast<int64_t>();
    op.options.limit = t[4].cast<int64_t>();
    op.serializable = t[5].cast<bool>();
    return op;
  }
  if (kind == "put") {
    need(7);
    txn::PutOp op;
    op.key = t[1].cast<std::string>();
    op.value = t[2].cast<std::string>();
    op.lease = t[3].cast<int64_t>();
    op.options = {t[4].cast<bool>(), t[5].cast<bool>(), t[6].cast<bool>()};
    return op;
  }
  if (kind == "delete") {
    need(4);
    txn::DeleteOp op;
    op.range = {t[1].cast<std::string>(), t[2].cast<std::string>()};
    op.prev_kv = t[3].cast<bool>();
    return op;
  }
  if (kind == "txn") {
    need(4);
    if (depth >= kMaxDepth) throw py::value_error("txns nested too deep");
    return std::make_shared<const txn::TxnRequest>(
        txn_of(t[1].cast<py::list>(), t[2].cast<py::list>(), t[3].cast<py::list>(), depth + 1));
  }
  if (kind == "empty") return std::monostate{};
  throw py::value_error("an operation is range, put, delete, txn or empty, not " + kind);
}

txn::TxnRequest txn_of(const py::list& compares, const py::list& success, const py::list& failure,
                       int depth) {
  txn::TxnRequest t;
  for (const auto& c : compares) t.compare.push_back(compare_of(c.cast<py::tuple>()));
  for (const auto& op : success) t.success.push_back(op_of(op.cast<py::tuple>(), depth));
  for (const auto& op : failure) t.failure.push_back(op_of(op.cast<py::tuple>(), depth));
  return t;
}

py::dict sub_header(int64_t revision) {
  py::dict h;
  if (revision != 0) h["revision"] = revision;
  return h;
}

py::list kvs_list(const std::vector<mvcc::KeyValue>& kvs) {
  py::list out;
  for (const auto& kv : kvs) out.append(kv_dict(kv));
  return out;
}

}  // namespace

void add_txn_fields(py::dict& d, const txn::TxnResult& t) {
  if (t.succeeded) d["succeeded"] = true;
  py::list responses;
  for (const txn::ResponseOp& op : t.responses) {
    py::dict body, wrapper;
    if (const auto* range = std::get_if<mvcc::RangeResult>(&op)) {
      body["header"] = sub_header(range->revision);
      body["kvs"] = kvs_list(range->kvs);
      body["count"] = range->count;
      body["more"] = range->more;
      wrapper["response_range"] = body;
    } else if (const auto* put = std::get_if<mvcc::PutResult>(&op)) {
      body["header"] = sub_header(put->revision);
      if (put->prev_kv) body["prev_kv"] = kv_dict(*put->prev_kv);
      wrapper["response_put"] = body;
    } else if (const auto* del = std::get_if<mvcc::DeleteResult>(&op)) {
      body["header"] = sub_header(del->revision);
      body["deleted"] = del->deleted;
      if (!del->prev_kvs.empty()) body["prev_kvs"] = kvs_list(del->prev_kvs);
      wrapper["response_delete_range"] = body;
    } else if (const auto* nested = std::get_if<std::shared_ptr<txn::TxnResult>>(&op)) {
      body["header"] = py::dict();
      add_txn_fields(body, **nested);
      wrapper["response_txn"] = body;
    }
    responses.append(wrapper);
  }
  if (!t.responses.empty()) d["responses"] = responses;
}

namespace {

// A LockStep as Python sees it: {"kind": "txn" | "range" | "wait_delete" | "held" | "failed",
// "request": the txn to propose (a range step is proposed as a read-only txn of one range, so
// that every range option reaches the node), "key", "from_revision", "error"}.
py::dict step_dict(const txn::LockStep& step) {
  py::dict d;
  switch (step.kind) {
    case txn::LockStep::Kind::kTxn:
      d["kind"] = "txn";
      d["request"] = py::bytes(server::encode_request(0, step.txn));
      break;
    case txn::LockStep::Kind::kRange: {
      d["kind"] = "range";
      txn::RangeOp op;
      op.range = step.range;
      op.options = step.options;
      server::TxnRequest read;
      read.success.push_back(op);
      d["request"] = py::bytes(server::encode_request(0, read));
      break;
    }
    case txn::LockStep::Kind::kWaitDelete:
      d["kind"] = "wait_delete";
      d["key"] = py::bytes(step.key);
      d["from_revision"] = step.from_revision;
      break;
    case txn::LockStep::Kind::kHeld:
      d["kind"] = "held";
      break;
    case txn::LockStep::Kind::kFailed:
      d["kind"] = "failed";
      d["error"] = step.error;
      break;
  }
  return d;
}

// The txn result in a simulated op's output; a failed request raises ValueError with its error.
txn::TxnResult txn_result_of(const py::bytes& output) {
  sim::KvOutput o;
  try {
    o = sim::decode_output(std::string(output));
  } catch (const std::exception& e) {
    throw py::value_error(std::string("not a KV operation's output: ") + e.what());
  }
  if (o.kind == sim::KvOutput::Kind::kError) throw py::value_error(o.error);
  const server::Result& r = o.write;
  if (r.store_error) throw py::value_error(mvcc::message_of(*r.store_error));
  if (r.lease_error) throw py::value_error(lease::message_of(*r.lease_error));
  const auto* t = std::get_if<txn::TxnResult>(&r.value);
  if (o.kind != sim::KvOutput::Kind::kWrite || t == nullptr) {
    throw py::value_error("not a txn's output");
  }
  return *t;
}

// The recipe and what it waits for: which answer its last step expects.
struct PyLock {
  txn::LockRecipe recipe;
  txn::LockStep::Kind last = txn::LockStep::Kind::kTxn;
  bool started = false;

  py::dict remember(txn::LockStep step) {
    last = step.kind;
    return step_dict(step);
  }
};

}  // namespace

void bind_txn(py::module_& m) {
  py::class_<PyLock>(m, "LockRecipe",
                     "lab 5's lock recipe (etcdlab/txn/lock.h), stepped by a Python driver: "
                     "start(), then answer(output) after each txn or range step, deleted() "
                     "after a wait_delete step")
      .def(py::init([](const py::bytes& name, int64_t lease) {
             return PyLock{txn::LockRecipe(std::string(name), lease)};
           }),
           py::arg("name"), py::arg("lease"))
      .def("start",
           [](PyLock& l) {
             if (l.started) throw py::value_error("the lock recipe has started already");
             l.started = true;
             return l.remember(l.recipe.start());
           })
      .def(
          "answer",
          [](PyLock& l, const py::bytes& output) {
            txn::TxnResult r = txn_result_of(output);
            if (l.last == txn::LockStep::Kind::kTxn) return l.remember(l.recipe.on_txn(r));
            if (l.last != txn::LockStep::Kind::kRange || r.responses.size() != 1) {
              throw py::value_error("answer() follows a txn or range step");
            }
            return l.remember(l.recipe.on_range(std::get<mvcc::RangeResult>(r.responses[0])));
          },
          py::arg("output"), "the output of the op that ran the last step's request")
      .def("deleted",
           [](PyLock& l) {
             if (l.last != txn::LockStep::Kind::kWaitDelete) {
               throw py::value_error("deleted() follows a wait_delete step");
             }
             return l.remember(l.recipe.on_deleted());
           })
      .def_property_readonly("key", [](const PyLock& l) { return py::bytes(l.recipe.key()); })
      .def_property_readonly("revision", [](const PyLock& l) { return l.recipe.revision(); },
                             "the owner key's create revision: the fencing token");

  m.def(
      "kv_txn_request",
      [](const py::list& compares, const py::list& success, const py::list& failure) {
        try {
          return py::bytes(server::encode_request(0, txn_of(compares, success, failure, 0)));
        } catch (const py::cast_error& e) {
          throw py::type_error(std::string("a txn's compares and operations: a field of the "
                                           "wrong type (") + e.what() + "); see the shapes in "
                               "Cluster.txn's help");
        }
      },
      py::arg("compares"), py::arg("success"), py::arg("failure"),
      "a txn request (see python/src/bind_txn.cc for the shapes of compares and operations)");
}

}  // namespace etcdlab::python
