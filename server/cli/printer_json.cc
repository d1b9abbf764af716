// -w json, as etcdctl's printer_json.go: Go's encoding/json of the response (clientv3's
// structs with their proto JSON tags, every field omitempty), so int64/uint64 are numbers,
// bytes are standard base64, and zero values are left out; the endpoint commands print a list
// of etcdctl's epStatus {"Endpoint","Status"} or epHealth {"endpoint","health","took","error"}.
// Strings are escaped as Go escapes them (<, >, & as \u003c, \u003e, \u0026).
#include <fmt/format.h>

#include "../gateway/json_fields.h"
#include "printer.h"

namespace etcdlab::cli {
namespace {

// encoding/json's string encoding (HTML-safe, invalid UTF-8 as \ufffd).
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '<':
        case '>':
        case '&':
          out += fmt::format("\\u00{:02x}", c);
          break;
        default:
          if (c < 0x20) {
            out += fmt::format("\\u00{:02x}", c);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // A multi-byte rune: copy it if valid, else U+FFFD; U+2028 and U+2029 escaped.
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    bool valid = n > 0 && i + n <= s.size() && c >= 0xC2 && c <= 0xF4;
    for (size_t k = 1; valid && k < n; ++k) valid = (static_cast<uint8_t>(s[i + k]) & 0xC0) == 0x80;
    if (valid && n == 3) {
      auto c1 = static_cast<uint8_t>(s[i + 1]);
      valid = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 > 0x9F);
    }
    if (valid && n == 4) {
      auto c1 = static_cast<uint8_t>(s[i + 1]);
      valid = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 > 0x8F);
    }
    if (!valid) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    std::string_view rune = s.substr(i, n);
    if (rune == "\u2028") {
      out += "\\u2028";
    } else if (rune == "\u2029") {
      out += "\\u2029";
    } else {
      out += rune;
    }
    i += n;
  }
  return out + "\"";
}

// A JSON object written field by field, leaving out what omitempty leaves out.
class Object {
 public:
  Object& num(std::string_view name, int64_t v) { return v ? raw(name, std::to_string(v)) : *this; }
  Object& unum(std::string_view name, uint64_t v) {
    return v ? raw(name, std::to_string(v)) : *this;
  }
  Object& str(std::string_view name, std::string_view v) {
    return v.empty() ? *this : raw(name, quote(v));
  }
  Object& bytes(std::string_view name, std::string_view v) {
    return v.empty() ? *this : raw(name, quote(gateway::base64_encode(v)));
  }
  Object& boolean(std::string_view name, bool v) { return v ? raw(name, "true") : *this; }
  Object& strings(std::string_view name, const std::vector<std::string>& v) {
    if (v.empty()) return *this;
    std::string a = "[";
    for (size_t i = 0; i < v.size(); ++i) a += (i ? "," : "") + quote(v[i]);
    return raw(name, a + "]");
  }
  // Always written (a non-nil pointer, or a field without omitempty).
  Object& raw(std::string_view name, std::string_view json) {
    text_ += (text_.size() > 1 ? "," : "") + quote(name) + ":" + std::string(json);
    return *this;
  }
  std::string str() const { return text_ + "}"; }

 private:
  std::string text_ = "{";
};

std::string header(const ResponseHeader& h) {
  return Object()
      .unum("cluster_id", h.cluster_id)
      .unum("member_id", h.member_id)
      .num("revision", h.revision)
      .unum("raft_term", h.raft_term)
      .str();
}

// clientv3's lease responses embed *pb.ResponseHeader: its fields are the response's own.
Object& inline_header(Object& o, const ResponseHeader& h) {
  return o.unum("cluster_id", h.cluster_id)
      .unum("member_id", h.member_id)
      .num("revision", h.revision)
      .unum("raft_term", h.raft_term);
}

std::string kv(const KeyValue& k) {
  return Object()
      .bytes("key", k.key)
      .num("create_revision", k.create_revision)
      .num("mod_revision", k.mod_revision)
      .num("version", k.version)
      .bytes("value", k.value)
      .num("lease", k.lease)
      .str();
}

template <typename T, typename F>
std::string array(const std::vector<T>& items, F each) {
  std::string a = "[";
  for (size_t i = 0; i < items.size(); ++i) a += (i ? "," : "") + each(items[i]);
  return a + "]";
}

std::string range_json(const RangeResponse& r) {
  Object o;
  o.raw("header", header(r.header));
  if (!r.kvs.empty()) o.raw("kvs", array(r.kvs, kv));
  return o.boolean("more", r.more).num("count", r.count).str();
}

std::string put_json(const PutResponse& r) {
  Object o;
  o.raw("header", header(r.header));
  if (r.prev_kv) o.raw("prev_kv", kv(*r.prev_kv));
  return o.str();
}

