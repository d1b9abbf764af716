#include "request_log.h"

#include <fmt/format.h>

#include "kv_node.h"

namespace etcdlab::server {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};

// Sizes only: a key may itself be sensitive (a user name in a path), so the view shows its
// length, never its bytes.
std::string key_text(const char* what, const std::string& key, const std::string& range_end) {
  return fmt::format("{}, key {} B{}", what, key.size(), range_end.empty() ? "" : ", a range");
}

}  // namespace

RequestNote describe(const Request& request) {
  return std::visit(
      Overloaded{
          [](const PutRequest& p) {
            return RequestNote{
                "put", fmt::format("put, key {} B{}", p.key.size(), p.lease ? ", a lease" : "")};
          },
          [](const DeleteRangeRequest& d) {
            return RequestNote{"delete", key_text("delete", d.range.key, d.range.range_end)};
          },
          [](const CompactionRequest& c) {
            return RequestNote{"compact", fmt::format("compact to revision {}", c.revision)};
          },
          [](const AttributesRequest&) {
            return RequestNote{"publish", "publish client URLs"};
          },
          [](const AlarmRequest& a) {
            return RequestNote{"alarm", fmt::format("alarm {} {}", a.activate ? "raise" : "clear",
                                                    to_string(a.alarm))};
          },
          [](const LeaseGrantRequest& g) {
            return RequestNote{"lease_grant", fmt::format("lease grant, ttl {} s", g.ttl)};
          },
          [](const LeaseRevokeRequest&) {
            return RequestNote{"lease_revoke", "lease revoke"};
          },
          [](const TxnRequest& t) { return describe_txn(t); },
          // Auth admin requests: their kind alone (no user or role names).
          [](const AuthEnableRequest&) {
            return RequestNote{"auth", "auth enable"};
          },
          [](const AuthDisableRequest&) {
            return RequestNote{"auth", "auth disable"};
          },
          [](const UserAddRequest&) {
            return RequestNote{"auth", "user add"};
          },
          [](const UserDeleteRequest&) {
            return RequestNote{"auth", "user delete"};
          },
          [](const UserChangePasswordRequest&) {
            return RequestNote{"auth", "user passwd"};
          },
          [](const UserGrantRoleRequest&) {
            return RequestNote{"auth", "user grant role"};
          },
          [](const UserRevokeRoleRequest&) {
            return RequestNote{"auth", "user revoke role"};
          },
          [](const RoleAddRequest&) {
            return RequestNote{"auth", "role add"};
          },
          [](const RoleDeleteRequest&) {
            return RequestNote{"auth", "role delete"};
          },
          [](const RoleGrantPermissionRequest&) {
            return RequestNote{"auth", "role grant permission"};
          },
          [](const RoleRevokePermissionRequest&) {
            return RequestNote{"auth", "role revoke permission"};
          },
          [](const AuthenticateRequest&) {
            return RequestNote{"authenticate", "authenticate"};
          },
      },
      request);
}

RequestNote describe_txn(const TxnRequest& t) {
  return RequestNote{"txn", fmt::format("txn, {} compares, {} then, {} else", t.compare.size(),
                                        t.success.size(), t.failure.size())};
}

RequestNote describe(const MemberChange& change) {
  using K = MemberChange::Kind;
  const char* what = change.kind == K::kAdd ? (change.learner ? "member add learner" : "member add")
                     : change.kind == K::kRemove ? "member remove"
                     : change.kind == K::kUpdate ? "member update"
                                                 : "member promote";
  return RequestNote{"member", what};
}

std::string outcome_of(const Result& result) {
  // In the order the doors check them (rpc/errors.cc): an auth refusal did nothing else.
  if (result.auth_error) return result.auth_error->what();
  if (result.store_error) return mvcc::message_of(*result.store_error);
  if (result.lease_error) return lease::message_of(*result.lease_error);
  if (result.error == RequestError::kNoSpace) return rpctypes::kNoSpace;
  return "ok";
}

void RequestLog::called(uint64_t id, RequestNote note, int64_t now_ms) {
  calls_[id] = Call{std::move(note), now_ms};
  while (calls_.size() > kMaxInFlight) calls_.erase(calls_.begin());
}

void RequestLog::completed(const Completion& c, int64_t now_ms, int64_t revision) {
  auto it = calls_.find(c.id);
  if (it == calls_.end()) return;  // the node's own request, or dropped
  RequestRecord r;
  r.id = c.id;
  r.kind = std::move(it->second.note.kind);
  r.text = std::move(it->second.note.text);
  r.call_ms = it->second.call_ms;
  r.return_ms = now_ms;
  calls_.erase(it);
  if (c.error) {
    r.outcome = c.error->what();
  } else if (c.kind == Completion::Kind::kReadReady) {
    r.outcome = "ok";  // the driver serves the read now, from the store as it is
    r.revision = revision;
  } else {
    r.outcome = outcome_of(c.result);
    r.revision = c.result.revision;
  }
  recent_.push_back(std::move(r));
  while (recent_.size() > kViewRecentRequests) recent_.pop_front();
}

void RequestLog::forgotten(uint64_t id) {
  calls_.erase(id);
}

std::vector<RequestRecord> RequestLog::recent() const {
  return {recent_.begin(), recent_.end()};
}

}  // namespace etcdlab::server
