// RequestSource (bench/load/request_source.h): the keys and ranges a load run asks for.
// bench/scale.py relies on two of its rules: a second run with --key-offset writes keys the first
// did not, and a range of --range-keys N reads exactly N keys that all exist in a filled space.
#include "../load/request_source.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace etcdlab::bench {
namespace {

LoadOptions options(Workload w, uint64_t key_space, uint32_t key_size = 8) {
  LoadOptions o;
  o.workload = w;
  o.key_space = key_space;
  o.key_size = key_size;
  return o;
}

// Rule: sequential keys with --key-offset K are K, K+1, ... and wrap within [K, K + key_space).
TEST(RequestSource, SequentialKeysStartAtTheOffsetAndStayInItsSpace) {
  LoadOptions o = options(Workload::kPut, 3);
  o.sequential_keys = true;
  o.key_offset = 100;
  RequestSource source(o, 0);
  for (const char* want : {"00000100", "00000101", "00000102", "00000100"}) {
    auto c = source.next_choice();
    EXPECT_FALSE(c.read);
    EXPECT_EQ(c.key, want);
    EXPECT_TRUE(c.range_end.empty());
  }
}

// Rule: a range of N keys is [key k, key k+N-1 followed by \0), with k+N-1 inside the key space,
// so that it holds exactly N keys of a filled space (fixed-width decimals sort numerically).
TEST(RequestSource, RangeOfNKeysCoversNKeysInsideTheSpace) {
  LoadOptions o = options(Workload::kRange, 50);
  o.range_keys = 10;
  o.key_offset = 1000;
  RequestSource source(o, 0);
  for (int i = 0; i < 500; i++) {
    auto c = source.next_choice();
    ASSERT_TRUE(c.read);
    uint64_t first = std::stoull(c.key);
    ASSERT_GE(first, 1000u) << "step " << i;
    ASSERT_LE(first + 9, 1049u) << "step " << i << ": the range leaves the key space";
    EXPECT_EQ(c.range_end, RequestSource::key_bytes(first + 9, 8) + std::string(1, '\0'));
  }
}

// Rule: --range-keys 1 keeps the single-key range (no range_end in the request).
TEST(RequestSource, SingleKeyRangeHasNoRangeEnd) {
  RequestSource source(options(Workload::kRange, 50), 0);
  std::string request;
  source.next(request, "h");
  EXPECT_EQ(request.find("range_end"), std::string::npos) << request;
}

// Rule: the HTTP body of a multi-key range carries range_end in base64 and a Content-Length that
// matches the body (next() checks its own count and throws if it is off).
TEST(RequestSource, HttpRangeBodyCarriesRangeEnd) {
  LoadOptions o = options(Workload::kRange, 2000);
  o.range_keys = 1000;
  o.linearizable = false;
  RequestSource source(o, 0);
  std::string request;
  source.next(request, "h");
  auto body = request.substr(request.find("\r\n\r\n") + 4);
  EXPECT_NE(request.find("Content-Length: " + std::to_string(body.size()) + "\r\n"),
            std::string::npos)
      << request;
  EXPECT_NE(body.find("\"range_end\":\""), std::string::npos) << body;
  EXPECT_EQ(body.substr(body.size() - 22), "\",\"serializable\":true}") << body;
}

// Rule: options that cannot be met are refused before a run starts.
TEST(RequestSource, ValidateRefusesKeysThatDoNotFitAndRangesLargerThanTheSpace) {
  LoadOptions o = options(Workload::kPut, 10, 2);
  EXPECT_NO_THROW(validate_key_size(o));
  o.key_offset = 90;  // keys 90..99 still fit in 2 digits
  EXPECT_NO_THROW(validate_key_size(o));
  o.key_offset = 91;  // key 100 does not
  EXPECT_THROW(validate_key_size(o), std::invalid_argument);
  o.key_offset = 0;
  o.range_keys = 11;
  EXPECT_THROW(validate_key_size(o), std::invalid_argument);
  o.range_keys = 0;
  EXPECT_THROW(validate_key_size(o), std::invalid_argument);
}

}  // namespace
}  // namespace etcdlab::bench
