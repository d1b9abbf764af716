// The request codec (server/node/requests.h): what goes into a log entry comes back out, field
// for field, and bytes that are not a request are refused with a DecodeError, never a crash.
#include "../node/requests.h"

#include <gtest/gtest.h>

#include <random>

#include "etcdlab/codec.h"
#include "etcdlab/errors.h"

namespace etcdlab::server {
namespace {

// One request of each kind with every field set to something other than its default.
PutRequest full_put() {
  PutRequest p;
  p.key = std::string("k\0ey", 4);  // bytes, not C strings
  p.value = "value \xff";
  p.lease = -7;                      // int64 travels as u64 and back
  p.options.prev_kv = true;
  p.options.ignore_value = true;
  p.options.ignore_lease = true;
  return p;
}

DeleteRangeRequest full_delete() {
  DeleteRangeRequest d;
  d.range.key = "a";
  d.range.range_end = std::string("\0", 1);
  d.prev_kv = true;
  return d;
}

AttributesRequest full_attributes() {
  AttributesRequest a;
  a.member = 0xFEDCBA9876543210ULL;
  a.name = "infra1";
  a.client_urls = {"http://10.0.0.1:2379", "http://10.0.0.1:22379"};
  return a;
}

template <typename T>
T round_trip(uint64_t id, const T& request) {
  auto [decoded_id, decoded] = decode_request(encode_request(id, request));
  EXPECT_EQ(decoded_id, id);
  const T* typed = std::get_if<T>(&decoded);
  if (typed == nullptr) {
    ADD_FAILURE() << "decoded as variant index " << decoded.index();
    return T{};
  }
  return *typed;
}

// Asserts that decoding `data` throws a DecodeError (and nothing else).
void expect_decode_error(std::string_view data, const std::string& what) {
  try {
    decode_request(data);
    ADD_FAILURE() << what << ": decoded without an error";
  } catch (const DecodeError&) {
    // expected
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": threw something other than DecodeError: " << e.what();
  }
}

std::vector<std::string> one_of_each_kind() {
  return {encode_request(1, full_put()), encode_request(2, full_delete()),
          encode_request(3, CompactionRequest{42, true}),
          encode_request(4, full_attributes()), encode_request(5, AttributesRequest{}),
          encode_request(6, AlarmRequest{false, 0x8211f1d0f64f3269ULL, AlarmType::kNoSpace})};
}

}  // namespace

TEST(RequestCodec, PutRoundTripsWithEveryField) {
  PutRequest p = round_trip(0xFFFFFFFFFFFFFFFFULL, full_put());
  EXPECT_EQ(p.key, full_put().key);
  EXPECT_EQ(p.value, full_put().value);
  EXPECT_EQ(p.lease, -7);
  EXPECT_TRUE(p.options.prev_kv);
  EXPECT_TRUE(p.options.ignore_value);
  EXPECT_TRUE(p.options.ignore_lease);

  PutRequest plain = round_trip(1, PutRequest{"k", "", 0, {}});
  EXPECT_EQ(plain.key, "k");
  EXPECT_EQ(plain.value, "");
  EXPECT_EQ(plain.lease, 0);
  EXPECT_FALSE(plain.options.prev_kv || plain.options.ignore_value || plain.options.ignore_lease);
}

TEST(RequestCodec, DeleteRangeRoundTripsWithEveryField) {
  DeleteRangeRequest d = round_trip(7, full_delete());
  EXPECT_EQ(d.range.key, "a");
  EXPECT_EQ(d.range.range_end, std::string("\0", 1));
  EXPECT_TRUE(d.prev_kv);
}

TEST(RequestCodec, CompactionRoundTripsWithEveryField) {
  CompactionRequest c = round_trip(8, CompactionRequest{1234567890123LL, true});
  EXPECT_EQ(c.revision, 1234567890123LL);
  EXPECT_TRUE(c.physical);
  EXPECT_FALSE(round_trip(9, CompactionRequest{3, false}).physical);
}

TEST(RequestCodec, AttributesRoundTripWithEveryField) {
  AttributesRequest a = round_trip(10, full_attributes());
  EXPECT_EQ(a.member, full_attributes().member);
  EXPECT_EQ(a.name, "infra1");
  EXPECT_EQ(a.client_urls, full_attributes().client_urls);
  EXPECT_TRUE(round_trip(11, AttributesRequest{}).client_urls.empty());
}

TEST(RequestCodec, EveryTruncationIsADecodeError) {
  for (const std::string& data : one_of_each_kind()) {
    for (size_t n = 0; n < data.size(); ++n) {
      expect_decode_error(std::string_view(data).substr(0, n),
                          "prefix of " + std::to_string(n) + "/" + std::to_string(data.size()));
    }
  }
}

TEST(RequestCodec, TrailingBytesAreADecodeError) {
  for (const std::string& data : one_of_each_kind()) expect_decode_error(data + "x", "trailing");
}

TEST(RequestCodec, UnknownVersionIsRefused) {
  std::string data;
  Writer w(data);
  w.u64(3);  // version 3 does not exist (2 added auth: auth_codec_test.cc)
  w.u64(1);
  w.u64(3);  // a compaction, otherwise well formed
  w.u64(5);
  w.boolean(false);
  w.boolean(false);  // (version 2's "no stamp")
  try {
    decode_request(data);
    FAIL() << "version 3 decoded";
  } catch (const DecodeError& e) {
    EXPECT_STREQ(e.what(),
                 "unknown request version 3 (this build reads versions 1 and 2) (at byte 0)");
  }
}

TEST(RequestCodec, AlarmRoundTripsAndAnUnknownAlarmIsRefused) {
  AlarmRequest a = round_trip(9, AlarmRequest{false, 0x8211f1d0f64f3269ULL, AlarmType::kCorrupt});
  EXPECT_FALSE(a.activate);
  EXPECT_EQ(a.member, 0x8211f1d0f64f3269ULL);
  EXPECT_EQ(a.alarm, AlarmType::kCorrupt);
  std::string data;
  Writer w(data);
  w.u64(1);
  w.u64(1);
  w.u64(5);  // alarm
  w.boolean(true);
  w.u64(3);
  w.u64(7);  // no such alarm
  expect_decode_error(data, "alarm type 7");
}

TEST(RequestCodec, UnknownKindIsRefused) {
  for (uint64_t kind : {0ULL, 8ULL, 99ULL, ~0ULL}) {
    std::string data;
    Writer w(data);
    w.u64(1);
    w.u64(1);
    w.u64(kind);
    w.u64(5);
    w.boolean(false);
    expect_decode_error(data, "kind " + std::to_string(kind));
  }
}

TEST(RequestCodec, HostileCountsAndBooleansAreDecodeErrors) {
  std::string urls;
  Writer w(urls);
  w.u64(1);
  w.u64(1);
  w.u64(4);  // attributes
  w.u64(3);
  w.bytes("n");
  w.u64(1ULL << 60);  // client_urls count the remaining bytes cannot hold
  expect_decode_error(urls, "huge url count");

  std::string flag;
  Writer f(flag);
  f.u64(1);
  f.u64(1);
  f.u64(3);  // compaction
  f.u64(5);
  f.u64(2);  // physical = 2 is not a boolean
  expect_decode_error(flag, "boolean 2");

  expect_decode_error(std::string(11, '\xff'), "an overlong varint");
}

TEST(RequestCodec, RandomBytesAndBitFlipsNeverCrash) {
  // Decoding arbitrary bytes either succeeds or throws DecodeError; seeded, so every run is the
  // same run.
  std::mt19937_64 rng(20240601);
  auto check = [](const std::string& data) {
    try {
      decode_request(data);
    } catch (const DecodeError&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw something other than DecodeError: " << e.what();
    }
  };
  for (int i = 0; i < 2000; ++i) {
    std::string data(rng() % 40, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    check(data);
  }
  for (const std::string& valid : one_of_each_kind()) {
    for (size_t at = 0; at < valid.size(); ++at) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string data = valid;
        data[at] = static_cast<char>(data[at] ^ (1 << bit));
        check(data);
      }
    }
  }
}

}  // namespace etcdlab::server
