#pragma once
// Lab 5: transactions (etcd's Txn) over lab 3's MVCC store. This header is the specification;
// the handout (labs/05-txn/README.md) walks through it part by part.
//
// A transaction is: a list of compares, a success list of operations and a failure list. If
// every compare holds (an empty list holds), the success list runs, otherwise the failure list;
// each operation is a range, a put, a delete, or a nested transaction (which has its own
// compares and lists). The chosen operations run ATOMICALLY AT ONE REVISION: one mvcc::Write,
// so a watcher sees one revision with all of their events, a reader sees all or none, and the
// revision moves by exactly one if anything was written (by none for a txn that only reads, or
// whose deletes found nothing). Later operations see earlier ones (a range after a put returns
// the new value).
//
// Three moments, three kinds of error, exactly as etcd 3.4:
//   validate()  before the request goes into the Raft log: its shape alone (TxnError, and the
//               store's "key is not provided" / "value is provided" / "lease is provided").
//               A refused request never reaches the log.
//   execute()   on every member, applying the log entry: first which branch each level takes
//               (every compare, the nested ones too, against the store BEFORE the txn), then a
//               check of the chosen operations against that same state (a put's lease must
//               exist, a put that keeps the value or lease needs the key, a range's revision
//               must be neither compacted nor in the future: every put is checked first, then
//               every range, as etcd's two passes); a failed check fails the whole txn
//               (MvccError / LeaseError) and writes nothing. Only then the operations run.
//   the node    decides the read-only path: a txn whose chosen operations can only be ranges
//               (is_read_only) needs no log entry; execute_read() serves it from the member's
//               store, after a ReadIndex round unless every range is serializable.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "etcdlab/mvcc/store.h"
#include "etcdlab/mvcc/types.h"

namespace etcdlab::txn {

// ---- the request (etcd's TxnRequest, Compare and RequestOp)

enum class CompareTarget { kVersion = 0, kCreate = 1, kMod = 2, kValue = 3, kLease = 4 };
enum class CompareResult { kEqual = 0, kGreater = 1, kLess = 2, kNotEqual = 3 };

// "target(key) result operand", e.g. mod("k") > 5: the key's mod_revision is greater than 5.
// With range_end (a KeyRange's meaning), every key of the range must satisfy it.
struct Compare {
  CompareResult result = CompareResult::kEqual;
  CompareTarget target = CompareTarget::kVersion;
  std::string key;
  std::string range_end;
  // The operand. etcd's request carries it as a oneof (version, create_revision, mod_revision,
  // value or lease): `operand` names the one the request set (nullopt: none), `number` holds
  // it for the four numbers, `value` for the bytes. A compare whose operand is not its own
  // target's field compares against 0 (or "" for kValue), as etcd's does.
  std::optional<CompareTarget> operand;
  int64_t number = 0;
  std::string value;

  // The usual way to build one: the operand of its own target.
  static Compare of(CompareTarget target, CompareResult result, std::string key, int64_t number) {
    Compare c;
    c.result = result;
    c.target = target;
    c.key = std::move(key);
    c.operand = target;
    c.number = number;
    return c;
  }
  static Compare of_value(CompareResult result, std::string key, std::string value) {
    Compare c = of(CompareTarget::kValue, result, std::move(key), 0);
    c.value = std::move(value);
    return c;
  }
};

struct RangeOp {
  mvcc::KeyRange range;
  mvcc::RangeOptions options;
  bool serializable = false;  // the client accepts a member's local state (no ReadIndex)
};
struct PutOp {
  std::string key;
  std::string value;
  int64_t lease = 0;
  mvcc::PutOptions options;
};
struct DeleteOp {
  mvcc::KeyRange range;
  bool prev_kv = false;
};

struct TxnRequest;
// A nested transaction. Requests are values that are never changed once built, so copies
// share it.
using NestedTxn = std::shared_ptr<const TxnRequest>;

// One operation: exactly one of these. std::monostate is an empty operation (a JSON `{}`),
// which validate() refuses.
using RequestOp = std::variant<std::monostate, RangeOp, PutOp, DeleteOp, NestedTxn>;

struct TxnRequest {
  std::vector<Compare> compare;
  std::vector<RequestOp> success;
  std::vector<RequestOp> failure;
};

// ---- the result (etcd's TxnResponse and ResponseOp)

struct TxnResult;
// The result of one operation, in the request's order: a range's, a put's, a delete's (each
// with the revision etcd's sub-response header carries: see execute()), or a nested txn's.
using ResponseOp =
    std::variant<mvcc::RangeResult, mvcc::PutResult, mvcc::DeleteResult, std::shared_ptr<TxnResult>>;

struct TxnResult {
  bool succeeded = false;  // the compares held: the success list ran
  std::vector<ResponseOp> responses;
  // The top-level txn: the store's revision after it. A nested txn: 0 (etcd's nested response
  // carries an empty header).
  int64_t revision = 0;
};

// ---- errors

// What validate() refuses besides the store's own errors, with etcd's messages (gRPC code 3,
// InvalidArgument; the server's business).
class TxnError : public std::runtime_error {
 public:
  enum class Code {
    kTooManyOps,    // "etcdserver: too many operations in txn request"
    kDuplicateKey,  // "etcdserver: duplicate key given in txn request"
    kEmptyOp,       // "etcdserver: key not found" (etcd's words for an operation with no request)
  };
  explicit TxnError(Code code);
  Code code() const { return code_; }

