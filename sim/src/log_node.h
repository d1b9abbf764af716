#pragma once
// The simulator's default node logic: the Raft core (lab 2) with a SimApp (the plain log, or
// ClusterOptions::app). Client commands carry the simulator's operation id (app.h), so a
// command re-sent by its client is applied once; a linearizable read is a Raft read_index
// whose context names the operation.

#include <functional>
#include <map>
#include <memory>

#include "etcdlab/raft/raft.h"
#include "etcdlab/sim/app.h"
#include "etcdlab/sim/node_logic.h"

namespace etcdlab::sim {

class LogNode final : public NodeLogic {
 public:
  // Restores the app from the storage's snapshot, then starts Raft from the storage.
  LogNode(const NodeSetup& setup, NodeHost& host, std::unique_ptr<SimApp> app,
          std::function<std::unique_ptr<SimApp>()> make_app);

  // DrivenNode
  bool has_ready() const override { return raft_->has_ready(); }
  Ready ready() override { return raft_->ready(); }
  void apply(const Ready& rd) override;
  void advance(const Ready& rd) override { raft_->advance(rd); }

  // NodeLogic
  void tick() override { raft_->tick(); }
  void step(const Message& m) override { raft_->step(m); }
  void report_snapshot(NodeId to, bool ok) override { raft_->report_snapshot(to, ok); }
  RaftStatus status() const override { return raft_->status(); }
  ConfState conf() const override { return conf_; }
  void propose(uint64_t op, const std::string& payload) override;
  void read(uint64_t op, const std::string& query, bool linearizable) override;
  void change_membership(uint64_t op, ConfChange::Type type, NodeId node) override;
  void transfer_leader(uint64_t op, NodeId to) override;
  bool wants_snapshot() const override;
  SnapshotMeta snapshot_meta() const override;
  void write_snapshot(SnapshotWriter& out) override;
  void snapshot_done() override { last_snapshot_ = applied_; }
  uint64_t applied_index() const override { return applied_; }
  uint64_t commands_applied() const override { return app_->count(); }
  uint64_t state_hash() const override { return app_->hash(); }
  std::string read_local(const std::string& query) const override { return app_->read(query); }

 private:
  void answer_ready_reads();

  NodeHost& host_;
  LogStorage& storage_;
  uint64_t snapshot_every_;
  std::function<std::unique_ptr<SimApp>()> make_app_;
  std::unique_ptr<SimApp> app_;
  std::unique_ptr<Raft> raft_;
  uint64_t applied_ = 0;
  uint64_t applied_term_ = 0;
  uint64_t last_snapshot_ = 0;
  ConfState conf_;
  struct Read {
    std::string query;
    std::optional<uint64_t> index;  // once Raft confirmed it
  };
  std::map<uint64_t, Read> reads_;  // linearizable reads by op id
};

}  // namespace etcdlab::sim
