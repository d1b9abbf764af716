// A txn's result in a simulated operation's output (kv_outputs.h: value kind 11).
#include <string>

#include "etcdlab/errors.h"
#include "kv_outputs.h"
#include "txn_codec.h"

namespace etcdlab::sim {
namespace {

enum class ResponseKind : uint64_t { kRange = 1, kPut = 2, kDelete = 3, kTxn = 4 };

}  // namespace

void encode_txn_result(Writer& w, const txn::TxnResult& t) {
  w.boolean(t.succeeded);
  w.u64(t.responses.size());
  for (const txn::ResponseOp& op : t.responses) {
    if (const auto* range = std::get_if<mvcc::RangeResult>(&op)) {
      w.u64(static_cast<uint64_t>(ResponseKind::kRange));
      w.u64(static_cast<uint64_t>(range->revision));
      w.u64(static_cast<uint64_t>(range->count));
      w.boolean(range->more);
      encode_kvs(w, range->kvs);
    } else if (const auto* put = std::get_if<mvcc::PutResult>(&op)) {
      w.u64(static_cast<uint64_t>(ResponseKind::kPut));
      w.u64(static_cast<uint64_t>(put->revision));
      w.boolean(put->prev_kv.has_value());
      if (put->prev_kv) encode_kv(w, *put->prev_kv);
    } else if (const auto* del = std::get_if<mvcc::DeleteResult>(&op)) {
      w.u64(static_cast<uint64_t>(ResponseKind::kDelete));
      w.u64(static_cast<uint64_t>(del->revision));
      w.u64(static_cast<uint64_t>(del->deleted));
      encode_kvs(w, del->prev_kvs);
    } else if (const auto* nested = std::get_if<std::shared_ptr<txn::TxnResult>>(&op)) {
      w.u64(static_cast<uint64_t>(ResponseKind::kTxn));
      encode_txn_result(w, **nested);
    }
  }
}

txn::TxnResult decode_txn_result(Reader& r, int depth) {
  if (depth > server::kMaxTxnDepth) throw DecodeError("txn result nested too deep", r.offset());
  txn::TxnResult t;
  t.succeeded = r.boolean("txn.succeeded");
  uint64_t n = r.count("txn.responses", 2);
  for (uint64_t i = 0; i < n; ++i) {
    size_t at = r.offset();
    switch (static_cast<ResponseKind>(r.u64("txn response kind"))) {
      case ResponseKind::kRange: {
        mvcc::RangeResult range;
        range.revision = static_cast<int64_t>(r.u64("range.revision"));
        range.count = static_cast<int64_t>(r.u64("range.count"));
        range.more = r.boolean("range.more");
        range.kvs = decode_kvs(r);
        t.responses.emplace_back(std::move(range));
        break;
      }
      case ResponseKind::kPut: {
        mvcc::PutResult put;
        put.revision = static_cast<int64_t>(r.u64("put.revision"));
        if (r.boolean("put.has_prev_kv")) put.prev_kv = decode_kv(r);
        t.responses.emplace_back(std::move(put));
        break;
      }
      case ResponseKind::kDelete: {
        mvcc::DeleteResult del;
        del.revision = static_cast<int64_t>(r.u64("delete.revision"));
        del.deleted = static_cast<int64_t>(r.u64("delete.deleted"));
        del.prev_kvs = decode_kvs(r);
        t.responses.emplace_back(std::move(del));
        break;
      }
      case ResponseKind::kTxn:
        t.responses.emplace_back(std::make_shared<txn::TxnResult>(decode_txn_result(r, depth + 1)));
        break;
      default:
        throw DecodeError("unknown txn response kind", at);
    }
  }
  return t;
}

}  // namespace etcdlab::sim
