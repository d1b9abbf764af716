// Issue 24: a snapshot from a peer is checked before the node is told of it. A damaged payload
// (a header that does not decode, a header alone, a cut store, bytes that are not a database)
// never reaches the node, leaves no staged file, is counted, and the sender hears it was
// refused; the member goes on serving, and a whole snapshot sent after it is delivered.
// Real transports on loopback (peer_transport_fixture.h), run with deadlines.
#include <algorithm>
#include <fstream>
#include <sstream>

#include "../node/snapshot_check.h"
#include "etcdlab/errors.h"
#include "peer_transport_fixture.h"

namespace etcdlab::runtime {
namespace {

using namespace peer_test;

Message snapshot_message(uint64_t index) {
  Message m;
  m.type = MessageType::kSnapshot;
  m.from = 1;
  m.to = 2;
  m.term = 3;
  m.snapshot = SnapshotMeta{index, 3, ConfState{{1, 2, 3}, {}}};
  return m;
}

uint64_t header_size(const std::string& payload) {
  return server::KvStateMachine::snapshot_header_of([&](uint64_t offset, uint64_t length) {
           return offset >= payload.size() ? std::string() : payload.substr(offset, length);
         }).size();
}

TEST_F(PeerTransportTest, ADamagedSnapshotIsRefusedTheSenderToldAndTheMemberStillServes) {
  Member& a = member(1);
  Member& b = member(2);
  a.transport->set_peer(2, "127.0.0.1", b.port);
  std::string whole = node_snapshot(200, 1000);
  uint64_t at = header_size(whole);
  struct Damage {
    std::string name;
    std::string payload;
    std::string says;  // in the refusal
  };
  std::vector<Damage> damages = {
      {"a header that does not decode", "\x05garbage", "header part"},
      {"a header alone", whole.substr(0, at), "no store"},
      {"a store cut short", whole.substr(0, whole.size() - 4096), "truncated"},
      {"a store that is not a database", whole.substr(0, at) + std::string(4096, 'x'),
       "not a SQLite database"},
  };
  uint64_t index = 10;
  for (const Damage& d : damages) {
    SCOPED_TRACE(d.name);
    auto failures = [&] { return std::count(a.snapshot_results.begin(), a.snapshot_results.end(), false); };
    auto failed_before = failures();
    uint64_t refused = b.transport->stats().snapshots_refused;
    Message m = snapshot_message(++index);
    a.transport->send_snapshot(m, std::make_shared<StringSnapshot>(m.snapshot, d.payload));
    ASSERT_TRUE(run_until([&] { return b.transport->stats().snapshots_refused > refused; }));
    // The sender hears of it: the stream's end, then the refusal (kind 9).
    ASSERT_TRUE(run_until([&] { return failures() > failed_before; }))
        << "the sender reports the snapshot failed";
    EXPECT_TRUE(b.received.empty()) << "the node never hears of a refused snapshot";
    EXPECT_TRUE(std::filesystem::is_empty(dir_ / "staging-2")) << "its staged file is removed";
    // The member still serves this peer: the next message redials and arrives.
    size_t before = b.received.size();
    a.transport->send(append(1, 2, 3));
    ASSERT_TRUE(run_until([&] { return b.received.size() == before + 1; }));
    b.received.clear();
  }
  EXPECT_EQ(b.transport->stats().snapshots_refused, damages.size());

  // A whole snapshot afterwards is delivered, byte for byte.
  Message m = snapshot_message(++index);
  a.transport->send_snapshot(m, std::make_shared<StringSnapshot>(m.snapshot, whole));
  ASSERT_TRUE(run_until([&] { return b.received.size() == 1; }));
  EXPECT_EQ(b.received[0].message.snapshot, m.snapshot);
  std::ifstream in(b.received[0].staged, std::ios::binary);
  std::stringstream got;
  got << in.rdbuf();
  EXPECT_EQ(got.str(), whole);
  EXPECT_EQ(b.transport->stats().snapshots_refused, damages.size());
}

TEST_F(PeerTransportTest, TheRefusalNamesThePartAndOffsetAsTheCheckDoes) {
  // What the receiver sends back and logs is the check's own description of the payload.
  std::string whole = node_snapshot(20, 100);
  std::string cut = whole.substr(0, whole.size() - 1);
  auto dir = dir_ / "file";
  std::filesystem::create_directories(dir);
  std::string path = (dir / "cut.snap.part").string();
  std::ofstream(path, std::ios::binary) << cut;
  std::string verdict = check_staged_snapshot(path);
  auto problem = server::check_snapshot_payload(
      [&](uint64_t offset, uint64_t length) { return cut.substr(offset, length); }, cut.size());
  ASSERT_TRUE(problem);
  EXPECT_EQ(verdict, problem->describe());
  EXPECT_NE(verdict.find("store part, at payload offset " + std::to_string(cut.size())),
            std::string::npos)
      << verdict;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << whole;
  EXPECT_EQ(check_staged_snapshot(path), "") << "a whole payload passes";
}

TEST(SnapshotRefusedFrame, RoundTripsAndCutsTheReasonToItsLimit) {
  peer::SnapshotRefused r{3, 40, "the store is truncated"};
  EXPECT_EQ(peer::decode_snapshot_refused(peer::encode_snapshot_refused(r)), r);
  peer::SnapshotRefused long_one{3, 40, std::string(5000, 'x')};
  auto back = peer::decode_snapshot_refused(peer::encode_snapshot_refused(long_one));
  EXPECT_EQ(back.reason.size(), peer::kMaxRefusalBytes)
      << "it must fit the sender's first-frame limit";
  EXPECT_THROW(peer::decode_snapshot_refused("\x01"), DecodeError);
}

}  // namespace
}  // namespace etcdlab::runtime
