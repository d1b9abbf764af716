// -w simple (the default), as etcdctl's printer_simple.go: a key line and a value line per
// key-value (raw bytes, or \x escapes with --hex), "OK" for a put, the deleted count for a
// del, comma-separated rows for the member and endpoint commands, and the health lines on
// stderr.
#include <fmt/format.h>

#include "context.h"
#include "go_format.h"
#include "printer.h"

namespace etcdlab::cli {
namespace {

// etcdctl's addHexPrefix(hex.EncodeToString(b)): "\x6b\x65\x79".
std::string hex_escaped(const std::string& bytes) {
  std::string out;
  for (char c : bytes) out += fmt::format("\\x{:02x}", static_cast<uint8_t>(c));
  return out;
}

std::string join(const std::vector<std::string>& row) {
  std::string out;
  for (size_t i = 0; i < row.size(); ++i) out += (i ? ", " : "") + row[i];
  return out;
}

class SimplePrinter : public Printer {
 public:
  SimplePrinter(bool hex, std::ostream& out, std::ostream& err) : Printer(out, err), hex_(hex) {}

  std::string format() const override { return "simple"; }
  void set_value_only() { value_only_ = true; }

  void get(const RangeResponse& r) override {
    for (const KeyValue& kv : r.kvs) print_kv(kv);
  }

  void put(const PutResponse& r) override {
    out_ << "OK\n";
    if (r.prev_kv) print_kv(*r.prev_kv);
  }

  void del(const DeleteRangeResponse& r) override {
    out_ << r.deleted << "\n";
    for (const KeyValue& kv : r.prev_kvs) print_kv(kv);
  }

  void txn(const TxnResponse& r) override {
    out_ << (r.succeeded ? "SUCCESS" : "FAILURE") << "\n";
    for (const TxnOpResponse& op : r.responses) {
      out_ << "\n";
      switch (op.kind) {
        case TxnOpResponse::Kind::kRange:
          get(op.range);
          break;
        case TxnOpResponse::Kind::kPut:
          put(op.put);
          break;
        case TxnOpResponse::Kind::kDeleteRange:
          del(op.delete_range);
          break;
      }
    }
  }

  // The events: PUT or DELETE, then the previous key-value (--prev-kv), then the key-value.
  void watch(const WatchResponse& r) override {
    for (const WatchEvent& e : r.events) {
      out_ << (e.type == WatchEvent::Type::kDelete ? "DELETE" : "PUT") << "\n";
      if (e.prev_kv) print_kv(*e.prev_kv);
      print_kv(e.kv);
    }
  }

  void member_list(const MemberListResponse& r) override {
    for (const auto& row : member_list_rows(r).rows) out_ << join(row) << "\n";
  }

  void endpoint_status(const std::vector<EndpointStatus>& statuses) override {
    for (const auto& row : endpoint_status_rows(statuses).rows) out_ << join(row) << "\n";
  }

  // fmt's "%16x": the id in hex, padded with spaces to 16.
  void member_add(const MemberAddResponse& r) override {
    out_ << fmt::format("Member {:16x} added to cluster {:16x}\n", r.member.id,
                        r.header.cluster_id);
  }
  void member_remove(uint64_t id, const MemberChangeResponse& r) override {
    out_ << fmt::format("Member {:16x} removed from cluster {:16x}\n", id, r.header.cluster_id);
  }
  void member_update(uint64_t id, const MemberChangeResponse& r) override {
    out_ << fmt::format("Member {:16x} updated in cluster {:16x}\n", id, r.header.cluster_id);
  }
  void member_promote(uint64_t id, const MemberChangeResponse& r) override {
    out_ << fmt::format("Member {:16x} promoted in cluster {:16x}\n", id, r.header.cluster_id);
  }
  // fmt's "%+v" of an *AlarmMember: its protobuf text, "memberID:N alarm:NOSPACE ".
  void alarm(const AlarmResponse& r) override {
    for (const AlarmMember& a : r.alarms) {
      if (a.member_id != 0) out_ << "memberID:" << a.member_id << " ";
      if (a.alarm != "NONE") out_ << "alarm:" << a.alarm << " ";
      out_ << "\n";
    }
  }
  void db_status(const SnapshotStatus& s) override {
    for (const auto& row : db_status_rows(s).rows) out_ << join(row) << "\n";
  }
  void lease_grant(const LeaseGrantResponse& r) override {
    out_ << "lease " << lease_hex(r.id) << " granted with TTL(" << r.ttl << "s)\n";
  }
  void lease_revoke(int64_t id, const LeaseRevokeResponse&) override {
    out_ << "lease " << lease_hex(id) << " revoked\n";
  }
  void lease_keep_alive(const LeaseKeepAliveResponse& r) override {
    out_ << "lease " << lease_hex(r.id) << " keepalived with TTL(" << r.ttl << ")\n";
  }
  // The keys as fmt's %v of a []string: raw, space-separated, in brackets.
  void lease_time_to_live(const LeaseTimeToLiveResponse& r, bool keys) override {
    if (r.granted_ttl == 0 && r.ttl == -1) {
      out_ << "lease " << lease_hex(r.id) << " already expired\n";
      return;
    }
    out_ << "lease " << lease_hex(r.id) << " granted with TTL(" << r.granted_ttl
         << "s), remaining(" << r.ttl << "s)";
    if (keys) {
      out_ << ", attached keys([";
      for (size_t i = 0; i < r.keys.size(); ++i) out_ << (i ? " " : "") << r.keys[i];
      out_ << "])";
    }
    out_ << "\n";
  }
  void lease_leases(const LeaseLeasesResponse& r) override {
    out_ << "found " << r.ids.size() << " leases\n";
    for (int64_t id : r.ids) out_ << lease_hex(id) << "\n";
  }
  void endpoint_health(const std::vector<EndpointHealth>& results) override {
    for (const EndpointHealth& h : results) {
      if (h.error.empty()) {
        err_ << h.endpoint << " is healthy: successfully committed proposal: took = " << h.took
             << "\n";
      } else {
        err_ << h.endpoint << " is unhealthy: failed to commit proposal: " << h.error << "\n";
      }
    }
  }

