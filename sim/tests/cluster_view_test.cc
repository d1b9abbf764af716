// The live view (view.h): a frame shows the cluster as Cluster::node() and log() see it, the
// recorder keeps the last N frames, one per visible change, and recording changes nothing in
// the run.
#include "etcdlab/sim/view.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace etcdlab::sim {
namespace {

ClusterOptions opts(uint64_t seed, int nodes, size_t frames = 0) {
  ClusterOptions o;
  o.seed = seed;
  o.nodes = nodes;
  o.view_frames = frames;
  return o;
}

bool all_done(const Cluster& c, const std::vector<uint64_t>& ids) {
  return std::all_of(ids.begin(), ids.end(), [&](uint64_t id) { return c.op(id).done(); });
}

// A run with an election, commands, a partition and a crash.
void scripted_run(Cluster& c) {
  c.run_until([&] { return c.leader().has_value(); }, 5000);
  std::vector<uint64_t> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(c.propose("cmd" + std::to_string(i)));
  c.run_until([&] { return all_done(c, ids); }, 5000);
  int leader = c.leader().value_or(0);
  c.isolate(leader);
  c.run_ms(1500);
  c.heal();
  c.crash((leader + 1) % c.size());
  c.run_ms(500);
}

// Everything but the event line and the moment: what a frame shows of the cluster. (When a
// message was sent is known to the recorder only.)
bool same_picture(const ViewFrame& a, const ViewFrame& b) {
  auto unsent = [](std::vector<ViewMessage> ms) {
    for (auto& m : ms) m.sent_us = kNever;
    return ms;
  };
  return a.nodes == b.nodes && unsent(a.messages) == unsent(b.messages) && a.blocked == b.blocked &&
         a.clients == b.clients;
}

}  // namespace

TEST(SimView, FrameShowsEachNodeAsNodeAndLogSeeIt) {
  Cluster c(opts(3, 3));
  ASSERT_TRUE(c.run_until([&] { return c.leader().has_value(); }, 5000));
  uint64_t op = c.propose("a\"b\xff");  // a quote and a byte that is not ASCII
  ASSERT_TRUE(c.run_until([&] { return c.op(op).done(); }, 5000));
  int leader = *c.leader();

  ViewFrame f = view_frame(c);
  EXPECT_EQ(f.time_us, static_cast<uint64_t>(c.now_ms() * 1000 + 0.5));
  EXPECT_EQ(f.seq, c.events());
  ASSERT_EQ(f.nodes.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE("node " + std::to_string(i));
    const ViewNode& v = f.nodes[i];
    NodeView n = c.node(i);
    EXPECT_EQ(v.id, static_cast<NodeId>(i + 1));  // Raft ids, as trace lines name nodes
    EXPECT_EQ(v.up, n.up);
    EXPECT_EQ(v.role, n.role);
    EXPECT_EQ(v.term, n.term);
    EXPECT_EQ(v.leader, static_cast<NodeId>(leader + 1));
    EXPECT_EQ(v.commit, n.commit);
    EXPECT_EQ(v.applied, n.applied);
    EXPECT_EQ(v.first_index, n.first_index);
    EXPECT_EQ(v.last_index, n.last_index);
    EXPECT_EQ(v.snapshot_index, n.snapshot_index);
    EXPECT_EQ(v.voters, (std::vector<NodeId>{1, 2, 3}));
    std::vector<uint64_t> terms;
    for (const Entry& e : c.log(i)) terms.push_back(e.term);
    EXPECT_EQ(v.log_from, n.first_index);
    EXPECT_EQ(v.log_terms, terms);
  }
  EXPECT_EQ(f.nodes[leader].role, Role::kLeader);
  ASSERT_EQ(f.clients.size(), 1u);
  EXPECT_EQ(f.clients[0].op, op);
  EXPECT_EQ(f.clients[0].outcome, Outcome::kOk);
  EXPECT_EQ(f.clients[0].via, kNoNode);
  EXPECT_EQ(f.clients[0].text, "propose \"a.b.\"");  // printable ASCII only
  EXPECT_TRUE(f.blocked.empty());
}

