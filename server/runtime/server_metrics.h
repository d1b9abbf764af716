#pragma once
// The member's metrics, in etcd's families (etcd_metrics.h): counters the runtime increments,
// and gauges read from the node and the driver when /metrics is scraped.

#include <cstdint>

#include "metrics.h"

namespace etcdlab::runtime {

class NodeDriver;
class PeerTransport;

struct ServerMetrics {
  Registry registry;
  Counter* leader_changes = nullptr;
  Counter* proposals_failed = nullptr;
  Counter* slow_applies = nullptr;
  Counter* puts = nullptr;
  Counter* deletes = nullptr;
  Counter* ranges = nullptr;
  Counter* health_ok = nullptr;
  Counter* health_failed = nullptr;
  Counter* client_connections_refused = nullptr;
  Family<Counter>* peer_sent = nullptr;
  Family<Counter>* peer_received = nullptr;
  Histogram* fsync_seconds = nullptr;
  Histogram* commit_seconds = nullptr;
  Histogram* defrag_seconds = nullptr;
  Histogram* snapshot_save_seconds = nullptr;
  Histogram* tick_lag_seconds = nullptr;
};

// Registers every family; the gauges read `driver` (and its node) and `transport` when
// scraped, so both must outlive the registry's use.
void register_server_metrics(ServerMetrics& m, const NodeDriver& driver,
                             const PeerTransport* const& transport, uint64_t member_id,
                             uint64_t quota_bytes);

// Peer bytes per member, from the transport's running totals, into their counters.
void sync_peer_metrics(ServerMetrics& m, const PeerTransport& transport);

}  // namespace etcdlab::runtime
