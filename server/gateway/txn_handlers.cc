// /v3/kv/txn, as etcd 3.4's gateway reads and answers it
// (../shared/reference/etcd-v3-json-api.md §4.4).
#include "txn_handlers.h"

#include "../node/txn_rules.h"
#include "../rpc/rpcs.h"

namespace etcdlab::gateway {
namespace {

using txn::CompareResult;
using txn::CompareTarget;

// Deeper than this, validation would refuse the txn anyway (each level's budget shrinks); the
// bound keeps the recursion short on hostile input.
constexpr int kMaxDepth = 200;

// A JSON field a request set: present and not null (jsonpb skips a null).
bool has(const json::object& o, std::string_view name) {
  if (const json::value* v = find_field(o, name)) return !v->is_null();
  return false;
}

txn::Compare parse_compare(const json::object& o) {
  txn::Compare c;
  c.result = static_cast<CompareResult>(get_enum(o, "result", {"EQUAL", "GREATER", "LESS", "NOT_EQUAL"},
                                                 "etcdserverpb.Compare_CompareResult"));
  c.target = static_cast<CompareTarget>(get_enum(o, "target", {"VERSION", "CREATE", "MOD", "VALUE", "LEASE"},
                                                 "etcdserverpb.Compare_CompareTarget"));
  if (static_cast<int>(c.result) < 0 || static_cast<int>(c.result) > 3 ||
      static_cast<int>(c.target) < 0 || static_cast<int>(c.target) > 4) {
    // etcd stores any number and its compare then holds (an unknown operator) or reads a
    // zero (an unknown target); etcdlab refuses numbers it has no meaning for.
    throw GatewayError(GrpcCode::kInvalidArgument, "etcdlab: unknown compare result or target");
  }
  c.key = get_bytes(o, "key");
  c.range_end = get_bytes(o, "range_end");
  // The operand is a oneof: when a body gives several, jsonpb keeps the one of the highest
  // field number (version 4 < create_revision 5 < mod_revision 6 < value 7 < lease 8), seen
  // against etcd 3.4.
  if (has(o, "lease")) {
    c.operand = CompareTarget::kLease;
    c.number = get_int(o, "lease");
  } else if (has(o, "value")) {
    c.operand = CompareTarget::kValue;
    c.value = get_bytes(o, "value");
  } else if (has(o, "mod_revision")) {
    c.operand = CompareTarget::kMod;
    c.number = get_int(o, "mod_revision");
  } else if (has(o, "create_revision")) {
    c.operand = CompareTarget::kCreate;
    c.number = get_int(o, "create_revision");
  } else if (has(o, "version")) {
    c.operand = CompareTarget::kVersion;
    c.number = get_int(o, "version");
  }
  return c;
}

server::TxnRequest parse_txn_at(const json::object& body, int depth);

txn::RequestOp parse_op(const json::value& v, int depth) {
  if (!v.is_object()) {
    throw GatewayError(GrpcCode::kInvalidArgument,
                       "json: cannot unmarshal non-object into Go value of type etcdserverpb.RequestOp");
  }
  const json::object& o = v.as_object();
  // A oneof again: the highest field number given wins (range 1, put 2, delete 3, txn 4).
  if (const json::object* t = get_object(o, "request_txn")) {
    if (depth >= kMaxDepth) throw GatewayError(GrpcCode::kInvalidArgument, txn::message_of(txn::TxnError::Code::kTooManyOps));
    return std::make_shared<const txn::TxnRequest>(parse_txn_at(*t, depth + 1));
  }
  if (const json::object* d = get_object(o, "request_delete_range")) {
    txn::DeleteOp op;
    op.range = {get_bytes(*d, "key"), get_bytes(*d, "range_end")};
    op.prev_kv = get_bool(*d, "prev_kv");
    return op;
  }
  if (const json::object* p = get_object(o, "request_put")) {
    txn::PutOp op;
    op.key = get_bytes(*p, "key");
    op.value = get_bytes(*p, "value");
    op.lease = get_int(*p, "lease");
    op.options.prev_kv = get_bool(*p, "prev_kv");
    op.options.ignore_value = get_bool(*p, "ignore_value");
    op.options.ignore_lease = get_bool(*p, "ignore_lease");
    return op;
  }
  if (const json::object* r = get_object(o, "request_range")) {
    txn::RangeOp op;
    op.range = {get_bytes(*r, "key"), get_bytes(*r, "range_end")};
    op.options = range_options(*r);
    op.serializable = get_bool(*r, "serializable");
    return op;
  }
  return std::monostate{};  // {}: validation answers etcd's "key not found"
}

std::vector<txn::RequestOp> parse_ops(const json::object& body, std::string_view name, int depth) {
  std::vector<txn::RequestOp> ops;
  if (const json::array* list = get_array(body, name)) {
    ops.reserve(list->size());
    for (const json::value& v : *list) ops.push_back(parse_op(v, depth));
  }
  return ops;
}

server::TxnRequest parse_txn_at(const json::object& body, int depth) {
  server::TxnRequest t;
  if (const json::array* compares = get_array(body, "compare")) {
    for (const json::value& v : *compares) {
      if (!v.is_object()) {
        throw GatewayError(GrpcCode::kInvalidArgument,
                           "json: cannot unmarshal non-object into Go value of type etcdserverpb.Compare");
      }
      t.compare.push_back(parse_compare(v.as_object()));
    }
  }
  t.success = parse_ops(body, "success", depth);
  t.failure = parse_ops(body, "failure", depth);
  return t;
}

json::object sub_header(int64_t revision) {
  json::object h;
  put_int(h, "revision", revision);  // a sub-response's header carries the revision alone
  return h;
}

json::array responses_json(const txn::TxnResult& r) {
  json::array out;
  for (const txn::ResponseOp& op : r.responses) {
    json::object body;
    json::object wrapper;
    if (const auto* range = std::get_if<mvcc::RangeResult>(&op)) {
      body["header"] = sub_header(range->revision);
      add_range_fields(body, *range);
      wrapper["response_range"] = std::move(body);
    } else if (const auto* put = std::get_if<mvcc::PutResult>(&op)) {
      body["header"] = sub_header(put->revision);
      add_put_fields(body, *put);
      wrapper["response_put"] = std::move(body);
    } else if (const auto* del = std::get_if<mvcc::DeleteResult>(&op)) {
      body["header"] = sub_header(del->revision);
      add_delete_fields(body, *del);
      wrapper["response_delete_range"] = std::move(body);
    } else if (const auto* nested = std::get_if<std::shared_ptr<txn::TxnResult>>(&op)) {
      body["header"] = json::object{};  // etcd never fills a nested txn's header
      add_txn_fields(body, **nested);
      wrapper["response_txn"] = std::move(body);
    }
    out.push_back(std::move(wrapper));
  }
  return out;
}

}  // namespace

server::TxnRequest parse_txn(const json::object& body) { return parse_txn_at(body, 0); }

void add_txn_fields(json::object& out, const txn::TxnResult& r) {
  put_bool(out, "succeeded", r.succeeded);
  if (!r.responses.empty()) out["responses"] = responses_json(r);
}

boost::asio::awaitable<HttpResponse> txn(KvService& s, const json::object& body,
                                         const Credentials& who) {
  server::TxnRequest t = parse_txn(body);
  server::Result result = co_await rpc::txn(s, std::move(t), who);
  json::object out;
  out["header"] = header(s, result.revision);
  add_txn_fields(out, std::get<txn::TxnResult>(result.value));
  co_return ok(out);
}

}  // namespace etcdlab::gateway