  // ---- auth: what was done, in etcdctl's words.
  void role_add(const std::string& role, const AuthResponse&) override {
    out_ << "Role " << role << " created\n";
  }
  // The role's permissions, readers then writers: a key, or [key, end) with "<open ended>"
  // for an end of "\0" and the prefix noted when the range is one.
  void role_get(const std::string& role, const RoleGetResponse& r) override {
    out_ << "Role " << role << "\nKV Read:\n";
    for (const Permission& p : r.perms) {
      if (p.perm_type == 0 || p.perm_type == 2) permission(p);
    }
    out_ << "KV Write:\n";
    for (const Permission& p : r.perms) {
      if (p.perm_type == 1 || p.perm_type == 2) permission(p);
    }
  }
  void role_delete(const std::string& role, const AuthResponse&) override {
    out_ << "Role " << role << " deleted\n";
  }
  void role_list(const RoleListResponse& r) override {
    for (const auto& role : r.roles) out_ << role << "\n";
  }
  void role_grant_permission(const std::string& role, const AuthResponse&) override {
    out_ << "Role " << role << " updated\n";
  }
  void role_revoke_permission(const std::string& role, const std::string& key,
                              const std::string& end, const AuthResponse&) override {
    if (end.empty()) {
      out_ << "Permission of key " << key << " is revoked from role " << role << "\n";
    } else if (end != std::string(1, '\0')) {
      out_ << "Permission of range [" << key << ", " << end << ") is revoked from role " << role
           << "\n";
    } else {
      out_ << "Permission of range [" << key << ", <open ended> is revoked from role " << role
           << "\n";
    }
  }
  void user_add(const std::string& user, const AuthResponse&) override {
    out_ << "User " << user << " created\n";
  }
  void user_get(const std::string& user, const UserGetResponse& r) override {
    out_ << "User: " << user << "\nRoles:";
    for (const auto& role : r.roles) out_ << " " << role;
    out_ << "\n";
  }
  void user_list(const UserListResponse& r) override {
    for (const auto& user : r.users) out_ << user << "\n";
  }
  void user_change_password(const AuthResponse&) override { out_ << "Password updated\n"; }
  void user_grant_role(const std::string& user, const std::string& role,
                       const AuthResponse&) override {
    out_ << "Role " << role << " is granted to user " << user << "\n";
  }
  void user_revoke_role(const std::string& user, const std::string& role,
                        const AuthResponse&) override {
    out_ << "Role " << role << " is revoked from user " << user << "\n";
  }
  void user_delete(const std::string& user, const AuthResponse&) override {
    out_ << "User " << user << " deleted\n";
  }

 private:
  void permission(const Permission& p) {
    if (p.range_end.empty()) {
      out_ << "\t" << p.key << "\n";
      return;
    }
    if (p.range_end != std::string(1, '\0')) {
      out_ << "\t[" << p.key << ", " << p.range_end << ")";
    } else {
      out_ << "\t[" << p.key << ", <open ended>";
    }
    if (prefix_end(p.key) == p.range_end) out_ << " (prefix " << p.key << ")";
    out_ << "\n";
  }

  // etcdctl's printKV.
  void print_kv(const KeyValue& kv) {
    if (!value_only_) out_ << (hex_ ? hex_escaped(kv.key) : kv.key) << "\n";
    out_ << (hex_ ? hex_escaped(kv.value) : kv.value) << "\n";
  }

  bool hex_;
  bool value_only_ = false;
};

}  // namespace

std::unique_ptr<Printer> make_simple_printer(bool hex, std::ostream& out, std::ostream& err) {
  return std::make_unique<SimplePrinter>(hex, out, err);
}

bool set_value_only(Printer& p) {
  auto* simple = dynamic_cast<SimplePrinter*>(&p);
  if (simple) simple->set_value_only();
  return simple != nullptr;
}

}  // namespace etcdlab::cli
