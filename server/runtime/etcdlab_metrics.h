#pragma once
// etcdlab's own metric families: what etcd 3.4 does not count but an operator of a hardened
// member wants to see (etcd's own are in etcd_metrics.h). Named as etcd names its families.
//
//   etcdlab_network_peer_unknown_sender_dropped_total
//       hellos and messages on the peer port from an id that is not a member (knowing the
//       cluster token is not enough to be heard); the connection is dropped
//   etcdlab_network_peer_connections_refused_total
//       peer connections closed at once: too many open, or too many before their hello
//   etcdlab_network_peer_connections_timed_out_total
//       peer connections closed by a read deadline (no hello in time, silence, a stalled frame)
//   etcdlab_network_peer_bad_frames_total
//       peer connections dropped for a malformed frame (size over the limit, checksum, kind)
//   etcdlab_network_client_connections_refused_total
//       client connections closed at once: over --max-client-conns, or too few descriptors
//       left for the storage (the member refuses clients rather than fail a write)
//   etcdlab_node_tick_lag_seconds
//       how late each tick ran after its time: the node thread was busy (long work on it
//       delays heartbeats and can cost the leadership; bcrypt, for one, must not run there)

#include "metrics.h"

namespace etcdlab::runtime::etcdlab_metrics {

using enum MetricType;

inline constexpr MetricSpec kPeerUnknownSenderDroppedTotal{
    "etcdlab_network_peer_unknown_sender_dropped_total",
    "The total number of peer connections and messages dropped because the sender is not a "
    "member of the cluster.",
    kCounter};
inline constexpr MetricSpec kPeerConnectionsRefusedTotal{
    "etcdlab_network_peer_connections_refused_total",
    "The total number of peer connections closed at once because of the connection limits.",
    kCounter};
inline constexpr MetricSpec kPeerConnectionsTimedOutTotal{
    "etcdlab_network_peer_connections_timed_out_total",
    "The total number of peer connections closed by a read deadline.", kCounter};
inline constexpr MetricSpec kPeerBadFramesTotal{
    "etcdlab_network_peer_bad_frames_total",
    "The total number of peer connections dropped for a malformed frame.", kCounter};
inline constexpr MetricSpec kClientConnectionsRefusedTotal{
    "etcdlab_network_client_connections_refused_total",
    "The total number of client connections closed at once (connection limit or descriptors "
    "kept for the storage).",
    kCounter};

inline constexpr auto kTickLagBuckets = exponential_buckets<13>(0.001, 2);  // 1 ms .. 4.096 s
inline constexpr MetricSpec kNodeTickLagSeconds{
    "etcdlab_node_tick_lag_seconds", "How late each tick of the node ran after its scheduled time.",
    kHistogram, kTickLagBuckets};

}  // namespace etcdlab::runtime::etcdlab_metrics
