#include "txn_codec.h"

#include <string>

#include "etcdlab/errors.h"

namespace etcdlab::server {
namespace {

enum class OpKind : uint64_t { kEmpty = 0, kRange = 1, kPut = 2, kDelete = 3, kTxn = 4 };

// Signed numbers as zig-zag varints: negative revisions and limits stay short.
uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t unzigzag(uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); }

int64_t signed64(Reader& r, const char* field) { return unzigzag(r.u64(field)); }

uint64_t bounded(Reader& r, const char* field, uint64_t max) {
  uint64_t v = r.u64(field);
  if (v > max) throw DecodeError(std::string("txn: ") + field + " out of range", r.offset());
  return v;
}

void encode_op(Writer& w, const txn::RequestOp& op) {
  if (const auto* range = std::get_if<txn::RangeOp>(&op)) {
    const mvcc::RangeOptions& o = range->options;
    w.u64(static_cast<uint64_t>(OpKind::kRange));
    w.bytes(range->range.key);
    w.bytes(range->range.range_end);
    for (int64_t v : {o.limit, o.revision, static_cast<int64_t>(o.sort_order),
                      static_cast<int64_t>(o.sort_target), o.min_mod_revision, o.max_mod_revision,
                      o.min_create_revision, o.max_create_revision}) {
      w.u64(zigzag(v));
    }
    w.boolean(o.keys_only);
    w.boolean(o.count_only);
    w.boolean(range->serializable);
  } else if (const auto* put = std::get_if<txn::PutOp>(&op)) {
    w.u64(static_cast<uint64_t>(OpKind::kPut));
    w.bytes(put->key);
    w.bytes(put->value);
    w.u64(zigzag(put->lease));
    w.boolean(put->options.prev_kv);
    w.boolean(put->options.ignore_value);
    w.boolean(put->options.ignore_lease);
  } else if (const auto* del = std::get_if<txn::DeleteOp>(&op)) {
    w.u64(static_cast<uint64_t>(OpKind::kDelete));
    w.bytes(del->range.key);
    w.bytes(del->range.range_end);
    w.boolean(del->prev_kv);
  } else if (const auto* nested = std::get_if<txn::NestedTxn>(&op); nested && *nested) {
    w.u64(static_cast<uint64_t>(OpKind::kTxn));
    encode_txn(w, **nested);
  } else {
    w.u64(static_cast<uint64_t>(OpKind::kEmpty));
  }
}

txn::RequestOp decode_op(Reader& r, int depth) {
  size_t at = r.offset();
  switch (static_cast<OpKind>(r.u64("txn op kind"))) {
    case OpKind::kEmpty:
      return std::monostate{};
    case OpKind::kRange: {
      txn::RangeOp op;
      op.range.key = r.bytes("txn range.key");
      op.range.range_end = r.bytes("txn range.range_end");
      mvcc::RangeOptions& o = op.options;
      o.limit = signed64(r, "txn range.limit");
      o.revision = signed64(r, "txn range.revision");
      int64_t order = signed64(r, "txn range.sort_order");
      int64_t target = signed64(r, "txn range.sort_target");
      if (order < 0 || order > 2 || target < 0 || target > 4) {
        throw DecodeError("txn: range sort option out of range", r.offset());
      }
      o.sort_order = static_cast<mvcc::SortOrder>(order);
      o.sort_target = static_cast<mvcc::SortTarget>(target);
      o.min_mod_revision = signed64(r, "txn range.min_mod_revision");
      o.max_mod_revision = signed64(r, "txn range.max_mod_revision");
      o.min_create_revision = signed64(r, "txn range.min_create_revision");
      o.max_create_revision = signed64(r, "txn range.max_create_revision");
      o.keys_only = r.boolean("txn range.keys_only");
      o.count_only = r.boolean("txn range.count_only");
      op.serializable = r.boolean("txn range.serializable");
      return op;
    }
    case OpKind::kPut: {
      txn::PutOp op;
      op.key = r.bytes("txn put.key");
      op.value = r.bytes("txn put.value");
      op.lease = signed64(r, "txn put.lease");
      op.options.prev_kv = r.boolean("txn put.prev_kv");
      op.options.ignore_value = r.boolean("txn put.ignore_value");
      op.options.ignore_lease = r.boolean("txn put.ignore_lease");
      return op;
    }
    case OpKind::kDelete: {
      txn::DeleteOp op;
      op.range.key = r.bytes("txn delete.key");
      op.range.range_end = r.bytes("txn delete.range_end");
      op.prev_kv = r.boolean("txn delete.prev_kv");
      return op;
    }
    case OpKind::kTxn:
      return std::make_shared<const txn::TxnRequest>(decode_txn(r, depth + 1));
  }
  throw DecodeError("txn: unknown op kind", at);
}

}  // namespace

void encode_txn(Writer& w, const txn::TxnRequest& t) {
  w.u64(t.compare.size());
  for (const txn::Compare& c : t.compare) {
    w.u64(static_cast<uint64_t>(c.result));
    w.u64(static_cast<uint64_t>(c.target));
    w.bytes(c.key);
    w.bytes(c.range_end);
    w.u64(c.operand ? static_cast<uint64_t>(*c.operand) + 1 : 0);
    w.u64(zigzag(c.number));
    w.bytes(c.value);
  }
  for (const auto* list : {&t.success, &t.failure}) {
    w.u64(list->size());
    for (const txn::RequestOp& op : *list) encode_op(w, op);
  }
}

txn::TxnRequest decode_txn(Reader& r, int depth) {
  if (depth > kMaxTxnDepth) throw DecodeError("txn: nested too deep", r.offset());
  txn::TxnRequest t;
  uint64_t compares = r.count("txn compares", 7);
  t.compare.reserve(compares);
  for (uint64_t i = 0; i < compares; ++i) {
    txn::Compare c;
    c.result = static_cast<txn::CompareResult>(bounded(r, "compare.result", 3));
    c.target = static_cast<txn::CompareTarget>(bounded(r, "compare.target", 4));
    c.key = r.bytes("compare.key");
    c.range_end = r.bytes("compare.range_end");
    if (uint64_t operand = bounded(r, "compare.operand", 5); operand != 0) {
      c.operand = static_cast<txn::CompareTarget>(operand - 1);
    }
    c.number = signed64(r, "compare.number");
    c.value = r.bytes("compare.value");
    t.compare.push_back(std::move(c));
  }
  for (auto* list : {&t.success, &t.failure}) {
    uint64_t n = r.count("txn ops", 1);
    list->reserve(n);
    for (uint64_t i = 0; i < n; ++i) list->push_back(decode_op(r, depth));
  }
  return t;
}

}  // namespace etcdlab::server
