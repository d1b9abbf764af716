#include "etcdlab/codec.h"

#include <gtest/gtest.h>

#include "etcdlab/errors.h"
#include "etcdlab/random.h"
#include "etcdlab/testing/seeds.h"

namespace etcdlab {
namespace {

Message sample_message() {
  Message m;
  m.type = MessageType::kAppend;
  m.to = 2;
  m.from = 1;
  m.term = 7;
  m.log_term = 6;
  m.index = 41;
  m.entries = {{42, 7, EntryType::kNormal, "put a=1"},
               {43, 7, EntryType::kConfChange, std::string("\0\x01\xff", 3)}};
  m.commit = 40;
  m.reject = true;
  m.reject_hint = 12;
  m.snapshot = {10, 3, {{1, 2, 3}, {4}}};
  m.context = "read-7";
  return m;
}

std::string random_bytes(Rng& rng, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(rng.uniform(0, 255)));
  return s;
}

}  // namespace

TEST(Codec, RoundTripsEveryType) {
  Message m = sample_message();
  EXPECT_EQ(decode_value<Message>(encode_value(m), "message"), m);
  HardState hs{5, 2, 17};
  EXPECT_EQ(decode_value<HardState>(encode_value(hs), "hardstate"), hs);
  ConfChange cc{ConfChange::Type::kAddLearner, 9, "peer=http://x"};
  EXPECT_EQ(decode_value<ConfChange>(encode_value(cc), "confchange"), cc);
  Entry e{1ULL << 62, 3, EntryType::kNormal, std::string(100000, 'x')};
  EXPECT_EQ(decode_value<Entry>(encode_value(e), "entry"), e);
}

TEST(Codec, VarintsUseTheFewestBytes) {
  std::string out;
  Writer w(out);
  w.u64(0);
  w.u64(127);
  w.u64(128);
  w.u64(~0ULL);
  EXPECT_EQ(out.size(), 1u + 1u + 2u + 10u);
  Reader r(out);
  EXPECT_EQ(r.u64("a"), 0u);
  EXPECT_EQ(r.u64("b"), 127u);
  EXPECT_EQ(r.u64("c"), 128u);
  EXPECT_EQ(r.u64("d"), ~0ULL);
  EXPECT_TRUE(r.done());
}

TEST(Codec, RejectsEveryTruncation) {
  std::string bytes = encode_value(sample_message());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_THROW(decode_value<Message>(bytes.substr(0, n), "message"), DecodeError) << n;
  }
}

TEST(Codec, RejectsTrailingBytesAndUnknownVersions) {
  std::string bytes = encode_value(HardState{1, 2, 3});
  EXPECT_THROW(decode_value<HardState>(bytes + "x", "hardstate"), DecodeError);
  bytes[0] = 9;  // version 9
  EXPECT_THROW(decode_value<HardState>(bytes, "hardstate"), DecodeError);
}

TEST(Codec, RejectsOverlongVarintsAndHugeCounts) {
  std::string overlong(11, '\xff');
  Reader r(overlong);
  EXPECT_THROW(r.u64("x"), DecodeError);
  // A message claiming 2^60 entries in a handful of bytes must fail fast, not allocate.
  std::string bytes;
  Writer w(bytes);
  w.u64(kCodecVersion);
  for (int i = 0; i < 6; ++i) w.u64(i == 0 ? 2 : 1);
  w.u64(1ULL << 60);
  EXPECT_THROW(decode_value<Message>(bytes, "message"), DecodeError);
}

// Fuzz-style: random mutations of valid encodings either decode or throw DecodeError; nothing
// else (no crash, no other exception, no runaway allocation). Runs under ASan in make check.
TEST(Codec, MutatedInputsNeverCrash) {
  std::string good = encode_value(sample_message());
  testing::for_each_seed(20, [&](uint64_t seed) {
    Rng rng(seed);
    for (int round = 0; round < 2000; ++round) {
      std::string bytes = good;
      int edits = static_cast<int>(rng.uniform(1, 4));
      for (int i = 0; i < edits; ++i) {
        size_t pos = rng.uniform(0, bytes.size() - 1);
        switch (rng.uniform(0, 3)) {
          case 0:
            bytes[pos] = static_cast<char>(rng.uniform(0, 255));
            break;
          case 1:
            bytes.erase(pos, rng.uniform(1, 8));
            break;
          case 2:
            bytes.insert(pos, random_bytes(rng, rng.uniform(1, 8)));
            break;
          default:
            bytes.resize(pos);
            break;
        }
        if (bytes.empty()) bytes = "\x01";
      }
      try {
        (void)decode_value<Message>(bytes, "message");
      } catch (const DecodeError&) {
      }
    }
  });
}

}  // namespace etcdlab
