#pragma once
// A txn request in a log entry (part of requests.cc's format): the codec of etcdlab/codec.h,
//
//   txn      u64 compare count, each compare; u64 success count, each op; failure likewise
//   compare  u64 result, u64 target, bytes key, bytes range_end, u64 operand (0: none, else
//            the target + 1 whose field was set), u64 number (zig-zag), bytes value
//   op       u64 kind (0 empty, 1 range, 2 put, 3 delete, 4 txn), then its fields:
//            range   bytes key, bytes range_end, then zig-zag u64s limit, revision, sort order,
//                    sort target, min/max mod revision, min/max create revision, then bools
//                    keys_only, count_only, serializable
//            put     bytes key, bytes value, u64 lease (zig-zag), bools prev_kv, ignore_value,
//                    ignore_lease
//            delete  bytes key, bytes range_end, bool prev_kv
//            txn     a txn, nested
//
// Entries come from peers: decoding refuses unknown enum values and nesting deeper than
// kMaxTxnDepth (a bound on the decoder's stack, far above what validation lets through).
#include "etcdlab/codec.h"
#include "etcdlab/txn/txn.h"

namespace etcdlab::server {

inline constexpr int kMaxTxnDepth = 200;

void encode_txn(Writer& w, const txn::TxnRequest& t);
txn::TxnRequest decode_txn(Reader& r, int depth = 0);  // throws DecodeError

}  // namespace etcdlab::server
