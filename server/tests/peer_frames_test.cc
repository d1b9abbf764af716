// The peer protocol's bytes without sockets (server/runtime/peer_frames.h): frames cut from a
// stream however it is split, memory bounded by what arrived, and the rules for a hello.
#include "../runtime/peer_frames.h"

#include <gtest/gtest.h>

#include "etcdlab/errors.h"

namespace etcdlab::runtime::peer {
namespace {

TEST(FrameDecoder, CutsFramesHoweverTheStreamIsSplit) {
  std::string stream = encode_frame(FrameKind::kMessage, "one") +
                       encode_frame(FrameKind::kSnapshotChunk, std::string(1000, 'x')) +
                       encode_frame(FrameKind::kRemoved, "");
  for (size_t step : {size_t{1}, size_t{3}, size_t{8}, size_t{100}, stream.size()}) {
    FrameDecoder d(1 << 20);
    std::vector<Frame> got;
    for (size_t at = 0; at < stream.size(); at += step) {
      d.feed(std::string_view(stream).substr(at, step));
      while (auto f = d.next()) got.push_back(std::move(*f));
    }
    ASSERT_EQ(got.size(), 3u) << "step " << step;
    EXPECT_EQ(got[0].kind, FrameKind::kMessage);
    EXPECT_EQ(got[0].payload, "one");
    EXPECT_EQ(got[1].payload, std::string(1000, 'x'));
    EXPECT_EQ(got[2].kind, FrameKind::kRemoved);
    EXPECT_EQ(d.buffered(), 0u);
    EXPECT_EQ(d.consumed(), stream.size());
  }
}

// Issue 23, defect 2: a header's claim is not memory. Only what arrived is held.
TEST(FrameDecoder, HoldsOnlyWhatArrivedNeverWhatAHeaderClaims) {
  FrameDecoder d(64ULL << 20);
  std::string claim = std::string("\x00\x00\x00\x04", 4) + std::string(4, '\0');  // 64 MiB
  d.feed(claim);
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.buffered(), 8u);
  EXPECT_TRUE(d.mid_frame());
  d.feed(std::string(1000, 'y'));
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.buffered(), 1008u);
}

TEST(FrameDecoder, RefusesOversizedEmptyCorruptAndUnknownFrames) {
  auto refuses = [](const std::string& bytes, uint64_t limit, const std::string& words) {
    FrameDecoder d(limit);
    d.feed(bytes);
    try {
      d.next();
      return ::testing::AssertionFailure() << "accepted";
    } catch (const DecodeError& e) {
      if (std::string(e.what()).find(words) == std::string::npos) {
        return ::testing::AssertionFailure() << e.what();
      }
      return ::testing::AssertionSuccess();
    }
  };
  EXPECT_TRUE(refuses(encode_frame(FrameKind::kMessage, std::string(200, 'z')), 100,
                      "frame of 201 bytes (limit 100)"));
  EXPECT_TRUE(refuses(std::string(8, '\0'), 100, "frame of 0 bytes"));
  std::string flipped = encode_frame(FrameKind::kMessage, "abc");
  flipped.back() ^= 1;
  EXPECT_TRUE(refuses(flipped, 100, "checksum"));
  std::string unknown = encode_frame(static_cast<FrameKind>(42), "abc");
  EXPECT_TRUE(refuses(unknown, 100, "unknown frame kind 42"));
}

TEST(Hello, RoundTripsAndRefusesGarbage) {
  Hello h{kProtocolVersion, 7, token_hash("t"), 1, 2};
  EXPECT_EQ(decode_hello(encode_hello(h)), h);
  EXPECT_THROW(decode_hello("nonsense"), DecodeError);
  EXPECT_THROW(decode_hello(encode_hello(h) + "x"), DecodeError);
}

// Issue 23, defect 1: the token is not membership.
TEST(JudgeHello, OnlyAMemberOfThisClusterAddressedToUsIsAccepted) {
  std::set<NodeId> members = {1, 2, 3};
  std::set<NodeId> removed = {4};
  ReceiverView me{2, 7, token_hash("t"), &members, &removed};
  auto verdict = [&](Hello h) { return judge_hello(h, me); };
  EXPECT_EQ(verdict({kProtocolVersion, 7, token_hash("t"), 1, 2}), HelloVerdict::kAccept);
  EXPECT_EQ(verdict({kProtocolVersion, 7, token_hash("t"), 0xdeadbeef, 2}),
            HelloVerdict::kNotAMember);
  EXPECT_EQ(verdict({kProtocolVersion, 7, token_hash("t"), 2, 2}), HelloVerdict::kNotAMember)
      << "nobody speaks for us";
  EXPECT_EQ(verdict({kProtocolVersion, 7, token_hash("t"), 4, 2}), HelloVerdict::kRemoved);
  EXPECT_EQ(verdict({kProtocolVersion, 8, token_hash("t"), 1, 2}), HelloVerdict::kOtherCluster);
  EXPECT_EQ(verdict({kProtocolVersion, 7, token_hash("u"), 1, 2}), HelloVerdict::kOtherCluster);
  EXPECT_EQ(verdict({kProtocolVersion, 7, token_hash("t"), 1, 3}), HelloVerdict::kNotForUs);
  EXPECT_EQ(verdict({1, 7, token_hash("t"), 1, 2}), HelloVerdict::kWrongVersion);
}

TEST(MembersRequest, CarriesThePeerUrlsAndRefusesOtherVersions) {
  MembersRequest r{kProtocolVersion, token_hash("t"), {"http://a:1", "http://b:2"}};
  EXPECT_EQ(decode_members_request(encode_members_request(r)), r);
  r.version = 1;
  EXPECT_THROW(decode_members_request(encode_members_request(r)), DecodeError);
}

TEST(NodeMessageFrame, CarriesSenderAddresseeAndOpaqueBytesAndRefusesGarbage) {
  NodeMessageFrame m{1, 2, std::string("\x00\xff" "bytes", 7)};
  EXPECT_EQ(decode_node_message_frame(encode_node_message_frame(m)), m);
  std::string good = encode_node_message_frame(m);
  EXPECT_THROW(decode_node_message_frame(good + "x"), DecodeError) << "trailing bytes";
  EXPECT_THROW(decode_node_message_frame(good.substr(0, good.size() - 1)), DecodeError)
      << "truncated";
  EXPECT_THROW(decode_node_message_frame(""), DecodeError);
  // It is a kind the decoder knows (an older one refused kind 8 as unknown).
  FrameDecoder d(1 << 20);
  d.feed(encode_frame(FrameKind::kNodeMessage, good));
  auto f = d.next();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->kind, FrameKind::kNodeMessage);
  EXPECT_EQ(decode_node_message_frame(f->payload), m);
}

}  // namespace
}  // namespace etcdlab::runtime::peer
