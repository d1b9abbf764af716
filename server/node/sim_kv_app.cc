#include "sim_kv_app.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "etcdlab/codec.h"
#include "etcdlab/errors.h"
#include "etcdlab/sim/invariants.h"
#include "state_machine.h"

namespace etcdlab::server {
namespace {

void encode_kv(Writer& w, const mvcc::KeyValue& kv) {
  w.bytes(kv.key);
  w.u64(static_cast<uint64_t>(kv.create_revision));
  w.u64(static_cast<uint64_t>(kv.mod_revision));
  w.u64(static_cast<uint64_t>(kv.version));
  w.bytes(kv.value);
  w.u64(static_cast<uint64_t>(kv.lease));
}

mvcc::KeyValue decode_kv(Reader& r) {
  mvcc::KeyValue kv;
  kv.key = r.bytes("kv.key");
  kv.create_revision = static_cast<int64_t>(r.u64("kv.create_revision"));
  kv.mod_revision = static_cast<int64_t>(r.u64("kv.mod_revision"));
  kv.version = static_cast<int64_t>(r.u64("kv.version"));
  kv.value = r.bytes("kv.value");
  kv.lease = static_cast<int64_t>(r.u64("kv.lease"));
  return kv;
}

void encode_error(Writer& w, const std::optional<mvcc::MvccError::Code>& e) {
  w.u64(e ? static_cast<uint64_t>(*e) + 1 : 0);
}

std::optional<mvcc::MvccError::Code> decode_error(Reader& r) {
  uint64_t v = r.u64("error");
  if (v == 0) return std::nullopt;
  return static_cast<mvcc::MvccError::Code>(v - 1);
}

class SimKvApp final : public sim::SimApp {
 public:
  SimKvApp() : sm_(mvcc::KvStore::open({}), {}) {}

  std::string command(uint64_t op, std::string_view data) const override {
    try {
      auto [unused, request] = decode_request(data);
      (void)unused;
      return encode_request(op, request);
    } catch (const DecodeError& e) {
      throw std::invalid_argument(std::string("not a KV request: ") + e.what());
    }
  }

  sim::Applied apply(uint64_t index, std::string_view payload) override {
    if (payload.empty()) {
      sm_.apply({Entry{index, 0, EntryType::kNormal, ""}}, nullptr);  // moves the index
      return {};
    }
    auto [id, request] = decode_request(payload);
    if (!ledger_.first_time(id)) return {};  // a retry of a write already applied
    auto applied = sm_.apply({Entry{index, 0, EntryType::kNormal, std::string(payload)}}, nullptr);
    while (sm_.compaction_pending() && !sm_.compaction_step()) {
    }
    if (applied.empty()) return {};
    ledger_.record(payload, static_cast<uint64_t>(applied[0].result.revision));
    return {id, encode_write_output(applied[0].result)};
  }

  std::string snapshot() override {
    std::string out;
    Writer w(out);
    ledger_.write(w);
    sm_.write_snapshot([&](std::string_view chunk) { out.append(chunk); });
    return out;
  }

  void restore(std::string_view payload) override {
    Reader r(payload);
    ledger_.read(r);
    std::string_view node_snapshot = payload.substr(r.offset());
    sm_.restore([&](uint64_t offset, uint64_t length) {
      if (offset >= node_snapshot.size()) return std::string();
      return std::string(node_snapshot.substr(offset, length));
    });
  }

  std::string read(std::string_view query) const override {
    KvReadOutput out;
    try {
      KvQuery q = decode_query(query);
      out.result = sm_.store().range(q.range, q.options);
    } catch (const mvcc::MvccError& e) {
      out.error = e.code();
      out.result.revision = sm_.store().revision();
    }
    return encode_read_output(out);
  }

  uint64_t count() const override { return ledger_.count(); }
  uint64_t hash() const override { return ledger_.hash(); }