TEST(SimView, MessagesInFlightAreTheQueuedDeliveries) {
  Cluster c(opts(4, 3, 100));
  ASSERT_TRUE(c.run_until([&] { return c.leader().has_value(); }, 5000));
  c.propose("x");
  // Run until something is on the wire; every message shown is between two nodes, sent in the
  // past and due in the future.
  ASSERT_TRUE(c.run_until([&] { return !view_frame(c).messages.empty(); }, 1000));
  ViewFrame f = view_frame(c);
  for (const ViewMessage& m : f.messages) {
    EXPECT_GE(m.from, 1u);
    EXPECT_LE(m.from, 3u);
    EXPECT_GE(m.to, 1u);
    EXPECT_LE(m.to, 3u);
    EXPECT_EQ(m.sent_us, kNever);  // not known in a frame of now
    EXPECT_GE(m.due_us, f.time_us);
  }
  EXPECT_TRUE(
      std::is_sorted(f.messages.begin(), f.messages.end(),
                     [](const ViewMessage& a, const ViewMessage& b) { return a.id < b.id; }));
  // The recorder knows when each was sent: in the past.
  ViewFrame recorded = view_frames(c).back();
  ASSERT_TRUE(same_picture(recorded, f));
  for (const ViewMessage& m : recorded.messages) {
    EXPECT_LE(m.sent_us, recorded.time_us);
    EXPECT_LT(m.sent_us, m.due_us);
  }
}

TEST(SimView, BlockedLinksAndDownNodesShow) {
  Cluster c(opts(5, 3));
  c.partition({{0}, {1, 2}});
  c.cut(1, 2, /*one_way=*/true);
  c.crash(2);
  ViewFrame f = view_frame(c);
  std::vector<std::pair<NodeId, NodeId>> want = {{1, 2}, {1, 3}, {2, 1}, {2, 3}, {3, 1}};
  EXPECT_EQ(f.blocked, want);
  EXPECT_FALSE(f.nodes[2].up);
  EXPECT_TRUE(f.nodes[2].log_terms.empty());  // its memory is gone until it restarts
  c.restart(2);
  EXPECT_TRUE(view_frame(c).nodes[2].up);
}

TEST(SimView, LogTailHoldsTheLast64Terms) {
  Cluster c(opts(6, 3));
  ASSERT_TRUE(c.run_until([&] { return c.leader().has_value(); }, 5000));
  std::vector<uint64_t> ids;
  for (int i = 0; i < 100; ++i) ids.push_back(c.propose("c" + std::to_string(i)));
  ASSERT_TRUE(c.run_until([&] { return all_done(c, ids); }, 10000));
  for (const ViewNode& v : view_frame(c).nodes) {
    ASSERT_GT(v.last_index, 100u);
    EXPECT_EQ(v.log_terms.size(), kViewLogTail);
    EXPECT_EQ(v.log_from, v.last_index + 1 - kViewLogTail);
  }
}

TEST(SimView, ClientsAreTheLast20Operations) {
  Cluster c(opts(7, 3));
  for (int i = 0; i < 25; ++i) c.propose("p" + std::to_string(i));
  ViewFrame f = view_frame(c);
  ASSERT_EQ(f.clients.size(), kViewClients);
  EXPECT_EQ(f.clients.front().op, 6u);  // oldest first
  EXPECT_EQ(f.clients.back().op, 25u);
  EXPECT_EQ(f.clients.back().outcome, Outcome::kPending);
  EXPECT_EQ(f.clients.back().return_us, kNever);
}

TEST(SimView, RecorderKeepsTheLastNFrames) {
  Cluster c(opts(8, 5, 50));
  scripted_run(c);
  std::vector<ViewFrame> frames = view_frames(c);
  ASSERT_EQ(frames.size(), 50u);
  for (size_t k = 1; k < frames.size(); ++k) {
    EXPECT_LE(frames[k - 1].time_us, frames[k].time_us);
    EXPECT_LE(frames[k - 1].seq, frames[k].seq);
  }
  // The newest frame is the cluster now.
  EXPECT_TRUE(same_picture(frames.back(), view_frame(c)));
  // Frames keep their numbers as older ones drop out: the last 5 are numbered recorded - 5 ..
  uint64_t recorded = view_frames_recorded(c);
  ASSERT_GT(recorded, 50u);
  std::vector<ViewFrame> last = view_frames(c, recorded - 5);
  ASSERT_EQ(last.size(), 5u);
  EXPECT_EQ(last[0].seq, frames[45].seq);
  EXPECT_EQ(last[0].event, frames[45].event);
  EXPECT_EQ(view_frames(c, 0).size(), 50u);  // what was dropped is gone
  EXPECT_TRUE(view_frames(c, recorded).empty());
  EXPECT_EQ(view_frames_json(c, recorded), "[]");
  // Off by default: nothing is kept.
  Cluster off(opts(8, 5));
  scripted_run(off);
  EXPECT_TRUE(view_frames(off).empty());
  EXPECT_EQ(view_frames_recorded(off), 0u);
}

