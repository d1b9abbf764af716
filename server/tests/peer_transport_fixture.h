#pragma once
// The peer transport tests' harness (peer_transport_test.cc, peer_node_message_test.cc): members
// with real transports on loopback in one io_context, run with deadlines (no sleeps), and raw
// connections for what a stranger would send.

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "../node/state_machine.h"
#include "../runtime/peer_frames.h"
#include "../runtime/peer_transport.h"

namespace etcdlab::runtime::peer_test {


namespace asio = boost::asio;
using asio::ip::tcp;

class StringSnapshot final : public SnapshotReader {
 public:
  StringSnapshot(SnapshotMeta meta, std::string data) : meta_(std::move(meta)), data_(std::move(data)) {}
  const SnapshotMeta& meta() const override { return meta_; }
  uint64_t size() const override { return data_.size(); }
  std::string read(uint64_t offset, uint64_t max_bytes) const override {
    if (offset >= data_.size()) return {};
    return data_.substr(offset, max_bytes);
  }

 private:
  SnapshotMeta meta_;
  std::string data_;
};

// A real node snapshot payload (the header of members 1 to 3, then a store of `keys` keys
// with values of `value_bytes`): what a leader streams, and what the receiver's check passes.
inline std::string node_snapshot(int keys, size_t value_bytes) {
  std::vector<server::Member> members;
  for (NodeId id = 1; id <= 3; ++id) {
    members.push_back(server::Member{id, "m" + std::to_string(id),
                                     {"http://127.0.0.1:" + std::to_string(id)}, {}, false});
  }
  server::KvStateMachine sm(mvcc::KvStore::open({}), members);
  for (int i = 0; i < keys; ++i) {
    server::PutRequest p;
    p.key = "key" + std::to_string(i);
    p.value = std::string(value_bytes, static_cast<char>('a' + i % 26));
    sm.apply_request(server::Request{p});
  }
  std::string payload;
  sm.write_snapshot([&](std::string_view chunk) { payload += chunk; });
  return payload;
}

struct Received {
  Message message;
  std::string staged;
};

struct ReceivedNodeMessage {
  NodeId from = kNoNode;
  std::string data;
};

// One member's transport and what it received.
struct Member {
  Member(asio::io_context& io, NodeId id, uint64_t cluster, std::string token,
         const std::filesystem::path& dir) {
    TransportOptions o;
    o.self = id;
    o.cluster_id = cluster;
    o.cluster_token = std::move(token);
    o.staging_dir = (dir / ("staging-" + std::to_string(id))).string();
    o.max_frame_bytes = 1 << 20;
    o.handshake_timeout = std::chrono::milliseconds(300);
    o.idle_timeout = std::chrono::milliseconds(600);
    o.max_handshaking = 4;
    std::filesystem::create_directories(o.staging_dir);
    TransportHandlers h;
    h.on_message = [this](Message m, const std::string& staged) {
      received.push_back({std::move(m), staged});
      arrivals.push_back("raft message");
    };
    h.on_snapshot_sent = [this](NodeId, bool ok) { snapshot_results.push_back(ok); };
    h.on_node_message = [this](NodeId from, std::string data) {
      node_messages.push_back({from, std::move(data)});
      arrivals.push_back("node message");
    };
    transport = std::make_unique<PeerTransport>(io, o, h);
    transport->set_members({1, 2, 3, 4, 5});  // the cluster's members (9 is a stranger)
    port = transport->listen("127.0.0.1", 0);
  }
  std::unique_ptr<PeerTransport> transport;
  uint16_t port = 0;
  std::vector<Received> received;
  std::vector<ReceivedNodeMessage> node_messages;
  std::vector<std::string> arrivals;  // "raft message" / "node message", in order
  std::vector<bool> snapshot_results;
};

class PeerTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("etcdlab-transport-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    members_.clear();
    io_.run_for(std::chrono::milliseconds(50));  // let closed sockets finish
    std::filesystem::remove_all(dir_);
  }

  Member& member(NodeId id, uint64_t cluster = 7, std::string token = "token") {
    members_.push_back(std::make_unique<Member>(io_, id, cluster, std::move(token), dir_));
    return *members_.back();
  }

  // Runs the io_context until `done` holds or 5 s pass (a deadline, not a sleep).
  bool run_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(std::chrono::milliseconds(5));
    }
    return done();
  }

  // Writes raw bytes to a member's peer port and reports whether the member closed the
  // connection (it must, for anything that is not a valid peer stream).
  bool raw_connection_is_dropped(uint16_t port, const std::string& bytes) {
    tcp::socket s(io_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    asio::write(s, asio::buffer(bytes));
    bool closed = false;
    std::array<char, 256> buf;
    std::function<void()> read_more = [&] {
      s.async_read_some(asio::buffer(buf), [&](boost::system::error_code ec, size_t) {
        if (ec) {
          closed = true;
        } else {
          read_more();
        }
      });
    };
    read_more();
    bool ok = run_until([&] { return closed; });
    s.close();
    return ok;
  }

  static Message append(NodeId from, NodeId to, uint64_t term) {
    Message m;
    m.type = MessageType::kAppend;
    m.from = from;
    m.to = to;
    m.term = term;
    m.index = 4;
    m.log_term = 1;
    m.commit = 3;
    m.entries.push_back(Entry{5, term, EntryType::kNormal, "payload"});
    return m;
  }

  asio::io_context io_;
  std::filesystem::path dir_;
  std::vector<std::unique_ptr<Member>> members_;
};

}  // namespace etcdlab::runtime::peer_test
