// The gateway's /v3/watch request reader (server/gateway/watch_session.h): a fuzzed request
// body — a stream of create, cancel and progress objects, or anything else — read by two
// sessions over two identical members (a state machine and its watch hub each): one gets the
// body at once, the other in pieces of a size the input picks. Both must say the same: the
// same refusal of a bad first request, or the same result lines, during the body and after
// the writes that follow it (events, catch-up from history, compaction cancels, fragments).
// Every line must be one JSON object with a result and its header; a refusal must be etcd's
// error body (500, code 2). An exception escaping the session, or a crash, is a finding.
//
// Input: byte 0 the piece size (1-97), byte 1 options (bit 0: the body ends, as a request
// with a Content-Length does; bit 1: compact before the writes), then the body. Objects are
// never large enough to reach the session's size limit (max-request-bytes as base64 plus
// 64 KiB, above libFuzzer's 64 KiB inputs): that path is left to the unit tests.
#include <boost/json.hpp>
#include <memory>

#include "../direct_member.h"
#include "../fuzz_input.h"
#include "watch_session.h"

using namespace etcdlab;
using namespace etcdlab::gateway;

namespace {

// Small limits, so that a few writes make watchers fall behind, catch up in several responses
// and get fragments.
watch::WatchConfig small_hub() {
  watch::WatchConfig c;
  c.stream_capacity = 8;
  c.max_watchers_per_sync = 4;
  c.max_revisions_per_response = 3;
  c.max_response_bytes = 4096;
  return c;
}

// A member whose writes apply at once; watches go to its state machine's hub, as on a node
// (a create from the past is served from history at once, as KvNode does).
class Member final : public fuzz::DirectMember {
 public:
  Member() : DirectMember(1572864) {}

  uint64_t open_watch_stream(std::function<void()> /*wake*/) override {
    return hub().open_stream();
  }
  void close_watch_stream(uint64_t stream) override { hub().close_stream(stream); }
  void watch(uint64_t stream, const watch::WatchRequest& request) override {
    hub().watch(stream, request, sm->store());
    if (hub().unsynced() > 0) hub().sync(sm->store());
  }
  void cancel_watch(uint64_t stream, int64_t id) override { hub().cancel(stream, id, sm->store()); }
  void request_watch_progress(uint64_t stream) override {
    hub().request_progress(stream, sm->store());
  }
  std::vector<watch::WatchResponse> take_watch_responses(uint64_t stream, size_t max) override {
    return hub().take(stream, max);
  }

  watch::WatchHub& hub() { return sm->watches(); }
  void reset() {
    sm = std::make_unique<server::KvStateMachine>(mvcc::KvStore::open({}),
                                                  std::vector<server::Member>{}, nullptr,
                                                  lease::LessorConfig{}, small_hub());
  }
  // The same writes on both members: puts on the seeds' keys (one big enough to fragment),
  // a delete, and, if asked, a compaction that cancels watchers from the past.
  void writes(bool compact) {
    int64_t rev = sm->store().revision();
    if (compact && rev > 2) sm->apply_request(server::CompactionRequest{rev - 1, false});
    for (const char* k : {"a", "b", "ab", "z"}) {
      sm->apply_request(server::PutRequest{k, "v", 0, {}});
    }
    sm->apply_request(server::PutRequest{std::string(1, '\0'), std::string(5000, 'x'), 0, {}});
    sm->apply_request(server::DeleteRangeRequest{{"a", "b"}, true});
  }

};

void check_line(const std::string& line) {
  if (line.empty() || line.back() != '\n') __builtin_trap();
  boost::json::value v = boost::json::parse(line);  // throws (a finding) if it is not JSON
  const boost::json::object& result = v.as_object().at("result").as_object();
  (void)result.at("header").as_object();
}

// Both sessions' lines, until both are drained and no watcher is behind; they must match.
void compare_lines(Member& whole_m, WatchSession& whole, Member& pieces_m, WatchSession& pieces) {
  for (int round = 0; round < 64; ++round) {
    std::vector<std::string> a = whole.take_lines(1000);
    std::vector<std::string> b = pieces.take_lines(1000);
    if (a != b) __builtin_trap();  // the same body in pieces must answer the same
    for (const auto& line : a) check_line(line);
    if (a.empty() && whole_m.hub().unsynced() == 0) return;
    whole_m.hub().sync(whole_m.store());
    pieces_m.hub().sync(pieces_m.store());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Member* whole_member = new Member;
  static Member* pieces_member = new Member;
  static uint64_t runs = 0;
  if (runs++ % 500 == 0) {  // bounded memory; both members stay identical
    whole_member->reset();
    pieces_member->reset();
  }
  fuzz::FuzzInput in(data, size);
  size_t piece = 1 + in.byte() % 97;
  uint8_t options = in.byte();
  std::string_view body = in.rest();

  WatchSession whole(*whole_member, whole_member->max_request_bytes(), [] {});
  WatchSession pieces(*pieces_member, pieces_member->max_request_bytes(), [] {});
  whole.received(body);
  for (size_t at = 0; at < body.size(); at += piece) pieces.received(body.substr(at, piece));
  if (options & 1) {
    whole.body_ended();
    pieces.body_ended();
  }
  if (whole.reading() != pieces.reading()) __builtin_trap();
  if (whole.refusal().has_value() != pieces.refusal().has_value()) __builtin_trap();
  if (const auto& r = whole.refusal()) {
    if (r->status != 500 || r->body != pieces.refusal()->body) __builtin_trap();
    if (boost::json::parse(r->body).as_object().at("code").as_int64() != 2) __builtin_trap();
    if (!whole.take_lines(1000).empty() || whole.reading()) __builtin_trap();
  }
  compare_lines(*whole_member, whole, *pieces_member, pieces);
  whole_member->writes(options & 2);
  pieces_member->writes(options & 2);
  compare_lines(*whole_member, whole, *pieces_member, pieces);
  return 0;
}
