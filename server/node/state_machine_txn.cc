// KvStateMachine: what a txn changes besides the store (state_machine.h): whether a request
// adds data (refused under NOSPACE), and the put and delete counters.
#include "state_machine.h"

namespace etcdlab::server {

namespace {

bool has_put(const std::vector<txn::RequestOp>& ops) {
  for (const txn::RequestOp& op : ops) {
    if (std::holds_alternative<txn::PutOp>(op)) return true;
    const auto* nested = std::get_if<txn::NestedTxn>(&op);
    if (nested && *nested && (has_put((*nested)->success) || has_put((*nested)->failure))) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool KvStateMachine::adds_data(const Request& request) {
  if (const auto* t = std::get_if<TxnRequest>(&request)) {
    return has_put(t->success) || has_put(t->failure);  // etcd: a txn whose puts cost bytes
  }
  return std::holds_alternative<PutRequest>(request) ||
         std::holds_alternative<LeaseGrantRequest>(request);
}

// etcd_mvcc_put_total and etcd_mvcc_delete_total count a txn's puts and deletes one by one.
void KvStateMachine::count_writes(const txn::TxnResult& t) {
  for (const txn::ResponseOp& r : t.responses) {
    if (std::holds_alternative<mvcc::PutResult>(r)) ++puts_applied_;
    if (std::holds_alternative<mvcc::DeleteResult>(r)) ++deletes_applied_;
    if (const auto* nested = std::get_if<std::shared_ptr<txn::TxnResult>>(&r)) count_writes(**nested);
  }
}

}  // namespace etcdlab::server