 private:
  KvStateMachine sm_;
  sim::AppliedLedger ledger_;
};

}  // namespace

std::string encode_query(const KvQuery& q) {
  std::string out;
  Writer w(out);
  w.bytes(q.range.key);
  w.bytes(q.range.range_end);
  w.u64(static_cast<uint64_t>(q.options.limit));
  w.u64(static_cast<uint64_t>(q.options.revision));
  w.u64(static_cast<uint64_t>(q.options.sort_order));
  w.u64(static_cast<uint64_t>(q.options.sort_target));
  w.boolean(q.options.keys_only);
  w.boolean(q.options.count_only);
  return out;
}

KvQuery decode_query(std::string_view data) {
  Reader r(data);
  KvQuery q;
  q.range.key = r.bytes("query.key");
  q.range.range_end = r.bytes("query.range_end");
  q.options.limit = static_cast<int64_t>(r.u64("query.limit"));
  q.options.revision = static_cast<int64_t>(r.u64("query.revision"));
  q.options.sort_order = static_cast<mvcc::SortOrder>(r.u64("query.sort_order"));
  q.options.sort_target = static_cast<mvcc::SortTarget>(r.u64("query.sort_target"));
  q.options.keys_only = r.boolean("query.keys_only");
  q.options.count_only = r.boolean("query.count_only");
  return q;
}

std::string encode_write_output(const Result& result) {
  std::string out;
  Writer w(out);
  w.u64(static_cast<uint64_t>(result.revision));
  encode_error(w, result.store_error);
  w.u64(static_cast<uint64_t>(result.error));
  if (const auto* put = std::get_if<mvcc::PutResult>(&result.value)) {
    w.u64(1);
    w.boolean(put->prev_kv.has_value());
    if (put->prev_kv) encode_kv(w, *put->prev_kv);
  } else if (const auto* del = std::get_if<mvcc::DeleteResult>(&result.value)) {
    w.u64(2);
    w.u64(static_cast<uint64_t>(del->deleted));
    w.u64(del->prev_kvs.size());
    for (const auto& kv : del->prev_kvs) encode_kv(w, kv);
  } else if (std::holds_alternative<CompactionResult>(result.value)) {
    w.u64(3);
  } else {
    w.u64(0);
  }
  return out;
}

Result decode_write_output(std::string_view data) {
  Reader r(data);
  Result result;
  result.revision = static_cast<int64_t>(r.u64("revision"));
  result.store_error = decode_error(r);
  result.error = static_cast<RequestError>(r.u64("request error"));
  switch (r.u64("kind")) {
    case 1: {
      mvcc::PutResult put;
      put.revision = result.revision;
      if (r.boolean("has prev_kv")) put.prev_kv = decode_kv(r);
      result.value = std::move(put);
      break;
    }
    case 2: {
      mvcc::DeleteResult del;
      del.revision = result.revision;
      del.deleted = static_cast<int64_t>(r.u64("deleted"));
      uint64_t n = r.count("prev_kvs", 1);
      for (uint64_t i = 0; i < n; ++i) del.prev_kvs.push_back(decode_kv(r));
      result.value = std::move(del);
      break;
    }
    case 3:
      result.value = CompactionResult{};
      break;
    default:
      break;
  }
  return result;
}

std::string encode_read_output(const KvReadOutput& o) {
  std::string out;
  Writer w(out);
  encode_error(w, o.error);
  w.u64(static_cast<uint64_t>(o.result.revision));
  w.u64(static_cast<uint64_t>(o.result.count));
  w.boolean(o.result.more);
  w.u64(o.result.kvs.size());
  for (const auto& kv : o.result.kvs) encode_kv(w, kv);
  return out;
}

KvReadOutput decode_read_output(std::string_view data) {
  Reader r(data);
  KvReadOutput o;
  o.error = decode_error(r);
  o.result.revision = static_cast<int64_t>(r.u64("revision"));
  o.result.count = static_cast<int64_t>(r.u64("count"));
  o.result.more = r.boolean("more");
  uint64_t n = r.count("kvs", 1);
  for (uint64_t i = 0; i < n; ++i) o.result.kvs.push_back(decode_kv(r));
  return o;
}

std::unique_ptr<sim::SimApp> make_sim_kv_app() {
  return std::make_unique<SimKvApp>();
}

}  // namespace etcdlab::server
