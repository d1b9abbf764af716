// -w protobuf, as etcdctl's printer_protobuf.go: the response's protobuf encoding (proto3,
// fields in number order, zero values left out, the header always present), raw, with no
// newline. The endpoint commands are "protobuf not supported as output format".
//
// The lease commands print what etcdctl 3.4's printPB makes of clientv3's lease structs: those
// that embed *pb.ResponseHeader (grant, keep-alive, time-to-live, list) get its Marshal
// method, so only the header is printed; LeaseRevokeResponse has none, so revoke fails with
// "marshal unsupported for type ...".
#include "context.h"
#include "printer.h"

namespace etcdlab::cli {
namespace {

class Message {
 public:
  Message& uint(int field, uint64_t v) {
    if (v != 0) {
      tag(field, 0);
      varint(v);
    }
    return *this;
  }
  Message& sint(int field, int64_t v) { return uint(field, static_cast<uint64_t>(v)); }
  Message& boolean(int field, bool v) { return uint(field, v ? 1 : 0); }
  Message& bytes(int field, std::string_view v) {
    if (!v.empty()) embedded(field, v);
    return *this;
  }
  // A repeated string's element, or a present message: written even when empty.
  Message& embedded(int field, std::string_view v) {
    tag(field, 2);
    varint(v.size());
    data_ += v;
    return *this;
  }
  const std::string& data() const { return data_; }

 private:
  void tag(int field, int wire_type) { varint(static_cast<uint64_t>(field << 3 | wire_type)); }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      data_ += static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    data_ += static_cast<char>(v);
  }
  std::string data_;
};

std::string header(const ResponseHeader& h) {
  return Message()
      .uint(1, h.cluster_id)
      .uint(2, h.member_id)
      .sint(3, h.revision)
      .uint(4, h.raft_term)
      .data();
}

std::string kv(const KeyValue& k) {
  return Message()
      .bytes(1, k.key)
      .sint(2, k.create_revision)
      .sint(3, k.mod_revision)
      .sint(4, k.version)
      .bytes(5, k.value)
      .sint(6, k.lease)
      .data();
}

std::string range_message(const RangeResponse& r) {
  Message m;
  m.embedded(1, header(r.header));
  for (const KeyValue& k : r.kvs) m.embedded(2, kv(k));
  return m.boolean(3, r.more).sint(4, r.count).data();
}

std::string put_message(const PutResponse& r) {
  Message m;
  m.embedded(1, header(r.header));
  if (r.prev_kv) m.embedded(2, kv(*r.prev_kv));
  return m.data();
}

std::string delete_message(const DeleteRangeResponse& r) {
  Message m;
  m.embedded(1, header(r.header)).sint(2, r.deleted);
  for (const KeyValue& k : r.prev_kvs) m.embedded(3, kv(k));
  return m.data();
}

// gogoproto's CompactTextString of a header: "cluster_id:1 member_id:2 revision:3 raft_term:4 ".
std::string header_text(const ResponseHeader& h) {
  std::string out;
  if (h.cluster_id) out += "cluster_id:" + std::to_string(h.cluster_id) + " ";
  if (h.member_id) out += "member_id:" + std::to_string(h.member_id) + " ";
  if (h.revision) out += "revision:" + std::to_string(h.revision) + " ";
  if (h.raft_term) out += "raft_term:" + std::to_string(h.raft_term) + " ";
  return out;
}

class ProtobufPrinter : public Printer {
 public:
  ProtobufPrinter(std::ostream& out, std::ostream& err) : Printer(out, err) {}
  std::string format() const override { return "protobuf"; }

  void get(const RangeResponse& r) override { out_ << range_message(r); }
  void put(const PutResponse& r) override { out_ << put_message(r); }
  void del(const DeleteRangeResponse& r) override { out_ << delete_message(r); }

  // ---- auth: Auth*Response, the header at 1 and the rest at 2 (authpb.Permission: permType
  // 1, key 2, range_end 3; names: repeated strings).
  void auth_header(const ResponseHeader& h) override { print(Message().embedded(1, header(h))); }
  void role_get(const std::string&, const RoleGetResponse& r) override {
    Message m;
    m.embedded(1, header(r.header));
    for (const Permission& p : r.perms) {
      m.embedded(2, Message()
                        .uint(1, static_cast<uint64_t>(p.perm_type))
                        .bytes(2, p.key)
                        .bytes(3, p.range_end)
                        .data());
    }
    print(m);
  }
  void role_list(const RoleListResponse& r) override { names(r.header, r.roles); }
  void user_get(const std::string&, const UserGetResponse& r) override {
    names(r.header, r.roles);
  }
  void user_list(const UserListResponse& r) override { names(r.header, r.users); }

