// The simulator (sim/include/etcdlab/sim/cluster.h) as Python sees it. Thin: arguments are
// converted with the GIL held, long runs release it, plain structs are read-only with a repr.
// The friendlier API (node indexes, Op objects, keyword options) is python/etcdlab/cluster.py.
#include <fmt/format.h>
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <utility>

#include "bindings.h"
#include "etcdlab/sim/cluster.h"
#include "etcdlab/sim/view.h"

namespace py = pybind11;

namespace etcdlab::python {
namespace {

py::bytes to_bytes(const std::string& s) { return py::bytes(s); }

// The live view's JSON as Python values (json.loads): the page and the recordings take JSON.
py::object from_json(const std::string& text) {
  return py::module_::import("json").attr("loads")(py::str(text));
}

// Python's one spelling of the roles (etcdlab.Role has the same values; C++'s to_string says
// "pre-candidate" in log lines, which trace hashes depend on).
constexpr std::pair<Role, const char*> kRoleNames[] = {{Role::kFollower, "follower"},
                                                       {Role::kPreCandidate, "pre_candidate"},
                                                       {Role::kCandidate, "candidate"},
                                                       {Role::kLeader, "leader"}};

const char* role_name(Role role) {
  for (const auto& [r, name] : kRoleNames) {
    if (r == role) return name;
  }
  return "?";
}

void bind_enums(py::module_& m) {
  py::enum_<Role> role(m, "Role");
  for (const auto& [r, name] : kRoleNames) role.value(name, r);
  py::enum_<sim::Outcome>(m, "Outcome")
      .value("pending", sim::Outcome::kPending)
      .value("ok", sim::Outcome::kOk)
      .value("failed", sim::Outcome::kFailed)
      .value("unknown", sim::Outcome::kUnknown);
  py::enum_<CrashMode>(m, "CrashMode")
      .value("drop_unsynced", CrashMode::kDropUnsynced)
      .value("random_prefix", CrashMode::kRandomPrefix)
      .value("torn_write", CrashMode::kTornWrite)
      .value("any", CrashMode::kAny);
  py::enum_<EntryType>(m, "EntryType")
      .value("normal", EntryType::kNormal)
      .value("conf_change", EntryType::kConfChange);
}

void bind_options(py::module_& m) {
  py::class_<sim::NetworkOptions>(m, "NetworkOptions")
      .def(py::init<>())
      .def_readwrite("delay_min_ms", &sim::NetworkOptions::delay_min_ms)
      .def_readwrite("delay_max_ms", &sim::NetworkOptions::delay_max_ms)
      .def_readwrite("drop", &sim::NetworkOptions::drop)
      .def_readwrite("duplicate", &sim::NetworkOptions::duplicate)
      .def_readwrite("reorder", &sim::NetworkOptions::reorder)
      .def_readwrite("reorder_max_ms", &sim::NetworkOptions::reorder_max_ms);
  py::class_<sim::ClusterOptions>(m, "ClusterOptions")
      .def(py::init<>())
      .def_readwrite("nodes", &sim::ClusterOptions::nodes)
      .def_readwrite("initial_voters", &sim::ClusterOptions::initial_voters)
      .def_readwrite("seed", &sim::ClusterOptions::seed)
      .def_readwrite("pre_vote", &sim::ClusterOptions::pre_vote)
      .def_readwrite("check_quorum", &sim::ClusterOptions::check_quorum)
      .def_readwrite("election_ticks", &sim::ClusterOptions::election_ticks)
      .def_readwrite("heartbeat_ticks", &sim::ClusterOptions::heartbeat_ticks)
      .def_readwrite("max_append_bytes", &sim::ClusterOptions::max_append_bytes)
      .def_readwrite("max_inflight", &sim::ClusterOptions::max_inflight)
      .def_readwrite("tick_ms", &sim::ClusterOptions::tick_ms)
      .def_readwrite("network", &sim::ClusterOptions::network)
      .def_readwrite("fsync_min_ms", &sim::ClusterOptions::fsync_min_ms)
      .def_readwrite("fsync_max_ms", &sim::ClusterOptions::fsync_max_ms)
      .def_readwrite("snapshot_every", &sim::ClusterOptions::snapshot_every)
      .def_readwrite("linearizable_reads", &sim::ClusterOptions::linearizable_reads)
      .def_readwrite("client_retry_ms", &sim::ClusterOptions::client_retry_ms)
      .def_readwrite("client_deadline_ms", &sim::ClusterOptions::client_deadline_ms)
      .def_readwrite("check_invariants", &sim::ClusterOptions::check_invariants)
      .def_readwrite("record_trace", &sim::ClusterOptions::record_trace)
      .def_readwrite("view_frames", &sim::ClusterOptions::view_frames);
}

void bind_views(py::module_& m) {
  py::class_<Entry>(m, "Entry")
      .def_readonly("index", &Entry::index)
      .def_readonly("term", &Entry::term)
      .def_readonly("type", &Entry::type)
      .def_property_readonly("data", [](const Entry& e) { return to_bytes(e.data); })
      .def("__repr__", [](const Entry& e) { return "Entry(" + to_string(e) + ")"; });
  py::class_<ConfState>(m, "ConfState")
      .def_readonly("voters", &ConfState::voters)
      .def_readonly("learners", &ConfState::learners)
      .def("__repr__", [](const ConfState& c) { return "ConfState(" + to_string(c) + ")"; });
  py::class_<sim::NodeView>(m, "NodeView")
      .def_readonly("index", &sim::NodeView::index)
      .def_readonly("up", &sim::NodeView::up)
      .def_readonly("member", &sim::NodeView::member)
      .def_readonly("term", &sim::NodeView::term)
      .def_readonly("role", &sim::NodeView::role)
      .def_readonly("vote", &sim::NodeView::vote)
      .def_readonly("leader", &sim::NodeView::leader)
      .def_readonly("commit", &sim::NodeView::commit)
      .def_readonly("applied", &sim::NodeView::applied)
      .def_readonly("first_index", &sim::NodeView::first_index)
      .def_readonly("last_index", &sim::NodeView::last_index)
      .def_readonly("snapshot_index", &sim::NodeView::snapshot_index)
      .def_readonly("wal_bytes", &sim::NodeView::wal_bytes)
      .def_readonly("commands_applied", &sim::NodeView::commands_applied)
      .def_readonly("messages_sent", &sim::NodeView::messages_sent)
      .def_readonly("bytes_sent", &sim::NodeView::bytes_sent)
      .def_readonly("restarts", &sim::NodeView::restarts)
      .def_readonly("conf", &sim::NodeView::conf)
      .def("__repr__", [](const sim::NodeView& v) {
        return fmt::format("NodeView(node={}, {}, term={}, role={}, commit={}, applied={}, "
                           "last_index={})",
                           v.index, v.up ? "up" : "down", v.term, role_name(v.role), v.commit,
                           v.applied, v.last_index);
      });
  py::class_<sim::Operation> op(m, "Operation");
  py::enum_<sim::Operation::Kind>(op, "Kind")
      .value("propose", sim::Operation::Kind::kPropose)
      .value("read", sim::Operation::Kind::kRead)
      .value("conf_change", sim::Operation::Kind::kConfChange)
      .value("transfer", sim::Operation::Kind::kTransfer);
  op.def_readonly("id", &sim::Operation::id)
      .def_readonly("kind", &sim::Operation::kind)
      .def_property_readonly("input", [](const sim::Operation& o) { return to_bytes(o.input); })
      .def_property_readonly("output", [](const sim::Operation& o) { return to_bytes(o.output); })
      .def_readonly("via", &sim::Operation::via)
      .def_readonly("call_us", &sim::Operation::call_us)
      .def_readonly("return_us", &sim::Operation::return_us)
      .def_readonly("outcome", &sim::Operation::outcome)
      .def_readonly("index", &sim::Operation::index)
      .def_readonly("attempts", &sim::Operation::attempts)
      .def_property_readonly("done", &sim::Operation::done)
      .def("__repr__", [](const sim::Operation& o) {
        static const char* kinds[] = {"propose", "read", "conf_change", "transfer"};
        return fmt::format("Operation(id={}, {}, {})", o.id, kinds[static_cast<int>(o.kind)],
                           sim::to_string(o.outcome));
      });
  m.attr("NEVER") = sim::kNever;
  py::class_<sim::RoleChange>(m, "RoleChange")
      .def_readonly("time_us", &sim::RoleChange::time_us)
      .def_property_readonly("time_ms",
                             [](const sim::RoleChange& r) { return r.time_us / 1000.0; })
      .def_readonly("node", &sim::RoleChange::node)
      .def_readonly("term", &sim::RoleChange::term)
      .def_readonly("role", &sim::RoleChange::role)
      .def_readonly("leader", &sim::RoleChange::leader)
      .def("__repr__", [](const sim::RoleChange& r) {
        return fmt::format("RoleChange(time_ms={:.3f}, node={}, term={}, role={}, leader={})",
                           r.time_us / 1000.0, r.node, r.term, role_name(r.role),
                           r.leader ? std::to_string(*r.leader) : "None");
      });
  py::class_<sim::TraceEvent> event(m, "TraceEvent");
  py::enum_<sim::TraceEvent::Kind>(event, "Kind")
      .value("tick", sim::TraceEvent::Kind::kTick)
      .value("deliver", sim::TraceEvent::Kind::kDeliver)
      .value("drop", sim::TraceEvent::Kind::kDrop)
      .value("persisted", sim::TraceEvent::Kind::kPersisted)
      .value("apply", sim::TraceEvent::Kind::kApply)
      .value("crash", sim::TraceEvent::Kind::kCrash)
      .value("restart", sim::TraceEvent::Kind::kRestart)
      .value("fault", sim::TraceEvent::Kind::kFault)
      .value("client", sim::TraceEvent::Kind::kClient)
      .value("log", sim::TraceEvent::Kind::kLog)
      .value("snapshot", sim::TraceEvent::Kind::kSnapshot)
      .value("client_attempt", sim::TraceEvent::Kind::kClientAttempt)
      .value("client_done", sim::TraceEvent::Kind::kClientDone);
  event
      .def_readonly("seq", &sim::TraceEvent::seq)
      .def_readonly("time_us", &sim::TraceEvent::time_us)
      .def_property_readonly("time_ms",
                             [](const sim::TraceEvent& e) { return e.time_us / 1000.0; })
      .def_readonly("node", &sim::TraceEvent::node)
      .def_readonly("kind", &sim::TraceEvent::kind)
      .def_readonly("text", &sim::TraceEvent::text)
      .def("__str__", &sim::TraceEvent::to_string)
      .def("__repr__", [](const sim::TraceEvent& e) { return "<" + e.to_string() + ">"; });
}

void bind_cluster(py::module_& m) {
  using sim::Cluster;
  py::class_<Cluster>(m, "Cluster")
      .def(py::init<const sim::ClusterOptions&>(), py::arg("options"))
      .def_property_readonly("options", &Cluster::options)
      .def("size", &Cluster::size)
      .def("now_ms", &Cluster::now_ms)
      .def("events", &Cluster::events)
      .def("run_ms", &Cluster::run_ms, py::arg("ms"), py::call_guard<py::gil_scoped_release>())
      .def("run_until",
           [](Cluster& c, const py::function& done, double timeout_ms) {
             // Python's truth of whatever the predicate returns (None is false), not a cast.
             return c.run_until(
                 [&] {
                   int truth = PyObject_IsTrue(done().ptr());
                   if (truth < 0) throw py::error_already_set();
                   return truth == 1;
                 },
                 timeout_ms);
           },
           py::arg("done"), py::arg("timeout_ms"))
      .def("step", &Cluster::step, py::call_guard<py::gil_scoped_release>())
      .def("partition", &Cluster::partition, py::arg("groups"))
      .def("isolate", &Cluster::isolate, py::arg("node"))
      .def("cut", &Cluster::cut, py::arg("a"), py::arg("b"), py::arg("one_way") = false)
      .def("heal", &Cluster::heal)
      .def("set_network", &Cluster::set_network, py::arg("network"))
      .def("crash", &Cluster::crash, py::arg("node"), py::arg("mode") = CrashMode::kAny)
      .def("restart", &Cluster::restart, py::arg("node"))
      .def("propose",
           [](Cluster& c, py::bytes data, std::optional<int> via) {
             return c.propose(std::string(data), via);
           },
           py::arg("data"), py::arg("via") = py::none())
      .def("read",
           [](Cluster& c, std::optional<int> via, py::bytes query) {
             return c.read(std::string(query), via);
           },
           py::arg("via") = py::none(), py::arg("query") = py::bytes())
      .def("add_voter", &Cluster::add_voter, py::arg("node"))
      .def("add_learner", &Cluster::add_learner, py::arg("node"))
      .def("remove_node", &Cluster::remove_node, py::arg("node"))
      .def("transfer_leader", &Cluster::transfer_leader, py::arg("to"))
      .def("op", &Cluster::op, py::arg("id"), py::return_value_policy::copy)
      .def("history", &Cluster::history, py::return_value_policy::copy)
      .def("leader", &Cluster::leader)
      .def("node", &Cluster::node, py::arg("index"))
      .def("log", &Cluster::log, py::arg("index"))
      .def("role_changes", &Cluster::role_changes, py::return_value_policy::copy)
      .def("trace", [](const Cluster& c) { return c.trace().all(); })
      .def("recent_events", [](const Cluster& c) { return c.trace().recent(); })
      .def("trace_hash", &Cluster::trace_hash)
      .def("check_invariants", &Cluster::check_invariants)
      // The live view (sim/include/etcdlab/sim/view.h): frames as dicts, or as JSON text for
      // a server that passes them on.
      .def("view_frame", [](const Cluster& c) { return from_json(sim::view_frame_json(c)); })
      .def("view_frames_recorded", &sim::view_frames_recorded)
      .def("view_frames_json", &sim::view_frames_json, py::arg("since") = 0)
      .def(
          "view_recording",
          [](const Cluster& c, const std::string& title, std::optional<std::string> replay) {
            return from_json(sim::view_recording_json(c, title, replay));
          },
          py::arg("title") = "", py::arg("replay") = py::none());
}

}  // namespace

void bind_sim(py::module_& m) {
  bind_enums(m);
  bind_options(m);
  bind_views(m);
  bind_cluster(m);
}

}  // namespace etcdlab::python