std::string delete_json(const DeleteRangeResponse& r) {
  Object o;
  o.raw("header", header(r.header)).num("deleted", r.deleted);
  if (!r.prev_kvs.empty()) o.raw("prev_kvs", array(r.prev_kvs, kv));
  return o.str();
}

std::string member(const Member& m) {
  return Object()
      .unum("ID", m.id)
      .str("name", m.name)
      .strings("peerURLs", m.peer_urls)
      .strings("clientURLs", m.client_urls)
      .boolean("isLearner", m.is_learner)
      .str();
}

class JsonPrinter : public Printer {
 public:
  JsonPrinter(std::ostream& out, std::ostream& err) : Printer(out, err) {}
  std::string format() const override { return "json"; }

  void get(const RangeResponse& r) override { out_ << range_json(r) << "\n"; }
  void put(const PutResponse& r) override { out_ << put_json(r) << "\n"; }
  void del(const DeleteRangeResponse& r) override { out_ << delete_json(r) << "\n"; }

  // ---- auth: Auth*Response (authpb.Permission's permType a number, left out when READ).
  void auth_header(const ResponseHeader& h) override {
    out_ << Object().raw("header", header(h)).str() << "\n";
  }
  void role_get(const std::string&, const RoleGetResponse& r) override {
    Object o;
    o.raw("header", header(r.header));
    if (!r.perms.empty()) {
      o.raw("perm", array(r.perms, [](const Permission& p) {
              return Object().num("permType", p.perm_type).bytes("key", p.key)
                  .bytes("range_end", p.range_end).str();
            }));
    }
    out_ << o.str() << "\n";
  }
  void role_list(const RoleListResponse& r) override { names(r.header, "roles", r.roles); }
  void user_get(const std::string&, const UserGetResponse& r) override {
    names(r.header, "roles", r.roles);
  }
  void user_list(const UserListResponse& r) override { names(r.header, "users", r.users); }

  // pb.TxnResponse: each response a ResponseOp, whose oneof encoding/json writes as the field
  // "Response" holding the wrapper struct, named by its Go field ("ResponseRange").
  void txn(const TxnResponse& r) override {
    Object o;
    o.raw("header", header(r.header)).boolean("succeeded", r.succeeded);
    if (!r.responses.empty()) {
      o.raw("responses", array(r.responses, [](const TxnOpResponse& op) {
              Object wrapper;
              switch (op.kind) {
                case TxnOpResponse::Kind::kRange:
                  wrapper.raw("ResponseRange", range_json(op.range));
                  break;
                case TxnOpResponse::Kind::kPut:
                  wrapper.raw("ResponsePut", put_json(op.put));
                  break;
                case TxnOpResponse::Kind::kDeleteRange:
                  wrapper.raw("ResponseDeleteRange", delete_json(op.delete_range));
                  break;
              }
              return Object().raw("Response", wrapper.str()).str();
            }));
    }
    out_ << o.str() << "\n";
  }

  // clientv3's WatchResponse struct as encoding/json writes it: its Go field names, no
  // omitempty on its own fields (Events is never nil: [] when empty), the event's type a number.
  void watch(const WatchResponse& r) override {
    std::string events = "[";
    for (size_t i = 0; i < r.events.size(); ++i) {
      const WatchEvent& e = r.events[i];
      Object o;
      o.num("type", static_cast<int64_t>(e.type)).raw("kv", kv(e.kv));
      if (e.prev_kv) o.raw("prev_kv", kv(*e.prev_kv));
      events += (i ? "," : "") + o.str();
    }
    out_ << Object()
                .raw("Header", header(r.header))
                .raw("Events", r.events_nil ? "null" : events + "]")
                .raw("CompactRevision", std::to_string(r.compact_revision))
                .raw("Canceled", r.canceled ? "true" : "false")
                .raw("Created", r.created ? "true" : "false")
                .str()
         << "\n";
  }

  void member_list(const MemberListResponse& r) override {
    Object o;
    o.raw("header", header(r.header));
    if (!r.members.empty()) o.raw("members", array(r.members, member));
    out_ << o.str() << "\n";
  }

  void member_add(const MemberAddResponse& r) override {
    Object o;
    o.raw("header", header(r.header)).raw("member", member(r.member));
    if (!r.members.empty()) o.raw("members", array(r.members, member));
    out_ << o.str() << "\n";
  }
  void member_remove(uint64_t, const MemberChangeResponse& r) override { members(r); }
  void member_update(uint64_t, const MemberChangeResponse& r) override { members(r); }
  void member_promote(uint64_t, const MemberChangeResponse& r) override { members(r); }