  // pb.TxnResponse: header (1), succeeded (2), responses (3), each a ResponseOp with its
  // response at 1 (range), 2 (put) or 3 (delete range).
  void txn(const TxnResponse& r) override {
    Message m;
    m.embedded(1, header(r.header)).boolean(2, r.succeeded);
    for (const TxnOpResponse& op : r.responses) {
      Message each;
      switch (op.kind) {
        case TxnOpResponse::Kind::kRange:
          each.embedded(1, range_message(op.range));
          break;
        case TxnOpResponse::Kind::kPut:
          each.embedded(2, put_message(op.put));
          break;
        case TxnOpResponse::Kind::kDeleteRange:
          each.embedded(3, delete_message(op.delete_range));
          break;
      }
      m.embedded(3, each.data());
    }
    print(m);
  }

  // etcdctl rebuilds a pb.WatchResponse from clientv3's: the header, created (3), canceled (4),
  // compact_revision (5) and the events (11: type, kv, prev_kv); not the id or the reason.
  void watch(const WatchResponse& r) override {
    Message m;
    m.embedded(1, header(r.header))
        .boolean(3, r.created)
        .boolean(4, r.canceled)
        .sint(5, r.compact_revision);
    for (const WatchEvent& e : r.events) {
      Message event;
      event.uint(1, static_cast<uint64_t>(e.type)).embedded(2, kv(e.kv));
      if (e.prev_kv) event.embedded(3, kv(*e.prev_kv));
      m.embedded(11, event.data());
    }
    print(m);
  }

  void member_list(const MemberListResponse& r) override { members(r.header, r.members, 2); }

  void member_add(const MemberAddResponse& r) override {
    Message m;
    m.embedded(1, header(r.header)).embedded(2, member(r.member));
    for (const Member& each : r.members) m.embedded(3, member(each));
    print(m);
  }
  void member_remove(uint64_t, const MemberChangeResponse& r) override {
    members(r.header, r.members, 2);
  }
  void member_update(uint64_t, const MemberChangeResponse& r) override {
    members(r.header, r.members, 2);
  }
  void member_promote(uint64_t, const MemberChangeResponse& r) override {
    members(r.header, r.members, 2);
  }

  void alarm(const AlarmResponse& r) override {
    Message m;
    if (r.header) m.embedded(1, header(*r.header));
    for (const AlarmMember& a : r.alarms) {
      m.embedded(2, Message()
                        .uint(1, a.member_id)
                        .uint(2, static_cast<uint64_t>(alarm_type_number(a.alarm)))
                        .data());
    }
    print(m);
  }

  void lease_grant(const LeaseGrantResponse& r) override { out_ << header(r.header); }
  void lease_keep_alive(const LeaseKeepAliveResponse& r) override { out_ << header(r.header); }
  void lease_time_to_live(const LeaseTimeToLiveResponse& r, bool) override {
    out_ << header(r.header);
  }
  void lease_leases(const LeaseLeasesResponse& r) override { out_ << header(r.header); }
  void lease_revoke(int64_t, const LeaseRevokeResponse& r) override {
    throw ExitError(kExitBadFeature,
                    "marshal unsupported for type clientv3.LeaseRevokeResponse ({" +
                        header_text(r.header) + "})");
  }

 private:
  static std::string member(const Member& member) {
    Message e;
    e.uint(1, member.id).bytes(2, member.name);
    for (const auto& u : member.peer_urls) e.embedded(3, u);
    for (const auto& u : member.client_urls) e.embedded(4, u);
    e.boolean(5, member.is_learner);
    return e.data();
  }
  // A response of a header and the members, the members at field `field`.
  void members(const ResponseHeader& h, const std::vector<Member>& list, int field) {
    Message m;
    m.embedded(1, header(h));
    for (const Member& each : list) m.embedded(field, member(each));
    print(m);
  }
  void names(const ResponseHeader& h, const std::vector<std::string>& list) {
    Message m;
    m.embedded(1, header(h));
    for (const auto& name : list) m.embedded(2, name);
    print(m);
  }
  void print(const Message& m) { out_ << m.data(); }
};

}  // namespace

std::unique_ptr<Printer> make_protobuf_printer(std::ostream& out, std::ostream& err) {
  return std::make_unique<ProtobufPrinter>(out, err);
}

}  // namespace etcdlab::cli
