#include "kv_node_logic.h"

#include <fmt/format.h>

#include <map>

#include "etcdlab/codec.h"
#include "etcdlab/errors.h"
#include "kv_node.h"
#include "kv_outputs.h"

namespace etcdlab::sim {
namespace {

using server::ApiError;
using server::GrpcCode;

// A new cluster's first entries, as the server writes them: one AddVoter per member at term
// 1, committed, each with the member's name and peer URLs (never client URLs: every member
// must write the same bytes; members publish their client URLs themselves).
void bootstrap(LogStorage& storage, const std::vector<NodeId>& voters) {
  std::vector<Entry> entries;
  for (NodeId id : voters) {
    server::Member m{id, fmt::format("n{}", id), {sim_peer_url(id)}, {}, false};
    ConfChange cc{ConfChange::Type::kAddVoter, id, server::encode_member_context(m)};
    entries.push_back(Entry{entries.size() + 1, 1, EntryType::kConfChange, encode_value(cc)});
  }
  storage.append(entries);
  storage.set_hard_state(HardState{1, kNoNode, entries.size()});
  storage.sync();
}

class KvNodeLogic final : public NodeLogic {
 public:
  KvNodeLogic(const NodeSetup& setup, NodeHost& host, const KvSimOptions& o)
      : host_(host), applied_(o.applied) {
    LogStorage& storage = *setup.raft.storage;
    if (storage.last_index() == 0 && storage.hard_state().empty() && !setup.raft.voters.empty()) {
      bootstrap(storage, setup.raft.voters);
    }
    server::NodeOptions options;
    options.raft = setup.raft;
    options.name = fmt::format("n{}", setup.raft.id);
    options.client_urls = {sim_client_url(setup.raft.id)};
    options.cluster_token = "etcdlab-sim";
    options.snapshot_count = setup.snapshot_every;
    options.request_epoch = setup.restarts + 1;
    options.tick_ms = static_cast<int>(setup.tick_ms);
    options.request_timeout_ms = o.request_timeout_ms;
    options.quota_bytes = o.quota_bytes;
    options.auto_compaction = o.auto_compaction;
    options.store.compaction_batch = o.compaction_batch;
    node_ = std::make_unique<server::KvNode>(options);
  }

  // DrivenNode
  bool has_ready() const override { return node_->has_ready(); }
  Ready ready() override { return node_->ready(); }
  void apply(const Ready& rd) override {
    for (const Entry& e : rd.committed_entries) host_.applying(e);
    node_->apply(rd);
    if (applied_ && !rd.committed_entries.empty()) {
      applied_(node_->id(), rd.committed_entries, *node_);
    }
    drain();
  }
  void advance(const Ready& rd) override {
    node_->advance(rd);
    drain();
  }

  // NodeLogic
  void tick() override {
    node_->tick();
    drain();
  }
  void step(const Message& m) override { node_->step(m); }
  void report_snapshot(NodeId to, bool ok) override { node_->report_snapshot(to, ok); }
  RaftStatus status() const override { return node_->status(); }
  ConfState conf() const override { return node_->status().conf; }

  void propose(uint64_t op, const std::string& payload) override {
    server::Request request;
    server::Credentials who;
    try {
      server::DecodedRequest decoded = server::decode_stamped_request(payload);
      request = std::move(decoded.request);
      if (decoded.stamp) who.cert_user = decoded.stamp->user;  // (kv_node_logic.h)
    } catch (const DecodeError& e) {
      host_.answer(op, Outcome::kFailed,
                   encode_error_output(ApiError(GrpcCode::kInvalidArgument,
                                                std::string("not a KV request: ") + e.what())),
                   0);
      return;
    }
    if (auto* t = std::get_if<server::TxnRequest>(&request)) {
      // As the gateway: validated by the node, read-only txns without the log.
      track(node_->txn(std::move(*t), who), op, Kind::kWrite, "");
      return;
    }
    if (auto* a = std::get_if<server::AuthenticateRequest>(&request)) {
      // The rpc layer's steps without bcrypt (the simulator has no passwords): the hash's
      // revision, then the proposal.
      a->checked_revision = node_->auth_lookup(a->name).revision;
    }
    track(node_->submit(std::move(request), who), op, Kind::kWrite, "");
  }

  void read(uint64_t op, const std::string& query, bool linearizable) override {
    KvQuery q;
    try {
      q = decode_query(query);
    } catch (const DecodeError& e) {
      host_.answer(op, Outcome::kFailed,
                   encode_error_output(ApiError(GrpcCode::kInvalidArgument,
                                                std::string("not a KV query: ") + e.what())),
                   0);
      return;
    }
    switch (q.kind) {
      case KvQuery::Kind::kRange:
        if (!linearizable) {
          host_.answer(op, Outcome::kOk, read_local(query), node_->applied_index());
          return;
        }
        track(node_->read_index(), op, Kind::kRead, query);
        return;
      case KvQuery::Kind::kKeepAlive:
        track(node_->keep_alive(q.lease), op, Kind::kWrite, "");
        return;
      case KvQuery::Kind::kTimeToLive:
        track(node_->time_to_live(q.lease, q.with_keys), op, Kind::kWrite, "");
        return;
      case KvQuery::Kind::kLeases: {
        server::Result result;
        result.revision = node_->store().revision();
        result.value = server::LeasesResult{node_->leases()};
        host_.answer(op, Outcome::kOk, encode_write_output(result), node_->applied_index());
        return;
      }
    }
  }