TEST(SimView, EachRecordedFrameIsTheClusterAtItsMoment) {
  // Step by step under faults, with a small ring (old frames and their messages drop out):
  // each frame recorded is the cluster as view_frame() saw it then, and stays so while kept.
  ClusterOptions o = opts(12, 5, 64);
  o.network = NetworkOptions{1, 30, 0.1, 0.1, 0, 0};
  Cluster c(o);
  std::map<uint64_t, ViewFrame> seen;  // frame number -> the cluster when it was recorded
  auto check_kept = [&] {
    uint64_t recorded = view_frames_recorded(c);
    std::vector<ViewFrame> kept = view_frames(c);
    ASSERT_EQ(kept.size(), std::min<uint64_t>(64, recorded));
    for (size_t k = 0; k < kept.size(); ++k) {
      uint64_t number = recorded - kept.size() + k;
      if (!seen.count(number)) continue;  // recorded by a fault or a client call
      ASSERT_TRUE(same_picture(kept[k], seen[number])) << "frame " << number;
      ASSERT_EQ(kept[k].time_us, seen[number].time_us);
    }
  };
  for (int k = 0; k < 4000; ++k) {
    if (k % 500 == 100) c.crash(k / 500 % 5);
    if (k % 500 == 300) c.restart(k / 500 % 5);
    if (k % 50 == 0) c.propose("p" + std::to_string(k));
    uint64_t before = view_frames_recorded(c);
    c.step();
    if (view_frames_recorded(c) > before) seen[view_frames_recorded(c) - 1] = view_frame(c);
    if (k % 100 == 99) {
      SCOPED_TRACE("after step " + std::to_string(k));
      ASSERT_NO_FATAL_FAILURE(check_kept());
    }
  }
}

TEST(SimView, FrameOnlyWhenSomethingVisibleChanged) {
  ClusterOptions o = opts(9, 5, 100000);
  o.record_trace = true;
  Cluster c(o);
  scripted_run(c);
  std::vector<ViewFrame> frames = view_frames(c);
  ASSERT_GT(frames.size(), 10u);
  EXPECT_EQ(frames[0].seq, 0u);  // frame 0: the cluster before any event
  // No two frames in a row show the same picture: an event that changed nothing added none.
  for (size_t k = 1; k < frames.size(); ++k) {
    EXPECT_FALSE(same_picture(frames[k - 1], frames[k])) << "frames " << k - 1 << " and " << k;
  }
  // And there were such events: ticks of followers, which change nothing a frame shows.
  size_t ticks = 0;
  for (const TraceEvent& e : c.trace().all()) ticks += e.kind == TraceEvent::Kind::kTick;
  EXPECT_GT(ticks, 0u);
  EXPECT_LT(frames.size(), c.events());
  // Each frame is named by the trace line of the event that made it (none: a client call).
  for (const ViewFrame& f : frames) {
    if (f.event.empty()) continue;
    EXPECT_EQ(f.event.rfind("#" + std::to_string(f.seq) + " ", 0), 0u) << f.event;
  }
}

TEST(SimView, RecordingChangesNothingAndReplaysExactly) {
  auto run = [](size_t frames) {
    Cluster c(opts(10, 5, frames));
    c.set_network({1, 20, 0.05, 0.05, 0.05, 500});
    scripted_run(c);
    return std::make_pair(c.trace_hash(), view_recording_json(c, "t", "replay me"));
  };
  auto [hash_off, json_off] = run(0);
  auto [hash_on, json_on] = run(3000);
  EXPECT_EQ(hash_on, hash_off);          // recording only observes
  EXPECT_EQ(run(3000).second, json_on);  // same seed, same recording, byte for byte
  EXPECT_NE(json_on, json_off);          // (off: the recording is the one frame of now)
}

TEST(SimView, JsonHasTheContractsShape) {
  Cluster c(opts(11, 3, 10));
  ASSERT_TRUE(c.run_until([&] { return c.leader().has_value(); }, 5000));
  c.propose(std::string("q\"\n\x01", 4));
  std::string frame = view_frame_json(c);
  EXPECT_EQ(frame.front(), '{');
  EXPECT_EQ(frame.back(), '}');
  for (const char* key :
       {"\"t_ms\":", "\"seq\":", "\"event\":", "\"nodes\":[", "\"messages\":[", "\"blocked\":[",
        "\"clients\":[", "\"name\":\"n1\"", "\"role\":\"leader\"", "\"log_from\":",
        "\"log_terms\":[", "\"voters\":[1,2,3]", "\"learners\":[]", "\"outcome\":\"pending\"",
        "\"return_ms\":null", "\"via\":null", "\"text\":\"propose \\\"q...\\\"\""}) {
    EXPECT_NE(frame.find(key), std::string::npos) << key << " in " << frame;
  }
  std::string rec = view_recording_json(c, "a \"title\"\n", std::nullopt);
  EXPECT_EQ(rec.rfind("{\"format\":\"etcdlab-view/1\",\"source\":\"sim\",\"title\":"
                      "\"a \\\"title\\\"\\n\",\"seed\":11,\"nodes\":3,\"replay\":null,"
                      "\"frames\":[\n{",
                      0),
            0u)
      << rec.substr(0, 200);
}

}  // namespace etcdlab::sim
