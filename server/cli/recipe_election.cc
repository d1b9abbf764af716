// concurrency.Election (clientv3 3.4's election.go), step by step over the gateway.
#include "../gateway/json_fields.h"
#include "context.h"
#include "recipes.h"

namespace etcdlab::cli {

namespace json = boost::json;

void Election::campaign(const Link& link, Cancel& ctx, const std::string& value) {
  std::string key = recipe::lease_key(prefix_, session_.lease());
  TxnResponse resp = link.txn(
      recipe::txn(recipe::create_revision_is(key, 0), {recipe::put(key, value, session_.lease())},
                  {recipe::get(recipe::range(key))}),
      &ctx);
  leader_key_ = key;
  leader_revision_ = resp.header.revision;
  leading_ = true;
  if (!resp.succeeded) {
    // This session campaigned before: keep its place, with the new value.
    const KeyValue& kv = resp.responses.at(0).range.kvs.at(0);
    leader_revision_ = kv.create_revision;
    if (kv.value != value) {
      try {
        proclaim(link, &ctx, value);
      } catch (const EtcdError&) {
        quietly_resign(link, &ctx);
        throw;
      }
    }
  }
  try {
    wait_deletes(link, ctx, prefix_, leader_revision_ - 1);
  } catch (const EtcdError&) {
    if (ctx.cancelled()) {
      quietly_resign(link, nullptr);  // the wait was given up: leave the line
    } else {
      leading_ = false;
    }
    throw;
  }
}

void Election::proclaim(const Link& link, Cancel* ctx, const std::string& value) {
  if (!leading_) throw EtcdError("election: not leader");
  TxnResponse resp = link.txn(recipe::txn(recipe::create_revision_is(leader_key_, leader_revision_),
                                          {recipe::put(leader_key_, value, session_.lease())}),
                              ctx);
  if (!resp.succeeded) {
    leader_key_.clear();
    throw EtcdError("election: not leader");
  }
}

void Election::quietly_resign(const Link& link, Cancel* ctx) {
  try {
    resign(link, ctx);
  } catch (const EtcdError&) {
    // (clientv3 ignores a failed clean-up: the key goes with the session's lease)
  }
}

void Election::resign(const Link& link, Cancel* ctx) {
  if (!leading_) return;
  std::string key = leader_key_;
  int64_t revision = leader_revision_;
  leader_key_.clear();
  leading_ = false;
  link.txn(recipe::txn(recipe::create_revision_is(key, revision), {recipe::del(key)}), ctx);
}

void Election::observe(const Link& link, Cancel& ctx,
                       const std::function<void(const RangeResponse&)>& on_leader) {
  using recipe::WatchEnd;
  for (;;) {
    RangeResponse resp;
    try {
      resp = link.get(recipe::first_created(prefix_), &ctx);
    } catch (const EtcdError&) {
      return;
    }
    ResponseHeader header;
    KeyValue kv;
    if (resp.kvs.empty()) {
      // No leader: wait for the first key put under the prefix (a delete would make it spin).
      json::object create = recipe::range(prefix_);
      create["range_end"] = gateway::base64_encode(prefix_end(prefix_));
      create["start_revision"] = std::to_string(resp.header.revision);
      auto out = recipe::watch(link, ctx, create, [&](const WatchResponse& r) {
        for (const WatchEvent& e : r.events) {
          if (e.type == WatchEvent::Type::kPut) {
            header = r.header;
            kv = e.kv;
            header.revision = kv.mod_revision;  // the put's, if the response holds several
            return true;
          }
        }
        return false;
      });
      if (out.end != WatchEnd::kDone) return;
    } else {
      header = resp.header;
      kv = resp.kvs[0];
    }
    if (ctx.cancelled()) return;
    RangeResponse leader;
    leader.header = header;
    leader.kvs = {kv};
    on_leader(leader);

    // Then each new value of the leader's key, until it is deleted.
    json::object create = recipe::range(kv.key);
    create["start_revision"] = std::to_string(header.revision + 1);
    auto out = recipe::watch(link, ctx, create, [&](const WatchResponse& r) {
      for (const WatchEvent& e : r.events) {
        if (e.type == WatchEvent::Type::kDelete) return true;
        resp.header = r.header;
        resp.kvs = {e.kv};
        if (ctx.cancelled()) return true;
        on_leader(resp);
      }
      return false;
    });
    if (out.end != WatchEnd::kDone || ctx.cancelled()) return;
  }
}

}  // namespace etcdlab::cli