  std::vector<PeerMessage> take_peer_messages() override {
    std::vector<PeerMessage> out;
    for (const auto& m : node_->take_messages()) {
      out.push_back(PeerMessage{m.from, m.to, server::encode_node_message(m)});
    }
    return out;
  }
  void receive_peer_message(const PeerMessage& m) override {
    node_->receive(server::decode_node_message(m.data));
    drain();
  }

  void change_membership(uint64_t op, ConfChange::Type type, NodeId node) override {
    server::MemberChange change;
    change.id = node;
    switch (type) {
      case ConfChange::Type::kAddVoter:
      case ConfChange::Type::kAddLearner: {
        bool learner_now = false;
        for (const auto& m : node_->members()) learner_now |= m.id == node && m.learner;
        if (type == ConfChange::Type::kAddVoter && learner_now) {
          change.kind = server::MemberChange::Kind::kPromote;
        } else {
          change.kind = server::MemberChange::Kind::kAdd;
          change.peer_urls = {sim_peer_url(node)};
          change.learner = type == ConfChange::Type::kAddLearner;
          change.new_id = node;
        }
        break;
      }
      case ConfChange::Type::kRemoveNode:
        change.kind = server::MemberChange::Kind::kRemove;
        break;
      case ConfChange::Type::kUpdateNode:
        change.kind = server::MemberChange::Kind::kUpdate;
        change.peer_urls = {sim_peer_url(node)};
        break;
    }
    track(node_->change_member(change), op, Kind::kWrite, "");
  }

  void transfer_leader(uint64_t op, NodeId to) override {
    try {
      node_->transfer_leader(to);
    } catch (const ProposalDropped& e) {
      host_.refused(op, e.what());
    }
  }

  const server::KvNode& node() const { return *node_; }
  server::KvNode& node() { return *node_; }
  bool wants_snapshot() const override { return node_->wants_snapshot(); }
  SnapshotMeta snapshot_meta() const override { return node_->snapshot_meta(); }
  void write_snapshot(SnapshotWriter& out) override { node_->write_snapshot(out); }
  void snapshot_done() override { node_->snapshot_done(); }

  uint64_t applied_index() const override { return node_->applied_index(); }
  uint64_t commands_applied() const override {
    return static_cast<uint64_t>(node_->store().revision() - 1);  // the writes that changed it
  }
  uint64_t state_hash() const override {
    const auto& store = node_->store();
    return (static_cast<uint64_t>(store.revision()) << 32) ^ store.hash_kv(0);
  }
  std::string read_local(const std::string& query) const override {
    KvReadOutput out;
    try {
      KvQuery q = decode_query(query);
      if (q.kind != KvQuery::Kind::kRange) {
        return encode_error_output(ApiError(GrpcCode::kInvalidArgument, "not a range query"));
      }
      out.result = node_->store().range(q.range, q.options);
    } catch (const mvcc::MvccError& e) {
      out.error = e.code();
      out.result.revision = node_->store().revision();
    } catch (const DecodeError& e) {
      return encode_error_output(
          ApiError(GrpcCode::kInvalidArgument, std::string("not a KV query: ") + e.what()));
    }
    return encode_read_output(out);
  }

 private:
  enum class Kind { kWrite, kRead };
  struct Waiting {
    uint64_t op = 0;
    Kind kind = Kind::kWrite;
    std::string query;
  };

  void track(uint64_t request, uint64_t op, Kind kind, std::string query) {
    waiting_[request] = Waiting{op, kind, std::move(query)};
    drain();  // a request refused at once is answered at once
  }

  // Hands the node's completions to the clients that wait for them.
  void drain() {
    for (auto& c : node_->take_completions()) {
      auto it = waiting_.find(c.id);
      if (it == waiting_.end()) continue;
      Waiting w = std::move(it->second);
      waiting_.erase(it);
      if (c.error) {
        if (!c.proposed && c.error->code() == GrpcCode::kUnavailable) {
          host_.refused(w.op, c.error->what());
        } else {
          host_.answer(w.op, c.proposed ? Outcome::kUnknown : Outcome::kFailed,
                       encode_error_output(*c.error), 0);
        }
      } else if (c.result.auth_error) {
        // Refused at apply (auth), on every member alike: it changed nothing.
        host_.answer(w.op, Outcome::kFailed, encode_error_output(*c.result.auth_error), 0);
      } else if (w.kind == Kind::kRead) {
        host_.answer(w.op, Outcome::kOk, read_local(w.query), node_->applied_index());
      } else {
        host_.answer(w.op, Outcome::kOk, encode_write_output(c.result), node_->applied_index());
      }
    }
  }

  NodeHost& host_;
  std::function<void(NodeId, const std::vector<Entry>&, server::KvNode&)> applied_;
  std::unique_ptr<server::KvNode> node_;
  std::map<uint64_t, Waiting> waiting_;  // the node's request id -> the client waiting
};

}  // namespace

std::string sim_peer_url(NodeId id) { return fmt::format("http://10.0.0.{}:2380", id); }
std::string sim_client_url(NodeId id) { return fmt::format("http://10.0.0.{}:2379", id); }

const server::KvNode* kv_node_of(const NodeLogic* logic) {
  const auto* kv = dynamic_cast<const KvNodeLogic*>(logic);
  return kv ? &kv->node() : nullptr;
}

server::KvNode* kv_node_of(NodeLogic* logic) {
  auto* kv = dynamic_cast<KvNodeLogic*>(logic);
  return kv ? &kv->node() : nullptr;
}

NodeLogicFactory kv_node_logic(const KvSimOptions& options) {
  return [options](const NodeSetup& setup, NodeHost& host) -> std::unique_ptr<NodeLogic> {
    return std::make_unique<KvNodeLogic>(setup, host, options);
  };
}

}  // namespace etcdlab::sim