  // encoding/json of etcdserverpb.AlarmResponse: the AlarmType as its number.
  void alarm(const AlarmResponse& r) override {
    Object o;
    if (r.header) o.raw("header", header(*r.header));
    if (!r.alarms.empty()) {
      o.raw("alarms", array(r.alarms, [](const AlarmMember& a) {
              return Object()
                  .unum("memberID", a.member_id)
                  .num("alarm", alarm_type_number(a.alarm))
                  .str();
            }));
    }
    out_ << o.str() << "\n";
  }

  // clientv3/snapshot.Status, whose fields have no omitempty.
  void db_status(const SnapshotStatus& s) override {
    out_ << "{\"hash\":" << s.hash << ",\"revision\":" << s.revision
         << ",\"totalKey\":" << s.total_key << ",\"totalSize\":" << s.total_size << "}\n";
  }

  void endpoint_status(const std::vector<EndpointStatus>& statuses) override {
    out_ << array(statuses, [](const EndpointStatus& e) {
      const StatusResponse& s = e.status;
      std::string status = Object()
                               .raw("header", header(s.header))
                               .str("version", s.version)
                               .num("dbSize", s.db_size)
                               .unum("leader", s.leader)
                               .unum("raftIndex", s.raft_index)
                               .unum("raftTerm", s.raft_term)
                               .unum("raftAppliedIndex", s.raft_applied_index)
                               .strings("errors", s.errors)
                               .num("dbSizeInUse", s.db_size_in_use)
                               .boolean("isLearner", s.is_learner)
                               .str();
      return Object().raw("Endpoint", quote(e.endpoint)).raw("Status", status).str();
    }) << "\n";
  }

  // clientv3.LeaseGrantResponse: ID, TTL and Error have no json tags and no omitempty.
  void lease_grant(const LeaseGrantResponse& r) override {
    Object o;
    inline_header(o, r.header)
        .raw("ID", std::to_string(r.id))
        .raw("TTL", std::to_string(r.ttl))
        .raw("Error", quote(r.error));
    out_ << o.str() << "\n";
  }
  // etcdserverpb.LeaseRevokeResponse: the header as a field.
  void lease_revoke(int64_t, const LeaseRevokeResponse& r) override {
    out_ << Object().raw("header", header(r.header)).str() << "\n";
  }
  void lease_keep_alive(const LeaseKeepAliveResponse& r) override {
    Object o;
    inline_header(o, r.header).raw("ID", std::to_string(r.id)).raw("TTL", std::to_string(r.ttl));
    out_ << o.str() << "\n";
  }
  // clientv3.LeaseTimeToLiveResponse's tags: id, ttl, granted-ttl, keys (null when none).
  void lease_time_to_live(const LeaseTimeToLiveResponse& r, bool) override {
    Object o;
    inline_header(o, r.header)
        .raw("id", std::to_string(r.id))
        .raw("ttl", std::to_string(r.ttl))
        .raw("granted-ttl", std::to_string(r.granted_ttl));
    if (r.keys.empty()) {
      o.raw("keys", "null");
    } else {
      o.raw("keys", array(r.keys, [](const std::string& k) {
              return quote(gateway::base64_encode(k));
            }));
    }
    out_ << o.str() << "\n";
  }
  // clientv3.LeaseLeasesResponse: "leases" is never null (clientv3 makes the slice).
  void lease_leases(const LeaseLeasesResponse& r) override {
    Object o;
    inline_header(o, r.header).raw("leases", array(r.ids, [](int64_t id) {
      return Object().raw("id", std::to_string(id)).str();
    }));
    out_ << o.str() << "\n";
  }

  void members(const MemberChangeResponse& r) {
    Object o;
    o.raw("header", header(r.header));
    if (!r.members.empty()) o.raw("members", array(r.members, member));
    out_ << o.str() << "\n";
  }

  void endpoint_health(const std::vector<EndpointHealth>& results) override {
    out_ << array(results, [](const EndpointHealth& h) {
      return Object()
          .raw("endpoint", quote(h.endpoint))
          .raw("health", h.health ? "true" : "false")
          .raw("took", quote(h.took))
          .str("error", h.error)
          .str();
    }) << "\n";
  }

 private:
  // A header and a list of names (user get's roles, the user and role lists).
  void names(const ResponseHeader& h, std::string_view field, const std::vector<std::string>& v) {
    out_ << Object().raw("header", header(h)).strings(field, v).str() << "\n";
  }
};

}  // namespace

std::unique_ptr<Printer> make_json_printer(std::ostream& out, std::ostream& err) {
  return std::make_unique<JsonPrinter>(out, err);
}

}  // namespace etcdlab::cli
