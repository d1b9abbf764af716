// Client operations in the simulator: proposals, linearizable reads, membership changes and
// leader transfers. A client picks a node (the one asked for, else the leader it knows of,
// else the next one), retries elsewhere when refused, and gives up at client_deadline_ms.
// With the default node logic it also re-sends after client_retry_ms without an answer (a
// command is applied once, by its id); with a ClusterOptions::node_logic (the server's node)
// it never re-sends what a node took: it waits for that node's answer, as an etcd client
// does not retry a write it cannot deduplicate.
#include <fmt/format.h>

#include "cluster_impl.h"
#include "etcdlab/codec.h"

namespace etcdlab::sim {
namespace {

constexpr double kRefusedRetryMs = 50;

}  // namespace

uint64_t Cluster::Impl::new_op(Operation::Kind kind, std::optional<int> via) {
  if (via) check_node(*via);
  Operation op;
  op.id = ops.size() + 1;
  op.kind = kind;
  op.via = via.value_or(-1);
  op.call_us = now;
  ops.push_back(op);
  ClientState c;
  c.via = via;
  c.deadline = now + us(options.client_deadline_ms);
  c.next_node = static_cast<int>(rng.uniform(0, nodes.size() - 1));
  clients.push_back(c);
  client_changes++;
  schedule_attempt(op.id, 0);
  return op.id;
}

void Cluster::Impl::schedule_attempt(uint64_t op, uint64_t delay_us) {
  Event e;
  e.kind = Event::Kind::kClientAttempt;
  e.op = op;
  e.incarnation = ++clients[op - 1].attempt_token;  // supersedes any attempt already scheduled
  e.time = now + delay_us;
  push(std::move(e));
}

int Cluster::Impl::pick_node(ClientState& c, bool leader_only) {
  if (c.via && !leader_only && nodes[*c.via]->up) return *c.via;
  int best = -1;
  uint64_t best_term = 0;
  for (const auto& n : nodes) {
    if (n->up && n->role == Role::kLeader && (best < 0 || n->term > best_term)) {
      best = n->index;
      best_term = n->term;
    }
  }
  if (best >= 0 || leader_only) return best;
  for (size_t tries = 0; tries < nodes.size(); ++tries) {
    int i = c.next_node;
    c.next_node = (c.next_node + 1) % static_cast<int>(nodes.size());
    if (nodes[i]->up) return i;
  }
  return -1;
}

void Cluster::Impl::attempt(uint64_t id, uint64_t token) {
  Operation& op = ops[id - 1];
  ClientState& c = clients[id - 1];
  if (op.done() || token != c.attempt_token) return;
  if (now >= c.deadline) {
    // A write that some node took may still commit later: its outcome is unknown. A read, or
    // a request no node ever took, failed. (A membership change a server node took may
    // commit too.)
    bool may_apply = op.kind == Operation::Kind::kPropose ||
                     (kv_clients() && op.kind == Operation::Kind::kConfChange);
    complete(id, c.accepted && may_apply ? Outcome::kUnknown : Outcome::kFailed);
    return;
  }
  bool leader_only = c.is_conf_change || c.transfer_to >= 0;
  if (op.attempts > 0) c.via.reset();  // no answer from the node asked: try another
  int target = pick_node(c, leader_only);
  if (target < 0) {
    schedule_attempt(id, us(kRefusedRetryMs));
    return;
  }
  op.attempts++;
  Input in;
  in.op = id;
  if (c.is_conf_change) {
    in.kind = Input::Kind::kConfChange;
  } else if (c.transfer_to >= 0) {
    in.kind = Input::Kind::kTransfer;
  } else if (op.kind == Operation::Kind::kRead) {
    in.kind = Input::Kind::kRead;
  } else {
    in.kind = Input::Kind::kPropose;
  }
  add_trace(TraceEvent::Kind::kClientAttempt, target, "", id, static_cast<uint64_t>(op.attempts));
  // Re-send if no answer comes (an accepted request may be lost with a leader); a node logic
  // answers what it takes, so its client only wakes at the deadline. Scheduled before
  // submitting, so that a refusal during submit() can replace it with a sooner one.
  schedule_attempt(id, kv_clients() ? c.deadline - now : us(options.client_retry_ms));
  submit(target, in);
}

void Cluster::Impl::client_input(SimNode& n, const Input& in) {
  Operation& op = ops[in.op - 1];
  ClientState& c = clients[in.op - 1];
  if (op.done()) return;
  n.refused = false;
  switch (in.kind) {
    case Input::Kind::kPropose:
      n.logic->propose(in.op, c.payload);
      if (!n.refused) c.accepted = true;
      break;
    case Input::Kind::kRead:
      n.logic->read(in.op, c.payload, options.linearizable_reads);
      break;
    case Input::Kind::kConfChange:
      n.logic->change_membership(in.op, c.change.type, c.change.node_id);
      if (!n.refused) c.accepted = true;
      break;
    case Input::Kind::kTransfer:
      n.logic->transfer_leader(in.op, static_cast<NodeId>(c.transfer_to + 1));
      break;
    default:
      break;
  }
}

void Cluster::Impl::refuse(SimNode& n, uint64_t op, const std::string& why) {
  n.refused = true;
  add_trace(TraceEvent::Kind::kClient, n.index, fmt::format("op {} refused: {}", op, why));
  clients[op - 1].via.reset();  // "retrying on another node"
  schedule_attempt(op, us(kRefusedRetryMs));
}

void Cluster::Impl::complete(uint64_t id, Outcome outcome, std::string output, uint64_t index) {
  Operation& op = ops[id - 1];
  if (op.done()) return;
  op.outcome = outcome;
  op.output = std::move(output);
  if (index > 0) op.index = index;
  if (outcome == Outcome::kOk || outcome == Outcome::kFailed) op.return_us = now;
  client_changes++;
  add_trace(TraceEvent::Kind::kClientDone, -1, op.output, id, static_cast<uint64_t>(outcome));
}

// ---- the public client API

uint64_t Cluster::propose(std::string data, std::optional<int> via) {
  // Encoded first: data the state machine refuses throws before an operation exists. A node
  // logic takes the data as it is.
  std::string payload = impl_->command_app
                            ? impl_->command_app->command(impl_->ops.size() + 1, data)
                            : data;
  uint64_t id = impl_->new_op(Operation::Kind::kPropose, via);
  impl_->ops[id - 1].input = std::move(data);
  impl_->clients[id - 1].payload = std::move(payload);
  impl_->observe_view();
  return id;
}

uint64_t Cluster::read(std::optional<int> via) {
  return read("", via);
}

uint64_t Cluster::read(std::string query, std::optional<int> via) {
  uint64_t id = impl_->new_op(Operation::Kind::kRead, via);
  impl_->ops[id - 1].input = query;
  impl_->clients[id - 1].payload = std::move(query);
  impl_->observe_view();
  return id;
}

namespace {
uint64_t membership_op(Cluster::Impl& r, ConfChange::Type type, int node, const char* what) {
  r.check_node(node);
  uint64_t id = r.new_op(Operation::Kind::kConfChange, std::nullopt);
  r.ops[id - 1].input = fmt::format("{} {}", what, node);
  auto& c = r.clients[id - 1];
  c.is_conf_change = true;
  c.change.type = type;
  c.change.node_id = static_cast<NodeId>(node + 1);
  r.observe_view();
  return id;
}
}  // namespace

uint64_t Cluster::add_voter(int node) {
  return membership_op(*impl_, ConfChange::Type::kAddVoter, node, "add-voter");
}

uint64_t Cluster::add_learner(int node) {
  return membership_op(*impl_, ConfChange::Type::kAddLearner, node, "add-learner");
}

uint64_t Cluster::remove_node(int node) {
  return membership_op(*impl_, ConfChange::Type::kRemoveNode, node, "remove");
}

uint64_t Cluster::transfer_leader(int to) {
  impl_->check_node(to);
  uint64_t id = impl_->new_op(Operation::Kind::kTransfer, std::nullopt);
  impl_->ops[id - 1].input = fmt::format("transfer-leader {}", to);
  impl_->clients[id - 1].transfer_to = to;
  impl_->observe_view();
  return id;
}

const Operation& Cluster::op(uint64_t id) const {
  if (id < 1 || id > impl_->ops.size()) {
    throw std::out_of_range(fmt::format("no operation {}: operations are 1 .. {}", id,
                                        impl_->ops.size()));
  }
  return impl_->ops[id - 1];
}
const std::vector<Operation>& Cluster::history() const {
  return impl_->ops;
}

}  // namespace etcdlab::sim
