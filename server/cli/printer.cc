#include "printer.h"

#include "context.h"
#include "go_format.h"

namespace etcdlab::cli {
namespace {

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

const char* boolean(bool b) {
  return b ? "true" : "false";
}

}  // namespace

void Printer::unsupported() const {
  throw ExitError(kExitBadFeature, format() + " not supported as output format");
}

void Printer::get(const RangeResponse&) {
  unsupported();
}
void Printer::put(const PutResponse&) {
  unsupported();
}
void Printer::del(const DeleteRangeResponse&) {
  unsupported();
}
void Printer::txn(const TxnResponse&) {
  unsupported();
}
void Printer::compact(const CompactionResponse&, int64_t revision) {
  out_ << "compacted revision " << revision << "\n";
}
void Printer::watch(const WatchResponse&) {
  unsupported();
}
void Printer::member_list(const MemberListResponse&) {
  unsupported();
}
void Printer::endpoint_status(const std::vector<EndpointStatus>&) {
  unsupported();
}
void Printer::endpoint_health(const std::vector<EndpointHealth>&) {
  unsupported();
}
void Printer::member_add(const MemberAddResponse&) {
  unsupported();
}
void Printer::member_remove(uint64_t, const MemberChangeResponse&) {
  unsupported();
}
void Printer::member_update(uint64_t, const MemberChangeResponse&) {
  unsupported();
}
void Printer::member_promote(uint64_t, const MemberChangeResponse&) {
  unsupported();
}
void Printer::alarm(const AlarmResponse&) {
  unsupported();
}
void Printer::db_status(const SnapshotStatus&) {
  unsupported();
}
void Printer::lease_grant(const LeaseGrantResponse&) {
  unsupported();
}
void Printer::lease_revoke(int64_t, const LeaseRevokeResponse&) {
  unsupported();
}
void Printer::lease_keep_alive(const LeaseKeepAliveResponse&) {
  unsupported();
}
void Printer::lease_time_to_live(const LeaseTimeToLiveResponse&, bool) {
  unsupported();
}
void Printer::lease_leases(const LeaseLeasesResponse&) {
  unsupported();
}

void Printer::auth_header(const ResponseHeader&) {
  unsupported();
}
void Printer::role_add(const std::string&, const AuthResponse& r) {
  auth_header(r.header);
}
void Printer::role_get(const std::string&, const RoleGetResponse&) {
  unsupported();
}
void Printer::role_delete(const std::string&, const AuthResponse& r) {
  auth_header(r.header);
}
void Printer::role_list(const RoleListResponse&) {
  unsupported();
}
void Printer::role_grant_permission(const std::string&, const AuthResponse& r) {
  auth_header(r.header);
}
void Printer::role_revoke_permission(const std::string&, const std::string&, const std::string&,
                                     const AuthResponse& r) {
  auth_header(r.header);
}
void Printer::user_add(const std::string&, const AuthResponse& r) {
  auth_header(r.header);
}
void Printer::user_get(const std::string&, const UserGetResponse&) {
  unsupported();
}
void Printer::user_list(const UserListResponse&) {
  unsupported();
}
void Printer::user_change_password(const AuthResponse& r) {
  auth_header(r.header);
}
void Printer::user_grant_role(const std::string&, const std::string&, const AuthResponse& r) {
  auth_header(r.header);
}
void Printer::user_revoke_role(const std::string&, const std::string&, const AuthResponse& r) {
  auth_header(r.header);
}
void Printer::user_delete(const std::string&, const AuthResponse& r) {
  auth_header(r.header);
}

std::unique_ptr<Printer> make_printer(const std::string& format, bool hex, std::ostream& out,
                                      std::ostream& err) {
  if (format == "simple") return make_simple_printer(hex, out, err);
  if (format == "json") return make_json_printer(out, err);
  if (format == "table") return make_table_printer(out, err);
  if (format == "fields") return make_fields_printer(out, err);
  if (format == "protobuf") return make_protobuf_printer(out, err);
  return nullptr;
}

Rows member_list_rows(const MemberListResponse& r) {
  Rows t{{"ID", "Status", "Name", "Peer Addrs", "Client Addrs", "Is Learner"}, {}};
  for (const Member& m : r.members) {
    t.rows.push_back({hex(m.id), m.name.empty() ? "unstarted" : "started", m.name,
                      join(m.peer_urls, ","), join(m.client_urls, ","), boolean(m.is_learner)});
  }
  return t;
}

Rows endpoint_status_rows(const std::vector<EndpointStatus>& statuses) {
  Rows t{{"endpoint", "ID", "version", "db size", "is leader", "is learner", "raft term",
          "raft index", "raft applied index", "errors"},
         {}};
  for (const EndpointStatus& e : statuses) {
    const StatusResponse& s = e.status;
    t.rows.push_back({e.endpoint, hex(s.header.member_id), s.version,
                      human_bytes(static_cast<uint64_t>(s.db_size)),
                      boolean(s.leader == s.header.member_id), boolean(s.is_learner),
                      std::to_string(s.raft_term), std::to_string(s.raft_index),
                      std::to_string(s.raft_applied_index), join(s.errors, ", ")});
  }
  return t;
}

Rows endpoint_health_rows(const std::vector<EndpointHealth>& results) {
  Rows t{{"endpoint", "health", "took", "error"}, {}};
  for (const EndpointHealth& h : results) {
    t.rows.push_back({h.endpoint, boolean(h.health), h.took, h.error});
  }
  return t;
}

Rows db_status_rows(const SnapshotStatus& s) {
  return Rows{{"hash", "revision", "total keys", "total size"},
              {{hex(s.hash), std::to_string(s.revision), std::to_string(s.total_key),
                human_bytes(static_cast<uint64_t>(s.total_size))}}};
}

}  // namespace etcdlab::cli
