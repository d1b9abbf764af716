#pragma once
// The simulator's private state. cluster.cc runs the event loop and the faults,
// cluster_node.cc drives one node through the Ready loop (ready_loop.h), cluster_clients.cc
// runs client operations, log_node.cc is the default node logic (Raft plus a SimApp).

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "etcdlab/log/wal_storage.h"
#include "etcdlab/raft/raft.h"
#include "etcdlab/random.h"
#include "etcdlab/sim/app.h"
#include "etcdlab/sim/cluster.h"
#include "etcdlab/sim/invariants.h"
#include "etcdlab/sim/node_logic.h"
#include "etcdlab/node/ready_loop.h"
#include "view_recorder.h"

namespace etcdlab::sim {

// Something a node must take as input. While a Ready is being persisted the node takes no
// input; inputs wait in its queue.
struct Input {
  enum class Kind {
    kTick, kMessage, kPropose, kRead, kConfChange, kTransfer, kSnapshotStatus, kPeerMessage
  };
  Kind kind = Kind::kTick;
  std::shared_ptr<const Message> message;       // kMessage
  uint64_t op = 0;                         // client operations
  NodeId peer = kNoNode;                   // kSnapshotStatus: the follower
  bool ok = false;                         // kSnapshotStatus
  std::shared_ptr<const PeerMessage> peer_message;  // kPeerMessage
};

struct Event {
  enum class Kind { kTick, kDeliver, kPersistDone, kClientAttempt, kSnapshotStatus, kDeliverPeer };
  uint64_t time = 0;
  uint64_t seq = 0;
  Kind kind = Kind::kTick;
  int node = -1;
  uint64_t incarnation = 0;  // kPersistDone, kSnapshotStatus: stale after a crash
  std::shared_ptr<const Message> message;
  std::shared_ptr<SnapshotReader> snapshot;  // kDeliver of a kSnapshot message
  std::shared_ptr<const PeerMessage> peer_message;  // kDeliverPeer
  uint64_t op = 0;
  NodeId peer = kNoNode;
  bool ok = false;
};

struct SimNode;

// The simulator's side of one node: the driver's I/O in the Ready loop (DriverIo), and what
// the node's logic reports back (NodeHost). cluster_node.cc.
class SimDriver final : public DriverIo, public NodeHost {
 public:
  SimDriver(Cluster::Impl& cluster, SimNode& node) : c_(cluster), n_(node) {}
  // DriverIo
  bool taken(const Ready& rd) override;
  void send(std::vector<Message>& messages) override;
  void install_snapshot(const SnapshotMeta& meta) override;
  void write(const Ready& rd) override;
  void start_sync(Ready rd, bool leader) override;
  void persisted(const Ready& rd) override;
  void applied(const Ready& rd) override;
  void advanced(const Ready& rd) override;
  // NodeHost
  void applying(const Entry& e) override;
  void answer(uint64_t op, Outcome outcome, std::string output, uint64_t index) override;
  void refused(uint64_t op, const std::string& why) override;
  void log(const std::string& line) override;

 private:
  Cluster::Impl& c_;
  SimNode& n_;
};

struct SimNode {
  int index = 0;
  NodeId id = kNoNode;
  SimFileSystem disk;
  std::unique_ptr<WalStorage> storage;
  std::unique_ptr<NodeLogic> logic;  // what runs on it: Raft + a SimApp, or e.g. KvNode
  std::unique_ptr<SimDriver> driver;
  std::unique_ptr<ReadyLoop> loop;   // over logic and driver, one per start
  bool up = true;
  uint64_t incarnation = 0;
  uint64_t tick_phase = 0;

  // Cached from the Readys (readable while the node is down).
  Role role = Role::kFollower;
  NodeId lead = kNoNode;
  uint64_t term = 0;
  NodeId vote = kNoNode;
  uint64_t commit = 0;
  uint64_t applied = 0;
  uint64_t last_snapshot_at = 0;
  ConfState conf;
  // The view rereads a node's fields only after they may have changed: `touches` is bumped
  // when the node was driven (everything above changes in its Ready loop), crashed or started.
  // (Its log: Impl::log_changed.)
  uint64_t touches = 0;

  std::optional<Ready> in_flight;  // being persisted
  bool in_flight_leader = false;   // it was taken as leader (its messages went out early)
  std::vector<int> voters_before;  // a leader's voters before it applied a Ready (checks)
  std::deque<Input> inputs;
  std::map<std::pair<uint64_t, uint64_t>, std::string>
      incoming;  // snapshot (term, index) -> staged file
  bool refused = false;  // the last client operation handed to it was refused

  uint64_t messages_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t restarts = 0;

