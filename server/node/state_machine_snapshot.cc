// KvStateMachine's replicated state as bytes: a member (in a configuration change's context
// and in the node snapshot's header) and the node snapshot itself (format: state_machine.h).
#include "etcdlab/codec.h"
#include "etcdlab/errors.h"
#include "state_machine.h"

namespace etcdlab::server {
namespace {

constexpr uint64_t kSnapshotVersion = 3;  // 2: alarms and removed members; 3: recent request ids

void encode_member(Writer& w, const Member& m) {
  w.u64(m.id);
  w.bytes(m.name);
  w.u64(m.peer_urls.size());
  for (const auto& u : m.peer_urls) w.bytes(u);
  w.u64(m.client_urls.size());
  for (const auto& u : m.client_urls) w.bytes(u);
  w.boolean(m.learner);
}

Member decode_member(Reader& r) {
  Member m;
  m.id = r.u64("member.id");
  m.name = r.bytes("member.name");
  uint64_t n = r.count("member.peer_urls", 1);
  for (uint64_t i = 0; i < n; ++i) m.peer_urls.push_back(r.bytes("member.peer_url"));
  n = r.count("member.client_urls", 1);
  for (uint64_t i = 0; i < n; ++i) m.client_urls.push_back(r.bytes("member.client_url"));
  m.learner = r.boolean("member.learner");
  return m;
}

}  // namespace

std::string encode_member_context(const Member& m, uint64_t request_id) {
  std::string out;
  Writer w(out);
  w.u64(request_id);
  encode_member(w, m);
  return out;
}

std::pair<uint64_t, Member> decode_member_context(std::string_view context) {
  Reader r(context);
  uint64_t id = r.u64("conf change request id");
  Member m = decode_member(r);
  r.expect_done("conf change context");
  return {id, std::move(m)};
}

std::string KvStateMachine::snapshot_header() const {
  std::string header;
  Writer h(header);
  h.u64(kSnapshotVersion);
  h.u64(members_.size());
  for (const auto& [id, m] : members_) encode_member(h, m);
  h.u64(alarms_.size());
  for (const Alarm& a : alarms_) {
    h.u64(a.member);
    h.u64(static_cast<uint64_t>(a.type));
  }
  h.u64(removed_.size());
  for (NodeId id : removed_) h.u64(id);
  h.u64(recent_.size());
  for (uint64_t id : recent_) h.u64(id);
  std::string out;
  Writer w(out);
  w.fixed64(header.size());
  return out + header;
}

void KvStateMachine::write_snapshot(const std::function<void(std::string_view)>& out) {
  store_->make_durable();
  out(snapshot_header());
  store_->snapshot(out);
}

struct KvStateMachine::SnapshotHeader {
  std::map<NodeId, Member> members;
  std::set<Alarm> alarms;
  std::set<NodeId> removed;
  std::deque<uint64_t> recent;
  uint64_t store_offset = 0;  // where the store's part begins
};

namespace {

using Header = KvStateMachine::SnapshotHeader;

Header read_header(const std::function<std::string(uint64_t, uint64_t)>& read) {
  std::string head = read(0, 8);
  Reader r(head);
  uint64_t header_len = r.fixed64("snapshot header length");
  std::string header = read(8, header_len);
  if (header.size() != header_len) throw DecodeError("node snapshot header is truncated", 8);
  Reader h(header);
  uint64_t version = h.u64("snapshot version");
  if (version != 2 && version != kSnapshotVersion) {
    throw DecodeError("unknown node snapshot version " + std::to_string(version) +
                          " (this build reads versions 2 and 3)", 8);
  }
  Header out;
  uint64_t n = h.count("members", 1);
  for (uint64_t i = 0; i < n; ++i) {
    Member m = decode_member(h);
    out.members[m.id] = m;
  }
  n = h.count("alarms", 2);
  for (uint64_t i = 0; i < n; ++i) {
    Alarm a;
    a.member = h.u64("alarm.member");
    uint64_t type = h.u64("alarm.type");
    if (type > static_cast<uint64_t>(AlarmType::kCorrupt)) {
      throw DecodeError("unknown alarm type in the snapshot header", 8);
    }
    a.type = static_cast<AlarmType>(type);
    out.alarms.insert(a);
  }
  n = h.count("removed members", 1);
  for (uint64_t i = 0; i < n; ++i) out.removed.insert(h.u64("removed member"));
  if (version >= 3) {
    n = h.count("recent request ids", 1);
    for (uint64_t i = 0; i < n; ++i) out.recent.push_back(h.u64("recent request id"));
  }
  h.expect_done("node snapshot header");
  out.store_offset = 8 + header_len;
  return out;
}

}  // namespace

void KvStateMachine::adopt(SnapshotHeader&& header) {
  members_ = std::move(header.members);
  alarms_ = std::move(header.alarms);
  removed_ = std::move(header.removed);
  recent_ = std::move(header.recent);
  recent_set_ = {recent_.begin(), recent_.end()};
}

void KvStateMachine::restore_members(const std::function<std::string(uint64_t, uint64_t)>& read) {
  Header header = read_header(read);
  adopt(std::move(header));
}

std::string KvStateMachine::snapshot_header_of(
    const std::function<std::string(uint64_t, uint64_t)>& read) {
  Header header = read_header(read);  // (checks it)
  return read(0, header.store_offset);
}

void KvStateMachine::restore(const std::function<std::string(uint64_t, uint64_t)>& read,
                             uint64_t size) {
  Header header = read_header(read);
  if (size <= header.store_offset) {
    throw DecodeError("the node snapshot holds no store (a member's own snapshot: its "
                      "header alone), so the store cannot be rebuilt from it",
                      header.store_offset);
  }
  uint64_t at = header.store_offset;
  store_->restore([&]() {
    std::string chunk = read(at, 1 << 20);
    at += chunk.size();
    return chunk;
  });
  // The store's database came with its lease and auth tables: the lessor reads both again,
  // the auth store its tables.
  lessor_ = lease::Lessor::open(lessor_config_, *lease_table_, *store_);
  auth_->reload();
  watches_.restored(*store_);
  adopt(std::move(header));
  compacting_ = true;  // the snapshot may hold a compaction's unfinished work
}

}  // namespace etcdlab::server
