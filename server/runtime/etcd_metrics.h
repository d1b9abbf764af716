#pragma once
// etcd 3.4's metric families, as its /metrics names and describes them (HELP texts copied
// byte for byte from etcd 3.4.23's output), so the server wires them by name:
//   registry.gauge_func(etcd_metrics::kServerHasLeader, [&] { return has_leader ? 1 : 0; });
//   fsync_seconds_ = &registry.histogram(etcd_metrics::kDiskWalFsyncDurationSeconds);
//   peer_sent_ = &registry.counter_family(etcd_metrics::kNetworkPeerSentBytesTotal);
//   peer_sent_->with({to_hex(peer)}).inc(bytes);
// Types are etcd's, quirks included: proposals_committed_total, proposals_applied_total,
// debugging_mvcc_keys_total and snapshot_apply_in_progress_total are gauges there.

#include <array>
#include <string_view>

#include "metrics.h"

namespace etcdlab::runtime::etcd_metrics {

using enum MetricType;

// Buckets: prometheus.ExponentialBuckets as etcd calls it.
inline constexpr auto kDiskDurationBuckets = exponential_buckets<14>(0.001, 2);  // 1ms .. 8.192s
inline constexpr auto kDefragBuckets = exponential_buckets<13>(0.1, 2);          // 0.1 .. 409.6s
inline constexpr auto kSnapSaveBuckets = exponential_buckets<10>(0.1, 2);        // 0.1 .. 51.2s

// Label names.
inline constexpr std::string_view kTo[] = {"To"};                    // peer id in hex, unpadded
inline constexpr std::string_view kFrom[] = {"From"};                // peer id in hex, unpadded
inline constexpr std::string_view kServerIdLabel[] = {"server_id"};  // value 1
inline constexpr std::string_view kServerVersionLabel[] = {"server_version"};  // value 1

// Server and Raft.
inline constexpr MetricSpec kServerHasLeader{
    "etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.", kGauge};
inline constexpr MetricSpec kServerIsLeader{
    "etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.",
    kGauge};
inline constexpr MetricSpec kServerLeaderChangesSeenTotal{
    "etcd_server_leader_changes_seen_total", "The number of leader changes seen.", kCounter};
inline constexpr MetricSpec kServerProposalsCommittedTotal{
    "etcd_server_proposals_committed_total", "The total number of consensus proposals committed.",
    kGauge};
inline constexpr MetricSpec kServerProposalsAppliedTotal{
    "etcd_server_proposals_applied_total", "The total number of consensus proposals applied.",
    kGauge};
inline constexpr MetricSpec kServerProposalsPending{
    "etcd_server_proposals_pending", "The current number of pending proposals to commit.", kGauge};
inline constexpr MetricSpec kServerProposalsFailedTotal{
    "etcd_server_proposals_failed_total", "The total number of failed proposals seen.", kCounter};
inline constexpr MetricSpec kServerHeartbeatSendFailuresTotal{
    "etcd_server_heartbeat_send_failures_total",
    "The total number of leader heartbeat send failures (likely overloaded from slow disk).",
    kCounter};
inline constexpr MetricSpec kServerSlowApplyTotal{
    "etcd_server_slow_apply_total",
    "The total number of slow apply requests (likely overloaded from slow disk).", kCounter};
inline constexpr MetricSpec kServerSnapshotApplyInProgressTotal{
    "etcd_server_snapshot_apply_in_progress_total",
    "1 if the server is applying the incoming snapshot. 0 if none.", kGauge};
inline constexpr MetricSpec kServerQuotaBackendBytes{
    "etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes.", kGauge};
inline constexpr MetricSpec kServerId{
    "etcd_server_id",
    "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.",
    kGauge,
    {},
    kServerIdLabel};
inline constexpr MetricSpec kServerVersion{
    "etcd_server_version",
    "Which version is running. 1 for 'server_version' label with current version.",
    kGauge,
    {},
    kServerVersionLabel};
inline constexpr MetricSpec kServerHealthSuccess{
    "etcd_server_health_success", "The total number of successful health checks", kCounter};
inline constexpr MetricSpec kServerHealthFailures{
    "etcd_server_health_failures", "The total number of failed health checks", kCounter};

// Disk.
inline constexpr MetricSpec kDiskWalFsyncDurationSeconds{
    "etcd_disk_wal_fsync_duration_seconds", "The latency distributions of fsync called by WAL.",
    kHistogram, kDiskDurationBuckets};
inline constexpr MetricSpec kDiskBackendCommitDurationSeconds{
    "etcd_disk_backend_commit_duration_seconds",
    "The latency distributions of commit called by backend.", kHistogram, kDiskDurationBuckets};
inline constexpr MetricSpec kDiskBackendDefragDurationSeconds{
    "etcd_disk_backend_defrag_duration_seconds",
    "The latency distribution of backend defragmentation.", kHistogram, kDefragBuckets};
inline constexpr MetricSpec kSnapDbSaveTotalDurationSeconds{
    "etcd_snap_db_save_total_duration_seconds",
    "The total latency distributions of v3 snapshot save", kHistogram, kSnapSaveBuckets};

// MVCC.
inline constexpr MetricSpec kMvccDbTotalSizeInBytes{
    "etcd_mvcc_db_total_size_in_bytes",
    "Total size of the underlying database physically allocated in bytes.", kGauge};
inline constexpr MetricSpec kMvccDbTotalSizeInUseInBytes{
    "etcd_mvcc_db_total_size_in_use_in_bytes",
    "Total size of the underlying database logically in use in bytes.", kGauge};
inline constexpr MetricSpec kDebuggingMvccKeysTotal{"etcd_debugging_mvcc_keys_total",
                                                    "Total number of keys.", kGauge};
inline constexpr MetricSpec kMvccPutTotal{"etcd_mvcc_put_total",
                                          "Total number of puts seen by this member.", kCounter};
inline constexpr MetricSpec kMvccDeleteTotal{
    "etcd_mvcc_delete_total", "Total number of deletes seen by this member.", kCounter};
inline constexpr MetricSpec kMvccRangeTotal{
    "etcd_mvcc_range_total", "Total number of ranges seen by this member.", kCounter};

// Network. In etcd the client counters count gRPC bytes; ours count the gateway's HTTP bodies.
inline constexpr MetricSpec kNetworkPeerSentBytesTotal{"etcd_network_peer_sent_bytes_total",
                                                       "The total number of bytes sent to peers.",
                                                       kCounter,
                                                       {},
                                                       kTo};
inline constexpr MetricSpec kNetworkPeerReceivedBytesTotal{
    "etcd_network_peer_received_bytes_total",
    "The total number of bytes received from peers.",
    kCounter,
    {},
    kFrom};
inline constexpr MetricSpec kNetworkClientGrpcReceivedBytesTotal{
    "etcd_network_client_grpc_received_bytes_total",
    "The total number of bytes received from grpc clients.", kCounter};
inline constexpr MetricSpec kNetworkClientGrpcSentBytesTotal{
    "etcd_network_client_grpc_sent_bytes_total", "The total number of bytes sent to grpc clients.",
    kCounter};

// Process (Go's ProcessCollector; register_process_metrics() registers these).
inline constexpr MetricSpec kProcessResidentMemoryBytes{"process_resident_memory_bytes",
                                                        "Resident memory size in bytes.", kGauge};
inline constexpr MetricSpec kProcessVirtualMemoryBytes{"process_virtual_memory_bytes",
                                                       "Virtual memory size in bytes.", kGauge};
inline constexpr MetricSpec kProcessOpenFds{"process_open_fds", "Number of open file descriptors.",
                                            kGauge};
inline constexpr MetricSpec kProcessMaxFds{"process_max_fds",
                                           "Maximum number of open file descriptors.", kGauge};
inline constexpr MetricSpec kProcessCpuSecondsTotal{
    "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", kCounter};
inline constexpr MetricSpec kProcessStartTimeSeconds{
    "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", kGauge};

// Every family above, for tests and for a registry that wants them all.
inline constexpr std::array kAll = {&kServerHasLeader,
                                    &kServerIsLeader,
                                    &kServerLeaderChangesSeenTotal,
                                    &kServerProposalsCommittedTotal,
                                    &kServerProposalsAppliedTotal,
                                    &kServerProposalsPending,
                                    &kServerProposalsFailedTotal,
                                    &kServerHeartbeatSendFailuresTotal,
                                    &kServerSlowApplyTotal,
                                    &kServerSnapshotApplyInProgressTotal,
                                    &kServerQuotaBackendBytes,
                                    &kServerId,
                                    &kServerVersion,
                                    &kServerHealthSuccess,
                                    &kServerHealthFailures,
                                    &kDiskWalFsyncDurationSeconds,
                                    &kDiskBackendCommitDurationSeconds,
                                    &kDiskBackendDefragDurationSeconds,
                                    &kSnapDbSaveTotalDurationSeconds,
                                    &kMvccDbTotalSizeInBytes,
                                    &kMvccDbTotalSizeInUseInBytes,
                                    &kDebuggingMvccKeysTotal,
                                    &kMvccPutTotal,
                                    &kMvccDeleteTotal,
                                    &kMvccRangeTotal,
                                    &kNetworkPeerSentBytesTotal,
                                    &kNetworkPeerReceivedBytesTotal,
                                    &kNetworkClientGrpcReceivedBytesTotal,
                                    &kNetworkClientGrpcSentBytesTotal,
                                    &kProcessResidentMemoryBytes,
                                    &kProcessVirtualMemoryBytes,
                                    &kProcessOpenFds,
                                    &kProcessMaxFds,
                                    &kProcessCpuSecondsTotal,
                                    &kProcessStartTimeSeconds};

}  // namespace etcdlab::runtime::etcd_metrics