  bool is_learner() const;
  bool busy() const { return in_flight.has_value(); }
};

// What a client operation needs beyond its history record.
struct ClientState {
  std::string payload;  // kPropose: the encoded command; kRead: the query
  ConfChange change;    // membership changes
  bool is_conf_change = false;
  int transfer_to = -1;
  std::optional<int> via;
  uint64_t deadline = 0;
  int next_node = 0;           // rotates through nodes on retries
  bool accepted = false;       // some node took it (it may be in the log)
  uint64_t attempt_token = 0;  // only the latest scheduled attempt runs
};

// Arguments from outside, checked before anything changes (cluster_checks.cc): each throws
// std::invalid_argument naming the valid range.
void check_ms(double ms, double min, const char* what);
void check_probability(double p, const char* what);
void check_network(const NetworkOptions& n);
void check_options(const ClusterOptions& o);
void check_crash_mode(CrashMode mode);

struct Cluster::Impl {
  explicit Impl(const ClusterOptions& o);

  ClusterOptions options;
  uint64_t now = 0;  // microseconds
  uint64_t event_count = 0;
  uint64_t seq = 0;
  Rng rng;
  std::vector<Event> queue;  // a heap ordered by (time, seq)
  std::vector<std::unique_ptr<SimNode>> nodes;
  NetworkOptions network;
  std::vector<std::vector<bool>> blocked;  // blocked[a][b]: a cannot send to b
  uint64_t blocked_changes = 0;            // bumped when `blocked` is set (the view rereads it)
  Trace trace;
  std::optional<InvariantChecker> checker;
  std::vector<Operation> ops;
  std::vector<ClientState> clients;
  uint64_t client_changes = 0;  // bumped when an operation starts or ends (the view rereads them)
  std::vector<RoleChange> role_changes;
  std::unique_ptr<SimApp> command_app;  // encodes client commands (SimApp::command); none
                                        // with a node logic, which takes the data as it is
  std::unique_ptr<ViewRecorder> view;   // ClusterOptions::view_frames > 0

  // cluster.cc: events and faults
  void push(Event e);
  // The sender of a snapshot learns at `at` how its transfer to `follower` ended.
  void push_snapshot_status(int sender, NodeId follower, bool ok, decltype(Event::time) at);
  void process_next();
  void dispatch(Event& e);
  uint64_t us(double ms) const { return static_cast<uint64_t>(ms * 1000.0); }
  uint64_t random_delay(double lo_ms, double hi_ms) { return rng.uniform(us(lo_ms), us(hi_ms)); }
  void add_trace(TraceEvent::Kind kind, int node, std::string text, uint64_t a = 0, uint64_t b = 0);
  [[noreturn]] void rethrow_with_context(const InvariantViolation& v);
  void check_node(int node) const;  // throws std::out_of_range unless 0 <= node < nodes.size()
  // The node's log changed from index `from` on (0: all of it, a snapshot, a crash, a start).
  void log_changed(SimNode& n, uint64_t from) {
    if (view) view->log_changed(n.index, from);
  }
  // After an event, a fault or a client call: the view records a frame if anything changed
  // (or anyway: the event that broke an invariant).
  void observe_view(bool always = false) {
    if (!view) return;
    view->observe(*this, trace.first(), always);
    trace.forget_first();
  }

  // cluster_node.cc: driving a node
  RaftConfig raft_config(int index);
  void start_node(int index);  // creates storage, logic and loop from the node's disk
  void submit(int index, Input in);
  void handle_input(SimNode& n, const Input& in);
  void drive(SimNode& n);
  void persist_done(SimNode& n);
  void send_messages(SimNode& n, std::vector<Message>& messages);
  void send_peer_messages(SimNode& n);  // a node logic's messages that are not Raft's
  void send(SimNode& from, Message m);
  void deliver(Event& e);
  void take_snapshot(SimNode& n);
  void note_role(SimNode& n, const SoftState& s);
  std::unique_ptr<SimApp> make_app() const;
  bool kv_clients() const { return static_cast<bool>(options.node_logic); }
  uint64_t term_at(const SimNode& n, uint64_t index) const;
  std::vector<int> voters_of(const SimNode& n) const;

  // cluster_clients.cc: client operations
  uint64_t new_op(Operation::Kind kind, std::optional<int> via);
  void attempt(uint64_t op, uint64_t token);
  void schedule_attempt(uint64_t op, uint64_t delay_us);
  int pick_node(ClientState& c, bool leader_only);
  void complete(uint64_t op, Outcome outcome, std::string output = "", uint64_t index = 0);
  void client_input(SimNode& n, const Input& in);
  void refuse(SimNode& n, uint64_t op, const std::string& why);
};

}  // namespace etcdlab::sim
