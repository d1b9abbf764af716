// The server's node in the simulator (sim/kv/kv_node_logic.h): ClusterOptions.kv turns it on;
// the functions build the requests and queries the Python Cluster proposes and reads (leases
// included), and turn outputs (sim/kv/kv_outputs.h) into dicts shaped like the JSON gateway's
// answers (bytes for keys and values; int64s as ints, not the gateway's strings; an error the
// node answered as {"error": message, "code": gRPC code}, one the store or the lessor gave a
// request as {"error": message}); and Cluster methods that read what a member holds (its
// leases as its lessor sees them, the writes its store holds) for the lease checker.
#include <fmt/format.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "etcdlab/mvcc/errors.h"
#include "etcdlab/sim/cluster.h"
#include "etcdlab/sim/options.h"
#include "kv_members.h"
#include "kv_node_logic.h"
#include "kv_outputs.h"
#include "api_error.h"
#include "requests.h"

namespace py = pybind11;

namespace etcdlab::python {
namespace {

void check_member(const sim::Cluster& c, int index) {
  if (index < 0 || index >= c.size()) {
    throw py::index_error(fmt::format("no node {}: nodes are 0 .. {}", index, c.size() - 1));
  }
  if (!c.options().node_logic) {
    throw py::value_error("a member's leases, store and watches need a KV cluster "
                          "(ClusterOptions.kv)");
  }
}

}  // namespace

const server::KvNode* kv_member(const sim::Cluster& c, int index) {
  check_member(c, index);
  return sim::kv_node_of(c.logic(index));
}

server::KvNode* kv_member(sim::Cluster& c, int index) {
  check_member(c, index);
  return sim::kv_node_of(c.logic(index));
}

py::dict kv_dict(const mvcc::KeyValue& kv) {
  py::dict d;
  d["key"] = py::bytes(kv.key);
  d["create_revision"] = kv.create_revision;
  d["mod_revision"] = kv.mod_revision;
  d["version"] = kv.version;
  d["value"] = py::bytes(kv.value);
  if (kv.lease != 0) d["lease"] = kv.lease;
  return d;
}

namespace {

py::dict header(int64_t revision) {
  py::dict h;
  h["revision"] = revision;
  return h;
}

py::dict error_dict(const sim::KvOutput& o) {
  py::dict d;
  d["header"] = header(0);
  d["error"] = o.error;
  d["code"] = static_cast<int>(o.code);
  return d;
}

py::dict member_dict(const server::Member& m) {
  py::dict d;
  d["ID"] = m.id;
  d["name"] = m.name;
  d["peerURLs"] = m.peer_urls;
  d["clientURLs"] = m.client_urls;
  d["isLearner"] = m.learner;
  return d;
}

sim::KvOutput decode(const py::bytes& data) {
  try {
    return sim::decode_output(std::string(data));
  } catch (const std::exception& e) {
    throw py::value_error(std::string("not a KV operation's output: ") + e.what());
  }
}

// A lease result as etcd's gateway answers it: grant {ID, TTL}; revoke {} (the header);
// keep-alive {ID, TTL}, with no TTL for an unknown or expired lease; time-to-live {ID, TTL,
// grantedTTL, keys}, TTL -1 and no grantedTTL for an unknown one, keys only when asked for and
// there are some; leases {leases: [{ID}]}. False if `r` holds no lease result.
bool lease_value(const server::Result& r, py::dict& d) {
  if (const auto* grant = std::get_if<server::LeaseGrantResult>(&r.value)) {
    d["ID"] = grant->id;
    d["TTL"] = grant->ttl;
  } else if (std::holds_alternative<server::LeaseRevokeResult>(r.value)) {
    // etcd's LeaseRevokeResponse holds the header alone.
  } else if (const auto* k = std::get_if<server::LeaseKeepAliveResult>(&r.value)) {
    d["ID"] = k->id;
    if (k->ttl > 0) d["TTL"] = k->ttl;
  } else if (const auto* t = std::get_if<server::LeaseTimeToLiveResult>(&r.value)) {
    d["ID"] = t->id;
    d["TTL"] = t->ttl;
    if (t->ttl >= 0) d["grantedTTL"] = t->granted_ttl;
    if (!t->keys.empty()) {
      py::list keys;
      for (const auto& key : t->keys) keys.append(py::bytes(key));
      d["keys"] = keys;
    }
  } else if (const auto* l = std::get_if<server::LeasesResult>(&r.value)) {
    py::list leases;
    for (int64_t id : l->ids) {
      py::dict lease;
      lease["ID"] = id;
      leases.append(lease);
    }
    d["leases"] = leases;
  } else {
    return false;
  }
  return true;
}

py::dict write_output(const py::bytes& data) {
  sim::KvOutput o = decode(data);
  if (o.kind == sim::KvOutput::Kind::kError) return error_dict(o);
  if (o.kind != sim::KvOutput::Kind::kWrite) throw py::value_error("not a write's output");
  const server::Result& r = o.write;
  py::dict d;
  d["header"] = header(r.revision);
  if (r.store_error) {
    d["error"] = mvcc::message_of(*r.store_error);
    return d;
  }
  if (r.lease_error) {
    d["error"] = lease::message_of(*r.lease_error);
    return d;
  }
  if (r.error == server::RequestError::kNoSpace) {
    d["error"] = server::rpctypes::kNoSpace;
    return d;
  }
  if (lease_value(r, d)) return d;
  if (const auto* put = std::get_if<mvcc::PutResult>(&r.value)) {
    if (put->prev_kv) d["prev_kv"] = kv_dict(*put->prev_kv);
  } else if (const auto* del = std::get_if<mvcc::DeleteResult>(&r.value)) {
    d["deleted"] = del->deleted;
    py::list prev;
    for (const auto& kv : del->prev_kvs) prev.append(kv_dict(kv));
    if (!del->prev_kvs.empty()) d["prev_kvs"] = prev;
  } else if (const auto* member = std::get_if<server::MembershipResult>(&r.value)) {
    d["member"] = member_dict(member->member);
  } else if (const auto* alarms = std::get_if<server::AlarmResult>(&r.value)) {
    py::list list;
    for (const auto& a : alarms->alarms) {
      py::dict alarm;
      alarm["memberID"] = a.member;
      alarm["alarm"] = server::to_string(a.type);
      list.append(alarm);
    }
    d["alarms"] = list;
  } else if (const auto* txn_result = std::get_if<txn::TxnResult>(&r.value)) {
    add_txn_fields(d, *txn_result);
  }
  return d;
}

py::dict read_output(const py::bytes& data) {
  sim::KvOutput o = decode(data);
  if (o.kind == sim::KvOutput::Kind::kError) return error_dict(o);
  if (o.kind != sim::KvOutput::Kind::kRead) throw py::value_error("not a read's output");
  py::dict d;
  d["header"] = header(o.read.result.revision);
  if (o.read.error) {
    d["error"] = mvcc::message_of(*o.read.error);
    return d;
  }
  py::list kvs;
  for (const auto& kv : o.read.result.kvs) kvs.append(kv_dict(kv));
  d["kvs"] = kvs;
  d["count"] = o.read.result.count;
  d["more"] = o.read.result.more;
  return d;
}

mvcc::SortOrder sort_order(const std::string& s) {
  if (s == "none") return mvcc::SortOrder::kNone;
  if (s == "ascend") return mvcc::SortOrder::kAscend;
  if (s == "descend") return mvcc::SortOrder::kDescend;
  throw py::value_error("sort_order is none, ascend or descend, not " + s);
}

mvcc::SortTarget sort_target(const std::string& s) {
  if (s == "key") return mvcc::SortTarget::kKey;
  if (s == "version") return mvcc::SortTarget::kVersion;
  if (s == "create") return mvcc::SortTarget::kCreate;
  if (s == "mod") return mvcc::SortTarget::kMod;
  if (s == "value") return mvcc::SortTarget::kValue;
  throw py::value_error("sort_target is key, version, create, mod or value, not " + s);
}

// What a member's lessor holds: {"primary": whether its clock runs (the leader's does),
// "leases": [{"ID", "TTL": seconds left as its clock says (a follower says the granted TTL),
// "grantedTTL", "keys" (if asked)}]}; None while the node is down.
py::object member_leases(const sim::Cluster& c, int index, bool with_keys) {
  const server::KvNode* node = kv_member(c, index);
  if (node == nullptr) return py::none();
  const lease::Lessor& lessor = node->state_machine().lessor();
  py::list leases;
  for (lease::LeaseId id : lessor.leases()) {
    std::optional<lease::LeaseInfo> info = lessor.info(id, with_keys);
    if (!info) continue;
    py::dict d;
    d["ID"] = info->id;
    d["TTL"] = info->remaining_ttl;
    d["grantedTTL"] = info->granted_ttl;
    if (with_keys) {
      py::list keys;
      for (const auto& key : info->keys) keys.append(py::bytes(key));
      d["keys"] = keys;
    }
    leases.append(d);
  }
  py::dict out;
  out["primary"] = lessor.primary();
  out["leases"] = leases;
  return out;
}

// Every write a member's store holds, oldest first: (revision, "put" | "delete", key, lease).
py::object member_events(const sim::Cluster& c, int index) {
  const server::KvNode* node = kv_member(c, index);
  if (node == nullptr) return py::none();
  std::string all(1, '\0');
  std::vector<mvcc::Event> events;
  try {
    events = node->store().events_since(1, {all, all}, false);
  } catch (const mvcc::MvccError& e) {
    throw py::value_error(fmt::format("node {}'s store cannot list its writes: {}", index,
                                      e.what()));
  }
  py::list out;
  for (const auto& e : events) {
    const char* type = e.type == mvcc::Event::Type::kPut ? "put" : "delete";
    out.append(py::make_tuple(e.kv.mod_revision, type, py::bytes(e.kv.key), e.kv.lease));
  }
  return out;
}

}  // namespace

void bind_kv(py::module_& m) {
  auto options = py::reinterpret_borrow<py::class_<sim::ClusterOptions>>(m.attr("ClusterOptions"));
  options.def_property(
      "kv", [](const sim::ClusterOptions& o) { return static_cast<bool>(o.node_logic); },
      [](sim::ClusterOptions& o, bool on) {
        o.node_logic = on ? sim::kv_node_logic() : nullptr;
      },
      "run the server's node (KvNode: request tracking, the MVCC store in memory, etcd's "
      "membership rules) instead of the plain log");

  m.def(
      "kv_put_request",
      [](const py::bytes& key, const py::bytes& value, int64_t lease, bool prev_kv,
         bool ignore_value, bool ignore_lease) {
        server::PutRequest p{std::string(key), std::string(value), lease,
                             {prev_kv, ignore_value, ignore_lease}};
        return py::bytes(server::encode_request(0, p));
      },
      py::arg("key"), py::arg("value"), py::arg("lease") = 0, py::arg("prev_kv") = false,
      py::arg("ignore_value") = false, py::arg("ignore_lease") = false);
  m.def(
      "kv_delete_request",
      [](const py::bytes& key, const py::bytes& range_end, bool prev_kv) {
        server::DeleteRangeRequest d{{std::string(key), std::string(range_end)}, prev_kv};
        return py::bytes(server::encode_request(0, d));
      },
      py::arg("key"), py::arg("range_end") = py::bytes(), py::arg("prev_kv") = false);
  m.def(
      "kv_compact_request",
      [](int64_t revision, bool physical) {
        return py::bytes(server::encode_request(0, server::CompactionRequest{revision, physical}));
      },
      py::arg("revision"), py::arg("physical") = false);
  m.def(
      "kv_query",
      [](const py::bytes& key, const py::bytes& range_end, int64_t revision, int64_t limit,
         bool keys_only, bool count_only, const std::string& order, const std::string& target) {
        sim::KvQuery q;
        q.range = {std::string(key), std::string(range_end)};
        q.options.revision = revision;
        q.options.limit = limit;
        q.options.keys_only = keys_only;
        q.options.count_only = count_only;
        q.options.sort_order = sort_order(order);
        q.options.sort_target = sort_target(target);
        return py::bytes(sim::encode_query(q));
      },
      py::arg("key"), py::arg("range_end") = py::bytes(), py::arg("revision") = 0,
      py::arg("limit") = 0, py::arg("keys_only") = false, py::arg("count_only") = false,
      py::arg("sort_order") = "none", py::arg("sort_target") = "key");
  // Leases: grant and revoke go through the log (proposals); keep-alive, time-to-live and
  // leases are questions (reads) the leader answers (the node they reach forwards them), except
  // leases, which the node asked answers from what it has applied.
  m.def(
      "kv_lease_grant_request",
      [](int64_t id, int64_t ttl) {
        return py::bytes(server::encode_request(0, server::LeaseGrantRequest{id, ttl}));
      },
      py::arg("id"), py::arg("ttl"),
      "a lease grant (id 0: the node picks one; ttl in seconds, raised to the minimum)");
  m.def(
      "kv_lease_revoke_request",
      [](int64_t id) {
        return py::bytes(server::encode_request(0, server::LeaseRevokeRequest{id}));
      },
      py::arg("id"));
  m.def(
      "kv_keepalive_query",
      [](int64_t id) {
        sim::KvQuery q;
        q.kind = sim::KvQuery::Kind::kKeepAlive;
        q.lease = id;
        return py::bytes(sim::encode_query(q));
      },
      py::arg("id"));
  m.def(
      "kv_time_to_live_query",
      [](int64_t id, bool keys) {
        sim::KvQuery q;
        q.kind = sim::KvQuery::Kind::kTimeToLive;
        q.lease = id;
        q.with_keys = keys;
        return py::bytes(sim::encode_query(q));
      },
      py::arg("id"), py::arg("keys") = false);
  m.def("kv_leases_query", [] {
    sim::KvQuery q;
    q.kind = sim::KvQuery::Kind::kLeases;
    return py::bytes(sim::encode_query(q));
  });
  // What a member holds, read between events (tests, the lease checker, notebooks).
  auto cluster = py::reinterpret_borrow<py::class_<sim::Cluster>>(m.attr("Cluster"));
  cluster.def(
      "kv_lease_ids",
      [](const sim::Cluster& c, int index) -> py::object {
        const server::KvNode* node = kv_member(c, index);
        if (node == nullptr) return py::none();
        return py::cast(node->leases());
      },
      py::arg("index"), "the ids of node `index`'s leases, ascending (None while it is down)");
  cluster.def("kv_leases", &member_leases, py::arg("index"), py::arg("keys") = false,
              "node `index`'s lessor: primary, and each lease's ID, TTL left, grantedTTL, keys");
  cluster.def("kv_events", &member_events, py::arg("index"),
              "every write node `index`'s store holds: (revision, type, key, lease)");
  m.def("kv_write_output", &write_output, py::arg("data"),
        "a KV write's output as a dict (header.revision, prev_kv, deleted, prev_kvs, error), "
        "or a lease operation's (ID, TTL, grantedTTL, keys, leases), as the gateway answers");
  m.def("kv_read_output", &read_output, py::arg("data"),
        "a KV read's output as a dict (header.revision, kvs, count, more, error)");
}

}  // namespace etcdlab::python
