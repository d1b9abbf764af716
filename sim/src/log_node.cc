#include "log_node.h"

#include <fmt/format.h>

#include <cstdio>

#include "etcdlab/codec.h"

namespace etcdlab::sim {

LogNode::LogNode(const NodeSetup& setup, NodeHost& host, std::unique_ptr<SimApp> app,
                 std::function<std::unique_ptr<SimApp>()> make_app)
    : host_(host), storage_(*setup.raft.storage), snapshot_every_(setup.snapshot_every),
      make_app_(std::move(make_app)), app_(std::move(app)) {
  SnapshotMeta snap = storage_.snapshot();
  if (auto reader = storage_.open_snapshot()) app_->restore(reader->read(0, reader->size()));
  raft_ = std::make_unique<Raft>(setup.raft);
  RaftStatus s = raft_->status();
  applied_ = s.applied;
  applied_term_ = snap.term;
  last_snapshot_ = snap.index;
  conf_ = s.conf;
}

void LogNode::apply(const Ready& rd) {
  if (rd.snapshot) {
    // The driver installed the leader's snapshot in the storage: the app becomes it.
    auto reader = storage_.open_snapshot();
    if (!reader) throw std::logic_error("snapshot in the Ready but not in the storage");
    app_ = make_app_();
    app_->restore(reader->read(0, reader->size()));
    applied_ = rd.snapshot->index;
    applied_term_ = rd.snapshot->term;
    conf_ = rd.snapshot->conf;
    last_snapshot_ = applied_;
  }
  for (const Entry& e : rd.committed_entries) {
    host_.applying(e);
    if (e.type == EntryType::kConfChange) {
      ConfChange cc = decode_value<ConfChange>(e.data, "conf change entry");
      conf_ = raft_->apply_conf_change(cc);
      auto [op, unused] = decode_command(cc.context);
      (void)unused;
      if (op > 0) host_.answer(op, Outcome::kOk, "", e.index);
    } else if (Applied a = app_->apply(e.index, e.data); a.op > 0) {
      host_.answer(a.op, Outcome::kOk, std::move(a.output), e.index);
    }
    applied_ = e.index;
    applied_term_ = e.term;
  }
  answer_ready_reads();
  for (const ReadState& rs : rd.read_states) {
    uint64_t op = 0;
    if (std::sscanf(rs.context.c_str(), "read:%lu", &op) != 1 || op == 0) continue;
    auto it = reads_.find(op);
    if (it != reads_.end()) it->second.index = rs.index;
  }
  answer_ready_reads();
}

void LogNode::answer_ready_reads() {
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.index && applied_ >= *it->second.index) {
      host_.answer(it->first, Outcome::kOk, app_->read(it->second.query), *it->second.index);
      it = reads_.erase(it);
    } else {
      ++it;
    }
  }
}

void LogNode::propose(uint64_t op, const std::string& payload) {
  try {
    raft_->propose(payload);
  } catch (const ProposalDropped& e) {
    host_.refused(op, e.what());
  }
}

void LogNode::read(uint64_t op, const std::string& query, bool linearizable) {
  if (!linearizable) {
    // The unsafe way: answer from local state at once. A deposed leader, or a follower
    // behind, returns a stale value.
    host_.answer(op, Outcome::kOk, app_->read(query), applied_);
    return;
  }
  try {
    raft_->read_index(fmt::format("read:{}", op));
    reads_.emplace(op, Read{query, std::nullopt});  // a re-sent read keeps what it knows
  } catch (const ProposalDropped& e) {
    host_.refused(op, e.what());
  }
}

void LogNode::change_membership(uint64_t op, ConfChange::Type type, NodeId node) {
  try {
    raft_->propose_conf_change(ConfChange{type, node, encode_command(op, "")});
  } catch (const ProposalDropped& e) {
    host_.refused(op, e.what());
  }
}

void LogNode::transfer_leader(uint64_t op, NodeId to) {
  try {
    raft_->transfer_leader(to);
  } catch (const ProposalDropped& e) {
    host_.refused(op, e.what());
  }
}

bool LogNode::wants_snapshot() const {
  return snapshot_every_ > 0 && applied_ >= last_snapshot_ + snapshot_every_;
}

SnapshotMeta LogNode::snapshot_meta() const { return SnapshotMeta{applied_, applied_term_, conf_}; }

void LogNode::write_snapshot(SnapshotWriter& out) { out.write(app_->snapshot()); }

}  // namespace etcdlab::sim
