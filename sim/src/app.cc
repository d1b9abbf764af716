#include "etcdlab/sim/app.h"

#include <algorithm>
#include <vector>

#include "etcdlab/codec.h"
#include "etcdlab/sim/invariants.h"

namespace etcdlab::sim {

std::string encode_command(uint64_t op_id, std::string_view data) {
  std::string out;
  Writer w(out);
  w.fixed64(op_id);
  out.append(data);
  return out;
}

std::pair<uint64_t, std::string_view> decode_command(std::string_view payload) {
  if (payload.size() < 8) return {0, payload};
  Reader r(payload);
  return {r.fixed64("op id"), payload.substr(8)};
}

void AppliedLedger::record(std::string_view payload, uint64_t salt) {
  count_++;
  hash_ = hash_bytes(payload, hash_ ^ salt);
}

void AppliedLedger::write(Writer& w) const {
  w.u64(count_);
  w.u64(hash_);
  std::vector<uint64_t> ids(seen_.begin(), seen_.end());
  std::sort(ids.begin(), ids.end());  // deterministic bytes
  w.u64(ids.size());
  for (uint64_t id : ids) w.u64(id);
}

void AppliedLedger::read(Reader& r) {
  count_ = r.u64("count");
  hash_ = r.u64("hash");
  uint64_t n = r.count("ids", 1);
  seen_.clear();
  for (uint64_t i = 0; i < n; ++i) seen_.insert(r.u64("id"));
}

Applied LogApp::apply(uint64_t /*index*/, std::string_view payload) {
  auto [op, data] = decode_command(payload);
  if (op == 0 || !ledger_.first_time(op)) return {};  // a no-op, or a retry already applied
  ledger_.record(payload, ledger_.count() + 1);
  return {op, ""};
}

std::string LogApp::snapshot() {
  std::string out;
  Writer w(out);
  ledger_.write(w);
  return out;
}

void LogApp::restore(std::string_view payload) {
  Reader r(payload);
  ledger_.read(r);
}

std::string LogApp::read(std::string_view /*query*/) const {
  return std::to_string(ledger_.count());
}

}  // namespace etcdlab::sim
