#include "server_metrics.h"

#include <fmt/format.h>

#include "etcd_metrics.h"
#include "etcdlab_metrics.h"
#include "node_driver.h"
#include "peer_transport.h"

namespace etcdlab::runtime {

void register_server_metrics(ServerMetrics& m, const NodeDriver& driver,
                             const PeerTransport* const& transport, uint64_t member_id,
                             uint64_t quota_bytes) {
  namespace e = etcd_metrics;
  Registry& r = m.registry;
  const NodeDriver* d = &driver;
  r.gauge_func(e::kServerHasLeader, [d] { return d->node().leader() != kNoNode ? 1.0 : 0.0; });
  r.gauge_func(e::kServerIsLeader,
               [d] { return d->node().role() == Role::kLeader ? 1.0 : 0.0; });
  m.leader_changes = &r.counter(e::kServerLeaderChangesSeenTotal);
  r.gauge_func(e::kServerProposalsCommittedTotal,
               [d] { return static_cast<double>(d->node().status().hard_state.commit); });
  r.gauge_func(e::kServerProposalsAppliedTotal,
               [d] { return static_cast<double>(d->node().applied_index()); });
  r.gauge_func(e::kServerProposalsPending,
               [d] { return static_cast<double>(d->node().pending_requests()); });
  m.proposals_failed = &r.counter(e::kServerProposalsFailedTotal);
  r.counter_func(e::kServerHeartbeatSendFailuresTotal, [&transport] {
    return transport ? static_cast<double>(transport->stats().heartbeats_dropped) : 0.0;
  });
  m.slow_applies = &r.counter(e::kServerSlowApplyTotal);
  r.gauge_func(e::kServerSnapshotApplyInProgressTotal,
               [d] { return d->applying_snapshot() ? 1.0 : 0.0; });
  r.gauge_func(e::kServerQuotaBackendBytes,
               [quota_bytes] { return static_cast<double>(quota_bytes); });
  r.gauge_family(e::kServerId).with({fmt::format("{:x}", member_id)}).set(1);
  r.gauge_family(e::kServerVersion).with({"3.4.0"}).set(1);
  m.health_ok = &r.counter(e::kServerHealthSuccess);
  m.health_failed = &r.counter(e::kServerHealthFailures);
  m.fsync_seconds = &r.histogram(e::kDiskWalFsyncDurationSeconds);
  m.commit_seconds = &r.histogram(e::kDiskBackendCommitDurationSeconds);
  m.defrag_seconds = &r.histogram(e::kDiskBackendDefragDurationSeconds);
  m.snapshot_save_seconds = &r.histogram(e::kSnapDbSaveTotalDurationSeconds);
  r.gauge_func(e::kMvccDbTotalSizeInBytes,
               [d] { return static_cast<double>(d->node().store().db_size()); });
  r.gauge_func(e::kMvccDbTotalSizeInUseInBytes,
               [d] { return static_cast<double>(d->node().store().db_size()); });
  r.gauge_func(e::kDebuggingMvccKeysTotal,
               [d] { return static_cast<double>(d->node().store().key_count()); });
  m.puts = &r.counter(e::kMvccPutTotal);
  m.deletes = &r.counter(e::kMvccDeleteTotal);
  m.ranges = &r.counter(e::kMvccRangeTotal);
  m.peer_sent = &r.counter_family(e::kNetworkPeerSentBytesTotal);
  m.peer_received = &r.counter_family(e::kNetworkPeerReceivedBytesTotal);
  register_process_metrics(r);

  namespace l = etcdlab_metrics;
  auto peer_stat = [&transport](uint64_t PeerStats::*field) {
    return [&transport, field] {
      return transport ? static_cast<double>(transport->stats().*field) : 0.0;
    };
  };
  r.counter_func(l::kPeerUnknownSenderDroppedTotal, peer_stat(&PeerStats::unknown_senders));
  r.counter_func(l::kPeerConnectionsRefusedTotal, peer_stat(&PeerStats::connections_refused));
  r.counter_func(l::kPeerConnectionsTimedOutTotal, peer_stat(&PeerStats::connections_timed_out));
  r.counter_func(l::kPeerBadFramesTotal, peer_stat(&PeerStats::bad_frames));
  m.client_connections_refused = &r.counter(l::kClientConnectionsRefusedTotal);
  m.tick_lag_seconds = &r.histogram(l::kNodeTickLagSeconds);
}

void sync_peer_metrics(ServerMetrics& m, const PeerTransport& transport) {
  PeerStats stats = transport.stats();
  auto sync = [](Family<Counter>& family, const std::map<NodeId, uint64_t>& totals) {
    for (const auto& [peer, bytes] : totals) {
      Counter& c = family.with({fmt::format("{:x}", peer)});
      auto seen = static_cast<uint64_t>(c.value());
      if (bytes > seen) c.inc(bytes - seen);
    }
  };
  sync(*m.peer_sent, stats.sent_to);
  sync(*m.peer_received, stats.received_from);
}

}  // namespace etcdlab::runtime
