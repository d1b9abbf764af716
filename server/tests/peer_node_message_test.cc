// Node messages (frame kind 8) on the peer transport: a follower's lease questions reach the
// leader and its answers come back, in order with Raft's messages, under the same rules as
// they: only a member is heard, the frame's sender and addressee must be the connection's,
// and the frame size limit holds. Real sockets on loopback, run with deadlines (no sleeps).
#include "peer_transport_fixture.h"

namespace etcdlab::runtime {
namespace {

using namespace peer_test;

class PeerNodeMessageTest : public PeerTransportTest {
 protected:
  // A member's hello to member 2 of cluster 7, then `frames`: what a dialler would send.
  static std::string after_hello(NodeId from, const std::string& frames) {
    peer::Hello h;
    h.cluster = 7;
    h.token_hash = peer::token_hash("token");
    h.from = from;
    h.to = 2;
    return peer::encode_frame(peer::FrameKind::kHello, peer::encode_hello(h)) + frames;
  }
  static std::string node_frame(NodeId from, NodeId to, const std::string& data) {
    return peer::encode_frame(peer::FrameKind::kNodeMessage,
                              peer::encode_node_message_frame({from, to, data}));
  }
};

TEST_F(PeerNodeMessageTest, ANodeMessageArrivesWithItsSenderInOrderWithRaftMessages) {
  Member& a = member(1);
  Member& b = member(2);
  a.transport->set_peer(2, "127.0.0.1", b.port);
  a.transport->send(append(1, 2, 3));
  a.transport->send_node_message(2, "keep lease 7 alive");
  a.transport->send(append(1, 2, 4));
  ASSERT_TRUE(run_until([&] { return b.arrivals.size() == 3; }));
  EXPECT_EQ(b.arrivals, (std::vector<std::string>{"raft message", "node message", "raft message"}))
      << "one queue per peer: a question is not overtaken";
  ASSERT_EQ(b.node_messages.size(), 1u);
  EXPECT_EQ(b.node_messages[0].from, 1u);
  EXPECT_EQ(b.node_messages[0].data, "keep lease 7 alive");
  // The answer goes back the other way, on b's own connection to a.
  b.transport->set_peer(1, "127.0.0.1", a.port);
  b.transport->send_node_message(1, "lease 7: 30 s left");
  ASSERT_TRUE(run_until([&] { return a.node_messages.size() == 1; }));
  EXPECT_EQ(a.node_messages[0].from, 2u);
  EXPECT_EQ(a.node_messages[0].data, "lease 7: 30 s left");
}

// Issue 23, defect 1, for node messages: a stranger that knows the token could otherwise keep
// an abandoned lease alive (or ask about any lease). Its hello is refused and counted.
TEST_F(PeerNodeMessageTest, ANodeMessageFromAnIdThatIsNotAMemberIsRefusedAndCounted) {
  Member& b = member(2);
  Member& forger = member(0xdeadbeef);
  forger.transport->set_peer(2, "127.0.0.1", b.port);
  forger.transport->send_node_message(2, "keep lease 7 alive");
  ASSERT_TRUE(run_until([&] { return b.transport->stats().unknown_senders >= 1; }));
  // A member removed since is no longer heard on the connection it has open.
  Member& a = member(1);
  a.transport->set_peer(2, "127.0.0.1", b.port);
  a.transport->send_node_message(2, "first");
  ASSERT_TRUE(run_until([&] { return b.node_messages.size() == 1; }));
  b.transport->set_members({2, 3});
  uint64_t before = b.transport->stats().unknown_senders;
  a.transport->send_node_message(2, "after its removal");
  ASSERT_TRUE(run_until([&] { return b.transport->stats().unknown_senders > before; }));
  ASSERT_EQ(b.node_messages.size(), 1u) << "nothing from a non-member reaches the node";
  EXPECT_EQ(b.node_messages[0].data, "first");
}

TEST_F(PeerNodeMessageTest, AFrameThatSpeaksForAnotherMemberOrToAnotherIsDropped) {
  Member& b = member(2);
  // Member 1's connection carrying a message "from" member 3: the connection goes.
  EXPECT_TRUE(raw_connection_is_dropped(b.port, after_hello(1, node_frame(3, 2, "forged"))));
  // Addressed to member 5 on a connection to member 2.
  EXPECT_TRUE(raw_connection_is_dropped(b.port, after_hello(1, node_frame(1, 5, "astray"))));
  // A payload that is not a node message frame (trailing bytes).
  std::string trailing = peer::encode_frame(
      peer::FrameKind::kNodeMessage, peer::encode_node_message_frame({1, 2, "x"}) + "junk");
  EXPECT_TRUE(raw_connection_is_dropped(b.port, after_hello(1, trailing)));
  EXPECT_EQ(b.transport->stats().bad_frames, 1u) << "the undecodable one";
  EXPECT_TRUE(b.node_messages.empty());
  // A well-formed one on the same kind of connection arrives (the checks are not too strict).
  Member& a = member(1);
  a.transport->set_peer(2, "127.0.0.1", b.port);
  a.transport->send_node_message(2, "fine");
  ASSERT_TRUE(run_until([&] { return b.node_messages.size() == 1; }));
}

// Issue 23, defect 2, for node messages: the frame size limit applies to them as to Raft's
// messages (the fixture's limit is 1 MiB); the member drops the connection and serves on.
TEST_F(PeerNodeMessageTest, AnOversizedNodeMessageFrameIsRefusedAndTheSenderServedAfter) {
  Member& b = member(2);
  std::string header = std::string("\x00\x00\x20\x00", 4) + std::string(4, '\0');  // 2 MiB
  EXPECT_TRUE(raw_connection_is_dropped(b.port, after_hello(1, header + "\x08")));
  EXPECT_EQ(b.transport->stats().bad_frames, 1u);
  // Before a hello the limit is a hello's size.
  EXPECT_TRUE(raw_connection_is_dropped(b.port, node_frame(1, 2, std::string(5000, 'n'))));
  EXPECT_EQ(b.transport->stats().bad_frames, 2u);
  Member& a = member(1);
  a.transport->set_peer(2, "127.0.0.1", b.port);
  a.transport->send_node_message(2, std::string(2 << 20, 'n'));
  ASSERT_TRUE(run_until([&] { return b.transport->stats().bad_frames == 3; }));
  // The writer sees the close and redials (what it wrote meanwhile is lost, as for Raft's).
  ASSERT_TRUE(run_until([&] {
    a.transport->send_node_message(2, "small");
    io_.run_for(std::chrono::milliseconds(20));
    return !b.node_messages.empty();
  }));
  EXPECT_EQ(b.node_messages[0].data, "small");
}

// Failpoints cut node messages as they cut Raft's (a partition is a partition).
TEST_F(PeerNodeMessageTest, FailpointsDropNodeMessagesLikeRaftMessages) {
  Member& a = member(1);
  Member& b = member(2);
  a.transport->set_peer(2, "127.0.0.1", b.port);
  b.transport->set_faults(PeerFaults{{}, {1}, 0});
  a.transport->send_node_message(2, "dropped on arrival");
  a.transport->send(append(1, 2, 3));
  ASSERT_TRUE(run_until([&] {
    uint64_t sent = a.transport->stats().bytes_sent;
    return sent > 0 && b.transport->stats().bytes_received == sent;
  })) << "both frames reached the receiver";
  EXPECT_TRUE(b.node_messages.empty());
  EXPECT_TRUE(b.received.empty());
  b.transport->set_faults({});
  a.transport->set_faults(PeerFaults{{2}, {}, 0});
  a.transport->send_node_message(2, "dropped on sending");
  EXPECT_EQ(a.transport->stats().messages_dropped, 1u);
  a.transport->set_faults({});
  a.transport->send_node_message(2, "through");
  ASSERT_TRUE(run_until([&] { return b.node_messages.size() == 1; }));
  EXPECT_EQ(b.node_messages[0].data, "through");
}

}  // namespace
}  // namespace etcdlab::runtime