 private:
  Code code_;
};

// etcd's message for a code. (Here, not in the lab: the messages are the API, not the work.)
inline const char* message_of(TxnError::Code code) {
  switch (code) {
    case TxnError::Code::kTooManyOps:
      return "etcdserver: too many operations in txn request";
    case TxnError::Code::kDuplicateKey:
      return "etcdserver: duplicate key given in txn request";
    case TxnError::Code::kEmptyOp:
      return "etcdserver: key not found";
  }
  return "etcdserver: unknown txn error";
}

inline TxnError::TxnError(Code code) : std::runtime_error(message_of(code)), code_(code) {}

// ---- part A: compares and validation

// Whether one key's version satisfies the compare; `kv` is nullptr for a key that does not
// exist, which compares as all zeros — except that a kValue compare on a missing key is always
// false (even `value("k") != "x"`): etcd cannot tell a missing value from an empty one.
// Numbers compare as numbers, values bytewise.
bool compare_kv(const Compare& compare, const mvcc::KeyValue* kv);

// What compares read: the store as it is now (KvStore::range), or as a Write sees it.
using RangeReader =
    std::function<mvcc::RangeResult(const mvcc::KeyRange&, const mvcc::RangeOptions&)>;

// Whether the compare holds: every key of its range satisfies it; a range with no key behaves
// as one missing key.
bool compare_holds(const Compare& compare, const RangeReader& read);

// etcd 3.4's checks before a txn goes into the log (its gRPC layer's checkTxnRequest and
// checkIntervals), in this order; the first failure throws.
//   1. too many operations: the longest of the three lists is over max_ops (they are not
//      summed); a nested txn's lists may be as long as what its parent leaves, max_ops minus the
//      parent's longest list.
//   2. every compare has a key; every operation of both lists, in order, nested ones included:
//      an empty operation is kEmptyOp; a range, put or delete without a key is the store's
//      kEmptyKey; a put with ignore_value and a value is kValueProvided, with ignore_lease and
//      a lease kLeaseProvided; a nested txn is checked the same way (1 and 2) with its budget.
//   3. duplicate keys, in the success list and, separately, in the failure list: two puts of
//      one key, or a put of a key that a delete of the same list deletes, where "the list"
//      takes in the nested txns' lists: their puts and deletes count as the parent's (a nested
//      txn's success and failure lists may put the same key: only one of them runs). A delete
//      from a key to the end (range_end "\0") or of an empty range never conflicts (etcd's
//      interval tree does not see them).
void validate(const TxnRequest& request, size_t max_ops = 128);

// ---- part B: atomic execution at one revision

// Whether a lease exists (the lessor's; lab 4).
using LeaseExists = std::function<bool(int64_t lease)>;

// Applies the txn to the store (see the top of this file): the branches from the compares, the
// checks on the chosen operations, then the operations in one mvcc::Write. Returns the result;
// `events` (if not null) gets the write's events, which the caller hands to the lessor and the
// watchers. A failed check or operation throws mvcc::MvccError or LeaseMissing (below) and
// leaves the store unchanged.
//
// Sub-response revisions, as etcd's: a range's and a delete's result carry the store's
// revision as the write sees it at that point (the revision before the txn until something is
// written, then that revision + 1); a put's the revision + 1.
TxnResult execute(mvcc::KvStore& store, const TxnRequest& request, const LeaseExists& lease_exists,
                  std::vector<mvcc::Event>* events = nullptr);

// A put named a lease that does not exist: the txn failed as etcd's "requested lease not
// found" (the node reports it as the lessor's error).
class LeaseMissing : public std::runtime_error {
 public:
  explicit LeaseMissing(int64_t lease)
      : std::runtime_error("etcdserver: requested lease not found"), lease_(lease) {}
  int64_t lease() const { return lease_; }

 private:
  int64_t lease_;
};

// ---- part C: the read-only path

// Whether every operation of both lists, nested ones included, is a range (the chosen branch
// is not known before the log orders the txn, so both count). Such a txn writes nothing
// whichever branch runs, and needs no log entry.
bool is_read_only(const TxnRequest& request);
// Whether, besides, every range is serializable: the member may answer from its own state.
bool is_serializable(const TxnRequest& request);
// Serves a read-only txn from the store as it is (no Write: the revision does not move). The
// same checks and errors as execute() for ranges. Precondition: is_read_only(request).
TxnResult execute_read(const mvcc::KvStore& store, const TxnRequest& request);

}  // namespace etcdlab::txn
