// concurrency.Mutex (clientv3 3.4's mutex.go), step by step over the gateway.
#include "recipes.h"

namespace etcdlab::cli {

namespace json = boost::json;

void Mutex::lock(const Link& link, Cancel& ctx) {
  // tryAcquire: queue this session's key unless it is there already (a session that holds the
  // lock keeps its place), and read the first key in line in the same round trip.
  key_ = recipe::lease_key(prefix_, session_.lease());
  json::object owner = recipe::get(recipe::first_created(prefix_));
  TxnResponse resp = link.txn(recipe::txn(recipe::create_revision_is(key_, 0),
                                          {recipe::put(key_, "", session_.lease()), owner},
                                          {recipe::get(recipe::range(key_)), owner}),
                              &ctx);
  revision_ = resp.header.revision;
  if (!resp.succeeded) revision_ = resp.responses.at(0).range.kvs.at(0).create_revision;
  const std::vector<KeyValue>& first = resp.responses.at(1).range.kvs;
  if (first.empty() || first[0].create_revision == revision_) {
    header_ = resp.header;
    return;
  }
  // Not first: wait until every key created before ours is gone.
  try {
    header_ = wait_deletes(link, ctx, prefix_, revision_ - 1);
  } catch (const EtcdError&) {
    release(link);  // (3.4 goes on to the read below, which then fails as well)
  }
  // Make sure the session has not expired meanwhile: our key must still be there.
  RangeResponse mine;
  try {
    mine = link.get(recipe::range(key_), &ctx);
  } catch (const EtcdError&) {
    release(link);
    throw;
  }
  if (mine.kvs.empty()) throw EtcdError("mutex: session is expired");
  header_ = mine.header;
}

void Mutex::release(const Link& link) {
  try {
    unlock(link, nullptr);
  } catch (const EtcdError&) {
    // (clientv3 ignores a failed clean-up: the key goes with the session's lease)
  }
}

void Mutex::unlock(const Link& link, Cancel* ctx) {
  link.call("/v3/kv/deleterange", recipe::range(key_), ctx);
  key_ = std::string(1, '\0');
  revision_ = -1;
}

}  // namespace etcdlab::cli
