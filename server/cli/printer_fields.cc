// -w fields, as etcdctl's printer_fields.go: one `"Name" : value` line per field, numbers and
// booleans as Go prints them, bytes and strings quoted with Go's %q; the header's four fields
// first; a blank line after each member and endpoint.
#include "go_format.h"
#include "printer.h"

namespace etcdlab::cli {
namespace {

class FieldsPrinter : public Printer {
 public:
  FieldsPrinter(std::ostream& out, std::ostream& err) : Printer(out, err) {}
  std::string format() const override { return "fields"; }

  void get(const RangeResponse& r) override {
    header(r.header);
    for (const KeyValue& k : r.kvs) kv("", k);
    out_ << "\"More\" : " << (r.more ? "true" : "false") << "\n";
    out_ << "\"Count\" : " << r.count << "\n";
  }

  void put(const PutResponse& r) override {
    header(r.header);
    if (r.prev_kv) kv("Prev", *r.prev_kv);
  }

  // The header, "Succeeded", then each response as get, put or del prints it.
  void txn(const TxnResponse& r) override {
    header(r.header);
    out_ << "\"Succeeded\" : " << (r.succeeded ? "true" : "false") << "\n";
    for (const TxnOpResponse& op : r.responses) {
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

  // The header of each response, then per event its type and key-values (Prev first).
  void watch(const WatchResponse& r) override {
    header(r.header);
    for (const WatchEvent& e : r.events) {
      out_ << "\"Type\" : " << (e.type == WatchEvent::Type::kDelete ? "DELETE" : "PUT") << "\n";
      if (e.prev_kv) kv("Prev", *e.prev_kv);
      kv("", e.kv);
    }
  }

  void del(const DeleteRangeResponse& r) override {
    header(r.header);
    out_ << "\"Deleted\" : " << r.deleted << "\n";
    for (const KeyValue& k : r.prev_kvs) kv("Prev", k);
  }

  void member_list(const MemberListResponse& r) override {
    header(r.header);
    for (const Member& m : r.members) {
      out_ << "\"ID\" : " << m.id << "\n";
      out_ << "\"Name\" : " << go_quote(m.name) << "\n";
      for (const auto& u : m.peer_urls) out_ << "\"PeerURL\" : " << go_quote(u) << "\n";
      for (const auto& u : m.client_urls) out_ << "\"ClientURL\" : " << go_quote(u) << "\n";
      out_ << "\"IsLearner\" : " << (m.is_learner ? "true" : "false") << "\n\n";
    }
  }

  void endpoint_status(const std::vector<EndpointStatus>& statuses) override {
    for (const EndpointStatus& e : statuses) {
      const StatusResponse& s = e.status;
      header(s.header);
      out_ << "\"Version\" : " << go_quote(s.version) << "\n";
      out_ << "\"DBSize\" : " << s.db_size << "\n";
      out_ << "\"Leader\" : " << s.leader << "\n";
      out_ << "\"IsLearner\" : " << (s.is_learner ? "true" : "false") << "\n";
      out_ << "\"RaftIndex\" : " << s.raft_index << "\n";
      out_ << "\"RaftTerm\" : " << s.raft_term << "\n";
      out_ << "\"RaftAppliedIndex\" : " << s.raft_applied_index << "\n";
      // fmt.Println of a []string: [a b]
      out_ << "\"Errors\" : [";
      for (size_t i = 0; i < s.errors.size(); ++i) out_ << (i ? " " : "") << s.errors[i];
      out_ << "]\n";
      out_ << "\"Endpoint\" : " << go_quote(e.endpoint) << "\n\n";
    }
  }

  void endpoint_health(const std::vector<EndpointHealth>& results) override {
    for (const EndpointHealth& h : results) {
      out_ << "\"Endpoint\" : " << go_quote(h.endpoint) << "\n";
      out_ << "\"Health\" : " << (h.health ? "true" : "false") << "\n";
      out_ << "\"Took\" : " << h.took << "\n";
      out_ << "\"Error\" : " << h.error << "\n\n";
    }
  }

  // etcdctl 3.4 dereferences the missing header here and panics; this prints the alarms.
  void alarm(const AlarmResponse& r) override {
    if (r.header) header(*r.header);
    for (const AlarmMember& a : r.alarms) {
      out_ << "\"MemberID\" : " << a.member_id << "\n";
      out_ << "\"AlarmType\" : " << a.alarm << "\n\n";
    }
  }

  void lease_grant(const LeaseGrantResponse& r) override {
    header(r.header);
    out_ << "\"ID\" : " << r.id << "\n";
    out_ << "\"TTL\" : " << r.ttl << "\n";
  }
  void lease_revoke(int64_t, const LeaseRevokeResponse& r) override { header(r.header); }
  void lease_keep_alive(const LeaseKeepAliveResponse& r) override {
    header(r.header);
    out_ << "\"ID\" : " << r.id << "\n";
    out_ << "\"TTL\" : " << r.ttl << "\n";
  }
  void lease_time_to_live(const LeaseTimeToLiveResponse& r, bool) override {
    header(r.header);
    out_ << "\"ID\" : " << r.id << "\n";
    out_ << "\"TTL\" : " << r.ttl << "\n";
    out_ << "\"GrantedTTL\" : " << r.granted_ttl << "\n";
    for (const auto& k : r.keys) out_ << "\"Key\" : " << go_quote(k) << "\n";
  }
  void lease_leases(const LeaseLeasesResponse& r) override {
    header(r.header);
    for (int64_t id : r.ids) out_ << "\"ID\" : " << id << "\n";
  }

  void db_status(const SnapshotStatus& s) override {
    out_ << "\"Hash\" : " << s.hash << "\n";
    out_ << "\"Revision\" : " << s.revision << "\n";
    out_ << "\"Keys\" : " << s.total_key << "\n";
    out_ << "\"Size\" : " << s.total_size << "\n";
  }

  void auth_header(const ResponseHeader& h) override { header(h); }
  void role_get(const std::string&, const RoleGetResponse& r) override {
    header(r.header);
    for (const Permission& p : r.perms) {
      // fmt.Println(`"PermType" : `, name): Println's space after the first operand too.
      out_ << "\"PermType\" :  " << perm_type_name(p.perm_type) << "\n";
      out_ << "\"Key\" : " << go_quote(p.key) << "\n";
      out_ << "\"RangeEnd\" : " << go_quote(p.range_end) << "\n";
    }
  }
  void role_list(const RoleListResponse& r) override {
    header(r.header);
    out_ << "\"Roles\" :";
    for (const auto& role : r.roles) out_ << " " << go_quote(role);
    out_ << "\n";
  }

 private:
  void header(const ResponseHeader& h) {
    out_ << "\"ClusterID\" : " << h.cluster_id << "\n";
    out_ << "\"MemberID\" : " << h.member_id << "\n";
    out_ << "\"Revision\" : " << h.revision << "\n";
    out_ << "\"RaftTerm\" : " << h.raft_term << "\n";
  }

  void kv(const std::string& prefix, const KeyValue& k) {
    out_ << "\"" << prefix << "Key\" : " << go_quote(k.key) << "\n";
    out_ << "\"" << prefix << "CreateRevision\" : " << k.create_revision << "\n";
    out_ << "\"" << prefix << "ModRevision\" : " << k.mod_revision << "\n";
    out_ << "\"" << prefix << "Version\" : " << k.version << "\n";
    out_ << "\"" << prefix << "Value\" : " << go_quote(k.value) << "\n";
    out_ << "\"" << prefix << "Lease\" : " << k.lease << "\n";
  }
};

}  // namespace

std::unique_ptr<Printer> make_fields_printer(std::ostream& out, std::ostream& err) {
  return std::make_unique<FieldsPrinter>(out, err);
}

}  // namespace etcdlab::cli
