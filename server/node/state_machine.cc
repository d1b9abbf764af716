#include "state_machine.h"

#include "etcdlab/codec.h"
#include "etcdlab/errors.h"

namespace etcdlab::server {
namespace {

constexpr uint64_t kSnapshotVersion = 1;

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

Result apply_request(mvcc::KvStore& store, const Request& request) {
  Result result;
  try {
    if (const auto* put = std::get_if<PutRequest>(&request)) {
      if (put->lease != 0) {
        result.error = RequestError::kLeaseNotFound;  // there are no leases yet (lab 4)
      } else {
        result.value = store.put(put->key, put->value, put->lease, put->options);
      }
    } else if (const auto* del = std::get_if<DeleteRangeRequest>(&request)) {
      result.value = store.delete_range(del->range, del->prev_kv);
    } else if (const auto* compaction = std::get_if<CompactionRequest>(&request)) {
      store.compact(compaction->revision);
      result.value = CompactionResult{};
    } else {
      result.value = AttributesResult{};
    }
  } catch (const mvcc::MvccError& e) {
    result.store_error = e.code();
  }
  result.revision = store.revision();
  return result;
}

std::string encode_member_context(const Member& m) {
  std::string out;
  Writer w(out);
  encode_member(w, m);
  return out;
}

KvStateMachine::KvStateMachine(std::unique_ptr<mvcc::KvStore> store,
                               const std::vector<Member>& members)
    : store_(std::move(store)), compacting_(true) {  // true: finish a compaction a crash cut
  for (const auto& m : members) members_[m.id] = m;
}

std::vector<AppliedRequest> KvStateMachine::apply(
    const std::vector<Entry>& entries,
    const std::function<void(const ConfChange&)>& on_conf_change) {
  std::vector<AppliedRequest> out;
  if (entries.empty()) return out;
  uint64_t held = store_->consistent_index();
  store_->begin_batch();
  for (const Entry& e : entries) {
    if (e.type == EntryType::kConfChange) {
      ConfChange cc = decode_value<ConfChange>(e.data, "conf change entry");
      apply_conf_change(cc);
      if (on_conf_change) on_conf_change(cc);
    } else if (!e.data.empty()) {  // (empty: a new leader's entry)
      if (e.index > held) {
        out.push_back(apply_normal(e));
      } else {
        reapply_membership(e);
      }
    }
  }
  store_->commit_batch(std::max(entries.back().index, held));
  return out;
}

AppliedRequest KvStateMachine::apply_normal(const Entry& e) {
  auto [id, request] = decode_request(e.data);
  AppliedRequest applied{id, std::move(request), {}};
  if (const auto* attributes = std::get_if<AttributesRequest>(&applied.request)) {
    Member& m = members_[attributes->member];
    m.id = attributes->member;
    m.name = attributes->name;
    m.client_urls = attributes->client_urls;
    applied.result.value = AttributesResult{};
    applied.result.revision = store_->revision();
  } else {
    applied.result = apply_request(*store_, applied.request);
    if (std::holds_alternative<CompactionRequest>(applied.request) && applied.result.ok()) {
      compacting_ = true;
    }
  }
  return applied;
}

void KvStateMachine::reapply_membership(const Entry& e) {
  // The store already holds this entry's effect, but the member list lives in memory: a
  // member's published attributes must be applied again after a restart, as conf changes are.
  auto [id, request] = decode_request(e.data);
  (void)id;
  if (const auto* attributes = std::get_if<AttributesRequest>(&request)) {
    Member& m = members_[attributes->member];
    m.id = attributes->member;
    m.name = attributes->name;
    m.client_urls = attributes->client_urls;
  }
}

void KvStateMachine::apply_conf_change(const ConfChange& cc) {
  switch (cc.type) {
    case ConfChange::Type::kAddVoter:
    case ConfChange::Type::kAddLearner:
    case ConfChange::Type::kUpdateNode: {
      Member m = members_.count(cc.node_id) ? members_[cc.node_id] : Member{};
      m.id = cc.node_id;
      if (!cc.context.empty()) {
        Reader r(cc.context);
        Member given = decode_member(r);
        m.name = given.name.empty() ? m.name : given.name;
        m.peer_urls = given.peer_urls;
      }
      m.learner = cc.type == ConfChange::Type::kAddLearner ||
                  (cc.type == ConfChange::Type::kUpdateNode && m.learner);
      members_[m.id] = m;
      break;
    }
    case ConfChange::Type::kRemoveNode:
      members_.erase(cc.node_id);
      break;
  }
}

bool KvStateMachine::compaction_step() {
  if (!compacting_) return true;
  if (store_->compaction_step()) compacting_ = false;
  return !compacting_;
}

void KvStateMachine::write_snapshot(const std::function<void(std::string_view)>& out) {
  store_->make_durable();
  std::string header;
  Writer h(header);
  h.u64(kSnapshotVersion);
  h.u64(members_.size());
  for (const auto& [id, m] : members_) encode_member(h, m);
  std::string head;
  Writer w(head);
  w.fixed64(header.size());
  out(head);
  out(header);
  store_->snapshot(out);
}

namespace {

// The member header of a node snapshot, and where the store's part begins.
std::pair<std::map<NodeId, Member>, uint64_t> read_header(
    const std::function<std::string(uint64_t, uint64_t)>& read) {
  std::string head = read(0, 8);
  Reader r(head);
  uint64_t header_len = r.fixed64("snapshot header length");
  std::string header = read(8, header_len);
  if (header.size() != header_len) throw DecodeError("node snapshot header is truncated", 8);
  Reader h(header);
  if (uint64_t v = h.u64("snapshot version"); v != kSnapshotVersion) {
    throw DecodeError("unknown node snapshot version " + std::to_string(v), 8);
  }
  uint64_t n = h.count("members", 1);
  std::map<NodeId, Member> members;
  for (uint64_t i = 0; i < n; ++i) {
    Member m = decode_member(h);
    members[m.id] = m;
  }
  return {std::move(members), 8 + header_len};
}

}  // namespace

void KvStateMachine::restore_members(const std::function<std::string(uint64_t, uint64_t)>& read) {
  members_ = read_header(read).first;
}

void KvStateMachine::restore(const std::function<std::string(uint64_t, uint64_t)>& read) {
  auto [members, at] = read_header(read);
  store_->restore([&]() {
    std::string chunk = read(at, 1 << 20);
    at += chunk.size();
    return chunk;
  });
  members_ = std::move(members);
  compacting_ = true;  // the snapshot may hold a compaction's unfinished work
}

std::vector<Member> KvStateMachine::members() const {
  std::vector<Member> out;
  for (const auto& [id, m] : members_) out.push_back(m);
  return out;
}

}  // namespace etcdlab::server
