// The Prometheus client: its text exposition byte for byte (compared with what etcd 3.4.23's Go
// client wrote on its /metrics), histogram buckets, computed gauges, registration errors.
#include "../runtime/metrics.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "../runtime/etcd_metrics.h"

namespace etcdlab::runtime {
namespace {

using enum MetricType;

constexpr std::string_view kPeer[] = {"To"};
constexpr std::string_view kTwoLabels[] = {"zone", "method"};  // declared out of name order
constexpr double kSmallBuckets[] = {0.5, 1, 2.5};

// The lines of `text` that start with `prefix`, joined, for checking one family in a scrape.
std::string lines_starting(const std::string& text, std::string_view prefix) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    end = end == std::string::npos ? text.size() : end + 1;
    if (std::string_view(text).substr(pos).starts_with(prefix)) out += text.substr(pos, end - pos);
    pos = end;
  }
  return out;
}

TEST(MetricsFormat, NumbersPrintAsGoFormatFloat) {
  const std::vector<std::pair<double, std::string>> cases = {
      {0, "0"},
      {-0.0, "0"},
      {1, "1"},
      {-1, "-1"},
      {-2.5, "-2.5"},
      {0.001, "0.001"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {3.0093e-05, "3.0093e-05"},    // etcd's go_gc_duration_seconds
      {0.003837721, "0.003837721"},  // etcd's fsync _sum
      {20480, "20480"},              // etcd's db size
      {123456.5, "123456.5"},
      {999999, "999999"},
      {1e6, "1e+06"},                          // exponent from 6 digits on, as Go
      {24559616, "2.4559616e+07"},             // etcd's resident memory
      {2147483648.0, "2.147483648e+09"},       // etcd's quota_backend_bytes
      {1.79565562623e9, "1.79565562623e+09"},  // etcd's process_start_time_seconds
      {std::pow(2.0, 64), "1.8446744073709552e+19"},
      {1e100, "1e+100"},
      {5e-324, "5e-324"},
      {0.1 + 0.2, "0.30000000000000004"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  for (const auto& [v, want] : cases) {
    EXPECT_EQ(format_go_float(v), want) << "formatting " << want;
  }
}

TEST(MetricsFormat, ExponentialBucketsPrintLikeEtcds) {
  auto joined = [](auto buckets) {
    std::string out;
    for (double b : buckets) out += format_go_float(b) + " ";
    return out;
  };
  EXPECT_EQ(joined(etcd_metrics::kDiskDurationBuckets),
            "0.001 0.002 0.004 0.008 0.016 0.032 0.064 0.128 0.256 0.512 1.024 2.048 4.096 8.192 ");
  EXPECT_EQ(joined(etcd_metrics::kDefragBuckets),
            "0.1 0.2 0.4 0.8 1.6 3.2 6.4 12.8 25.6 51.2 102.4 204.8 409.6 ");
  EXPECT_EQ(joined(etcd_metrics::kSnapSaveBuckets), "0.1 0.2 0.4 0.8 1.6 3.2 6.4 12.8 25.6 51.2 ");
  // etcd_debugging_lease_ttl_total's last bound (ExponentialBuckets(1, 2, 24)).
  EXPECT_EQ(format_go_float(exponential_buckets<24>(1, 2)[23]), "8.388608e+06");
}

TEST(MetricsFormat, CounterAndGaugeExposition) {
  Registry r;
  Counter& puts = r.counter({"t_puts_total", "Puts seen.", kCounter});
  Gauge& leader = r.gauge({"t_has_leader", "Whether a leader exists.", kGauge});
  Counter& seconds = r.counter({"t_seconds_total", "Fractional.", kCounter});
  Gauge& quota = r.gauge({"t_quota_bytes", "Quota.", kGauge});

  puts.inc();
  puts.inc(41);
  leader.set(1);
  seconds.add(0.25);
  seconds.inc(2);
  quota.set(2147483648.0);
  EXPECT_EQ(r.expose(),
            "# HELP t_has_leader Whether a leader exists.\n"
            "# TYPE t_has_leader gauge\n"
            "t_has_leader 1\n"
            "# HELP t_puts_total Puts seen.\n"
            "# TYPE t_puts_total counter\n"
            "t_puts_total 42\n"
            "# HELP t_quota_bytes Quota.\n"
            "# TYPE t_quota_bytes gauge\n"
            "t_quota_bytes 2.147483648e+09\n"
            "# HELP t_seconds_total Fractional.\n"
            "# TYPE t_seconds_total counter\n"
            "t_seconds_total 2.25\n");

  leader.dec();
  quota.inc(-2147483648.0);
  EXPECT_EQ(lines_starting(r.expose(), "t_has_leader "), "t_has_leader 0\n");
  EXPECT_EQ(lines_starting(r.expose(), "t_quota_bytes "), "t_quota_bytes 0\n");
}

TEST(MetricsFormat, LabeledFamiliesSortLabelsAndSeries) {
  Registry r;
  Family<Counter>& sent = r.counter_family({"t_sent_bytes_total", "Sent.", kCounter, {}, kPeer});
  Family<Gauge>& calls = r.gauge_family({"t_calls", "Calls.", kGauge, {}, kTwoLabels});
  EXPECT_EQ(r.expose(), "") << "a labeled family without series is not exposed";

  sent.with({"fd422379fda50e48"}).inc(1135);
  sent.with({"8211f1d0f64f3269"}).inc(7);
  sent.with({"fd422379fda50e48"}).inc(1);
  calls.with({"us", "Range"}).set(2);  // zone, method
  calls.with({"eu", "Range"}).set(1);
  calls.with({"eu", "Put"}).set(3);
  EXPECT_EQ(r.expose(),
            "# HELP t_calls Calls.\n"
            "# TYPE t_calls gauge\n"
            "t_calls{method=\"Put\",zone=\"eu\"} 3\n"
            "t_calls{method=\"Range\",zone=\"eu\"} 1\n"
            "t_calls{method=\"Range\",zone=\"us\"} 2\n"
            "# HELP t_sent_bytes_total Sent.\n"
            "# TYPE t_sent_bytes_total counter\n"
            "t_sent_bytes_total{To=\"8211f1d0f64f3269\"} 7\n"
            "t_sent_bytes_total{To=\"fd422379fda50e48\"} 1136\n");

  sent.remove({"8211f1d0f64f3269"});
  sent.remove({"not-there"});
  EXPECT_EQ(lines_starting(r.expose(), "t_sent_bytes_total{"),
            "t_sent_bytes_total{To=\"fd422379fda50e48\"} 1136\n");
}

TEST(MetricsFormat, EscapesLabelValuesAndHelp) {
  Registry r;
  Family<Gauge>& g =
      r.gauge_family({"t_escaped", "Back\\slash, \"quotes\" stay,\nnewline.", kGauge, {}, kPeer});
  g.with({"a\\b\"c\nd"}).set(1);
  EXPECT_EQ(r.expose(),
            "# HELP t_escaped Back\\\\slash, \"quotes\" stay,\\nnewline.\n"
            "# TYPE t_escaped gauge\n"
            "t_escaped{To=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(MetricsFormat, FamiliesSortByName) {
  Registry r;
  for (std::string_view name : {"zeta", "alpha", "alpha_b", "Beta", "alpha:x"}) {
    r.gauge({name, "", kGauge});
  }
  EXPECT_EQ(lines_starting(r.expose(), "# TYPE "),
            "# TYPE Beta gauge\n"
            "# TYPE alpha gauge\n"
            "# TYPE alpha:x gauge\n"
            "# TYPE alpha_b gauge\n"
            "# TYPE zeta gauge\n");
  EXPECT_EQ(lines_starting(r.expose(), "# HELP zeta"), "# HELP zeta \n") << "empty help, as Go";
}

TEST(MetricsHistogram, ObserveFillsCumulativeBuckets) {
  Registry r;
  Histogram& h = r.histogram({"t_h", "H.", kHistogram, kSmallBuckets});
  EXPECT_EQ(h.cumulative_counts(), (std::vector<uint64_t>{0, 0, 0, 0}));

  h.observe(0.5);  // on a bound: that bucket (le is "less or equal")
  EXPECT_EQ(h.cumulative_counts(), (std::vector<uint64_t>{1, 1, 1, 1}));
  h.observe(-3);    // below every bound: the first
  h.observe(0.75);  // (0.5, 1]
  h.observe(2.5);   // on the last bound
  h.observe(100);   // above every bound: only +Inf
  EXPECT_EQ(h.cumulative_counts(), (std::vector<uint64_t>{2, 3, 4, 5}));
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.sum(), 100.75);
}

TEST(MetricsHistogram, ExpositionWithAndWithoutLabels) {
  Registry r;
  Histogram& plain = r.histogram({"t_plain_seconds", "Plain.", kHistogram, kSmallBuckets});
  Family<Histogram>& rtt =
      r.histogram_family({"t_rtt_seconds", "RTT.", kHistogram, kSmallBuckets, kPeer});
  plain.observe(0.25);
  plain.observe(3);
  rtt.with({"8211f1d0f64f3269"}).observe(1);
  EXPECT_EQ(r.expose(),
            "# HELP t_plain_seconds Plain.\n"
            "# TYPE t_plain_seconds histogram\n"
            "t_plain_seconds_bucket{le=\"0.5\"} 1\n"
            "t_plain_seconds_bucket{le=\"1\"} 1\n"
            "t_plain_seconds_bucket{le=\"2.5\"} 1\n"
            "t_plain_seconds_bucket{le=\"+Inf\"} 2\n"
            "t_plain_seconds_sum 3.25\n"
            "t_plain_seconds_count 2\n"
            "# HELP t_rtt_seconds RTT.\n"
            "# TYPE t_rtt_seconds histogram\n"
            "t_rtt_seconds_bucket{To=\"8211f1d0f64f3269\",le=\"0.5\"} 0\n"
            "t_rtt_seconds_bucket{To=\"8211f1d0f64f3269\",le=\"1\"} 1\n"
            "t_rtt_seconds_bucket{To=\"8211f1d0f64f3269\",le=\"2.5\"} 1\n"
            "t_rtt_seconds_bucket{To=\"8211f1d0f64f3269\",le=\"+Inf\"} 1\n"
            "t_rtt_seconds_sum{To=\"8211f1d0f64f3269\"} 1\n"
            "t_rtt_seconds_count{To=\"8211f1d0f64f3269\"} 1\n");
}

TEST(MetricsHistogram, TrailingInfBoundIsImplicit) {
  Registry r;
  constexpr double kWithInf[] = {1, std::numeric_limits<double>::infinity()};
  r.histogram({"t_inf", "I.", kHistogram, kWithInf}).observe(5);
  EXPECT_EQ(lines_starting(r.expose(), "t_inf_bucket"),
            "t_inf_bucket{le=\"1\"} 0\n"
            "t_inf_bucket{le=\"+Inf\"} 1\n");
}

TEST(MetricsRegistry, ComputedMetricsRunAtScrapeTime) {
  Registry r;
  int calls = 0;
  double db_size = 20480;
  r.gauge_func({"t_db_bytes", "Db.", kGauge}, [&] {
    ++calls;
    return db_size;
  });
  r.counter_func({"t_cpu_seconds_total", "Cpu.", kCounter}, [] { return 0.05; });
  EXPECT_EQ(calls, 0) << "registering does not call the function";

  EXPECT_EQ(lines_starting(r.expose(), "t_db_bytes "), "t_db_bytes 20480\n");
  EXPECT_EQ(calls, 1);
  db_size = 1e6;
  const std::string scrape = r.expose();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(scrape,
            "# HELP t_cpu_seconds_total Cpu.\n"
            "# TYPE t_cpu_seconds_total counter\n"
            "t_cpu_seconds_total 0.05\n"
            "# HELP t_db_bytes Db.\n"
            "# TYPE t_db_bytes gauge\n"
            "t_db_bytes 1e+06\n");
}

TEST(MetricsRegistry, RefusesDuplicatesAndMistakes) {
  Registry r;
  r.counter({"t_total", "T.", kCounter});
  r.histogram({"t_lat", "L.", kHistogram, kSmallBuckets});
  auto refused = [](auto register_it) {
    try {
      register_it();
    } catch (const std::invalid_argument&) {
      return true;
    }
    return false;
  };
  EXPECT_TRUE(refused([&] { r.counter({"t_total", "Again.", kCounter}); })) << "duplicate";
  EXPECT_TRUE(refused([&] { r.gauge({"t_total", "As a gauge.", kGauge}); })) << "duplicate";
  EXPECT_TRUE(refused([&] { r.gauge_func({"t_total", "F.", kGauge}, [] { return 1.0; }); }));
  EXPECT_TRUE(refused([&] { r.counter({"t_lat_count", "C.", kCounter}); })) << "_count of t_lat";
  r.counter({"t_pre_bucket", "B.", kCounter});
  EXPECT_TRUE(refused([&] {
    r.histogram({"t_pre", "H.", kHistogram, kSmallBuckets});
  })) << "t_pre would write t_pre_bucket";
  EXPECT_TRUE(refused([&] { r.gauge({"t_wrong_type", "W.", kCounter}); })) << "spec says counter";
  EXPECT_TRUE(refused([&] { r.gauge({"9starts_with_digit", "B.", kGauge}); }));
  EXPECT_TRUE(refused([&] { r.gauge({"has-dash", "B.", kGauge}); }));
  EXPECT_TRUE(refused([&] {
    r.gauge({"t_labeled", "L.", kGauge, {}, kPeer});
  })) << "a labeled spec needs gauge_family";
  EXPECT_TRUE(refused([&] { r.gauge_family({"t_unlabeled", "U.", kGauge}); }));
  constexpr std::string_view kLe[] = {"le"};
  constexpr std::string_view kDup[] = {"a", "a"};
  constexpr std::string_view kReserved[] = {"__a"};
  EXPECT_TRUE(refused([&] { r.histogram_family({"t_le", "L.", kHistogram, kSmallBuckets, kLe}); }));
  EXPECT_TRUE(refused([&] { r.gauge_family({"t_dup", "D.", kGauge, {}, kDup}); }));
  EXPECT_TRUE(refused([&] { r.gauge_family({"t_res", "R.", kGauge, {}, kReserved}); }));
  constexpr double kUnsorted[] = {1, 0.5};
  constexpr double kRepeated[] = {1, 1};
  EXPECT_TRUE(refused([&] { r.histogram({"t_unsorted", "U.", kHistogram, kUnsorted}); }));
  EXPECT_TRUE(refused([&] { r.histogram({"t_repeated", "R.", kHistogram, kRepeated}); }));
  EXPECT_TRUE(refused([&] { r.gauge({"t_buckets", "B.", kGauge, kSmallBuckets}); }));

  Family<Counter>& peers = r.counter_family({"t_peers_total", "P.", kCounter, {}, kPeer});
  EXPECT_TRUE(refused([&] { peers.with({}); })) << "wrong label count";
  EXPECT_TRUE(refused([&] { peers.with({"a", "b"}); })) << "wrong label count";
  Counter& c = r.counter({"t_counter_total", "C.", kCounter});
  EXPECT_TRUE(refused([&] { c.add(-1); })) << "counters only go up";
  EXPECT_TRUE(refused([&] { c.add(std::numeric_limits<double>::quiet_NaN()); }));
  EXPECT_EQ(c.value(), 0);

  // What was refused left nothing behind.
  const std::string scrape = r.expose();
  EXPECT_EQ(scrape.find("# HELP t_total Again."), std::string::npos);
  EXPECT_EQ(scrape.find("t_wrong_type"), std::string::npos);
  EXPECT_EQ(scrape.find("t_unsorted"), std::string::npos);
}

// Fragments of etcd 3.4.23's /metrics (a two-member cluster after one put, get and delete),
// reproduced with the same values.
TEST(MetricsEtcd, ReproducesEtcdOutput) {
  namespace em = etcd_metrics;
  Registry r;
  r.gauge_func(em::kServerHasLeader, [] { return 1.0; });
  r.gauge_family(em::kServerId).with({"e500231b73632fac"}).set(1);
  r.gauge(em::kServerQuotaBackendBytes).set(2147483648.0);
  r.counter_family(em::kNetworkPeerSentBytesTotal).with({"35d765686dcb580f"}).inc(1135);
  r.counter_family(em::kNetworkPeerReceivedBytesTotal).with({"35d765686dcb580f"}).inc(798);
  Histogram& fsync = r.histogram(em::kDiskWalFsyncDurationSeconds);
  for (double seconds : {0.001, 0.001, 0.0, 0.0, 0.0, 0.001837721}) fsync.observe(seconds);
  r.histogram(em::kDiskBackendDefragDurationSeconds);

  const std::string scrape = r.expose();
  EXPECT_EQ(lines_starting(scrape, "# HELP etcd_server_has_leader ") +
                lines_starting(scrape, "# TYPE etcd_server_has_leader ") +
                lines_starting(scrape, "etcd_server_has_leader ") +
                lines_starting(scrape, "etcd_server_id{") +
                lines_starting(scrape, "etcd_server_quota_backend_bytes "),
            "# HELP etcd_server_has_leader Whether or not a leader exists. 1 is existence, 0 is "
            "not.\n"
            "# TYPE etcd_server_has_leader gauge\n"
            "etcd_server_has_leader 1\n"
            "etcd_server_id{server_id=\"e500231b73632fac\"} 1\n"
            "etcd_server_quota_backend_bytes 2.147483648e+09\n");
  EXPECT_NE(scrape.find(
                "# HELP etcd_network_peer_received_bytes_total The total number of bytes received "
                "from peers.\n"
                "# TYPE etcd_network_peer_received_bytes_total counter\n"
                "etcd_network_peer_received_bytes_total{From=\"35d765686dcb580f\"} 798\n"
                "# HELP etcd_network_peer_sent_bytes_total The total number of bytes sent to "
                "peers.\n"
                "# TYPE etcd_network_peer_sent_bytes_total counter\n"
                "etcd_network_peer_sent_bytes_total{To=\"35d765686dcb580f\"} 1135\n"),
            std::string::npos)
      << scrape;
  EXPECT_NE(
      scrape.find("# HELP etcd_disk_wal_fsync_duration_seconds The latency distributions of fsync "
                  "called by WAL.\n"
                  "# TYPE etcd_disk_wal_fsync_duration_seconds histogram\n"
                  "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.001\"} 5\n"
                  "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.002\"} 6\n"
                  "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.004\"} 6\n"
                  "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.008\"} 6\n"
                  "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.016\"} 6\n"
                  "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.032\"} 6\n"
                  "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.064\"} 6\n"
                  "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.128\"} 6\n"
                  "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.256\"} 6\n"
                  "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.512\"} 6\n"
                  "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"1.024\"} 6\n"
                  "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"2.048\"} 6\n"
                  "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"4.096\"} 6\n"
                  "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"8.192\"} 6\n"
                  "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"+Inf\"} 6\n"
                  "etcd_disk_wal_fsync_duration_seconds_sum 0.003837721\n"
                  "etcd_disk_wal_fsync_duration_seconds_count 6\n"),
      std::string::npos)
      << scrape;
  EXPECT_NE(scrape.find("etcd_disk_backend_defrag_duration_seconds_bucket{le=\"409.6\"} 0\n"
                        "etcd_disk_backend_defrag_duration_seconds_bucket{le=\"+Inf\"} 0\n"
                        "etcd_disk_backend_defrag_duration_seconds_sum 0\n"
                        "etcd_disk_backend_defrag_duration_seconds_count 0\n"),
            std::string::npos)
      << scrape;
}

TEST(MetricsEtcd, EveryFamilyRegistersOnce) {
  Registry r;
  std::vector<std::string> names;
  for (const MetricSpec* spec : etcd_metrics::kAll) {
    if (spec->name.starts_with("process_")) continue;  // register_process_metrics below
    if (!spec->labels.empty()) {
      if (spec->type == kCounter) r.counter_family(*spec).with({"x"});
      if (spec->type == kGauge) r.gauge_family(*spec).with({"x"});
    } else if (spec->type == kCounter) {
      r.counter(*spec);
    } else if (spec->type == kGauge) {
      r.gauge(*spec);
    } else {
      r.histogram(*spec);
    }
  }
  register_process_metrics(r);
  const std::string types = lines_starting(r.expose(), "# TYPE ");
  EXPECT_EQ(static_cast<size_t>(std::count(types.begin(), types.end(), '\n')),
            etcd_metrics::kAll.size());
  EXPECT_NE(types.find("# TYPE etcd_server_proposals_committed_total gauge\n"), std::string::npos)
      << "a gauge in etcd 3.4, despite its name";
}

// The values are the process's own; the test checks they are read, not what they are.
TEST(MetricsProcess, ReadsProcAtScrapeTime) {
  Registry r;
  register_process_metrics(r);
  auto value = [&](std::string_view name) {
    const std::string line = lines_starting(r.expose(), std::string(name) + " ");
    EXPECT_FALSE(line.empty()) << name << " missing";
    return line.empty() ? -1.0 : std::stod(line.substr(name.size() + 1));
  };
  EXPECT_GT(value("process_resident_memory_bytes"), 0);
  EXPECT_GT(value("process_virtual_memory_bytes"), 0);
  EXPECT_GE(value("process_cpu_seconds_total"), 0);
  EXPECT_GT(value("process_max_fds"), 0);
  EXPECT_GT(value("process_start_time_seconds"), 1.5e9);  // after 2017

  const double fds = value("process_open_fds");
  EXPECT_GE(fds, 3);
  const int fd = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(value("process_open_fds"), fds + 1) << "counted at scrape time";
  ::close(fd);
}

}  // namespace
}  // namespace etcdlab::runtime
