// Watches on a simulated KV cluster (ClusterOptions.kv): a client's watch stream to one
// member's KvNode (kv_node.h's watch API over lab 4's WatchHub), called between the
// simulator's events as a TCP client calls its server. Nothing is decided here: a stream lives
// in the member's memory, so a crash ends it (the Python layer tells a stream from before a
// restart by the node's restart count). Responses and events become dicts shaped like the JSON
// gateway's (bytes for keys and values, ints for int64s): the Python Watch reads them.
//
// Also what the watch checker reads as the committed history: a member's store events (with
// prev_kv), and every member's revision and compact revision (to record them as they grow).
#include <fmt/format.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "etcdlab/mvcc/errors.h"
#include "etcdlab/watch/watch_hub.h"
#include "kv_members.h"

namespace py = pybind11;

namespace etcdlab::python {
namespace {

py::dict event_dict(const mvcc::Event& e) {
  py::dict d;
  d["type"] = e.type == mvcc::Event::Type::kPut ? "PUT" : "DELETE";
  d["kv"] = kv_dict(e.kv);
  if (e.prev_kv) d["prev_kv"] = kv_dict(*e.prev_kv);
  return d;
}

py::dict response_dict(const watch::WatchResponse& r) {
  py::dict d;
  d["watch_id"] = r.watch_id;
  d["revision"] = r.revision;
  d["created"] = r.created;
  d["canceled"] = r.canceled;
  d["compact_revision"] = r.compact_revision;
  d["cancel_reason"] = r.cancel_reason;
  d["fragment"] = r.fragment;
  py::list events;
  for (const auto& e : r.events) events.append(event_dict(e));
  d["events"] = events;
  return d;
}

// Every event of node `index`'s store from revision `from` on, with prev_kv; None while down.
py::object store_events(const sim::Cluster& c, int index, int64_t from) {
  const server::KvNode* node = kv_member(c, index);
  if (node == nullptr) return py::none();
  if (from < 1) throw py::value_error(fmt::format("from_revision is >= 1, not {}", from));
  std::string all(1, '\0');
  std::vector<mvcc::Event> events;
  try {
    events = node->store().events_since(from, {all, all}, true);
  } catch (const mvcc::MvccError& e) {
    throw py::value_error(fmt::format(
        "node {}'s store cannot list its events from revision {} (compacted at {}): {}", index,
        from, node->store().compact_revision(), e.what()));
  }
  py::list out;
  for (const auto& e : events) out.append(event_dict(e));
  return out;
}

}  // namespace

void bind_watch(py::module_& m) {
  auto cluster = py::reinterpret_borrow<py::class_<sim::Cluster>>(m.attr("Cluster"));
  // Each call answers None when the node is down (its streams died with it).
  cluster.def(
      "kv_open_watch_stream",
      [](sim::Cluster& c, int index) -> py::object {
        server::KvNode* node = kv_member(c, index);
        if (node == nullptr) return py::none();
        return py::cast(node->open_watch_stream());
      },
      py::arg("index"), "opens a watch stream on node `index` (a client connection): its id");
  cluster.def(
      "kv_close_watch_stream",
      [](sim::Cluster& c, int index, watch::StreamId stream) {
        if (server::KvNode* node = kv_member(c, index)) node->close_watch_stream(stream);
      },
      py::arg("index"), py::arg("stream"), "the client went away: the stream's watchers end");
  cluster.def(
      "kv_watch",
      [](sim::Cluster& c, int index, watch::StreamId stream, const py::bytes& key,
         const py::bytes& range_end, int64_t start_revision, bool prev_kv, bool no_put,
         bool no_delete, bool progress_notify, bool fragment) -> py::object {
        server::KvNode* node = kv_member(c, index);
        if (node == nullptr) return py::none();
        watch::WatchRequest r;
        r.range = {std::string(key), std::string(range_end)};
        r.start_revision = start_revision;
        r.prev_kv = prev_kv;
        r.no_put = no_put;
        r.no_delete = no_delete;
        r.progress_notify = progress_notify;
        r.fragment = fragment;
        return py::cast(node->watch(stream, r));
      },
      py::arg("index"), py::arg("stream"), py::arg("key"), py::arg("range_end") = py::bytes(),
      py::arg("start_revision") = 0, py::arg("prev_kv") = false, py::arg("no_put") = false,
      py::arg("no_delete") = false, py::arg("progress_notify") = false,
      py::arg("fragment") = false,
      "creates a watcher on the stream (its answers come out of kv_take_watch_responses): its "
      "id, -1 if refused or cancelled at once");
  cluster.def(
      "kv_cancel_watch",
      [](sim::Cluster& c, int index, watch::StreamId stream, watch::WatchId id) -> py::object {
        server::KvNode* node = kv_member(c, index);
        if (node == nullptr) return py::none();
        return py::cast(node->cancel_watch(stream, id));
      },
      py::arg("index"), py::arg("stream"), py::arg("watch_id"),
      "cancels a watcher: False if the stream has no such watcher");
  cluster.def(
      "kv_request_watch_progress",
      [](sim::Cluster& c, int index, watch::StreamId stream) {
        server::KvNode* node = kv_member(c, index);
        if (node != nullptr) node->request_watch_progress(stream);
        return node != nullptr;
      },
      py::arg("index"), py::arg("stream"),
      "asks for a progress response (answered once every watcher of the stream is synced)");
  cluster.def(
      "kv_take_watch_responses",
      [](sim::Cluster& c, int index, watch::StreamId stream, size_t max) -> py::object {
        server::KvNode* node = kv_member(c, index);
        if (node == nullptr) return py::none();
        py::list out;
        for (const auto& r : node->take_watch_responses(stream, max)) out.append(response_dict(r));
        return out;
      },
      py::arg("index"), py::arg("stream"), py::arg("max"),
      "up to `max` responses of the stream, oldest first, as dicts (watch_id, revision, "
      "created, canceled, compact_revision, cancel_reason, fragment, events)");
  cluster.def(
      "kv_watch_queued",
      [](const sim::Cluster& c, int index, watch::StreamId stream) -> py::object {
        const server::KvNode* node = kv_member(c, index);
        if (node == nullptr) return py::none();
        return py::cast(node->watches().queued(stream));
      },
      py::arg("index"), py::arg("stream"), "responses the stream holds untaken");
  cluster.def(
      "kv_watch_stats",
      [](const sim::Cluster& c, int index) -> py::object {
        const server::KvNode* node = kv_member(c, index);
        if (node == nullptr) return py::none();
        py::dict d;
        d["streams"] = node->watches().streams();
        d["watchers"] = node->watches().watchers();
        d["unsynced"] = node->watches().unsynced();
        return d;
      },
      py::arg("index"), "node `index`'s watch hub: streams, watchers, unsynced watchers");
  cluster.def("kv_store_events", &store_events, py::arg("index"), py::arg("from_revision") = 1,
              "every event of node `index`'s store from `from_revision` on, with prev_kv "
              "(ValueError if compacted there)");
  cluster.def(
      "kv_store_revisions",
      [](const sim::Cluster& c) {
        py::list out;
        for (int i = 0; i < c.size(); ++i) {
          const server::KvNode* node = kv_member(c, i);
          if (node == nullptr) {
            out.append(py::none());
          } else {
            out.append(py::make_tuple(node->store().revision(), node->store().compact_revision()));
          }
        }
        return out;
      },
      "each node's (store revision, compact revision), None while down");
}

}  // namespace etcdlab::python
