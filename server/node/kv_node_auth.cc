// KvNode: auth on this member — resolving credentials, stamping writes, the checks of what is
// served without the log, tokens, the throttle, and the auth reads. What is decided at apply
// (every member alike) is in state_machine_auth.cc.
#include <fmt/format.h>

#include <map>

#include "kv_node.h"
#include "kv_node_impl.h"

namespace etcdlab::server {
namespace {

using namespace rpctypes;

// gRPC's names of its codes, as etcd's watch refusals spell them in cancel_reason.
const char* grpc_code_name(GrpcCode code) {
  switch (code) {
    case GrpcCode::kInvalidArgument: return "InvalidArgument";
    case GrpcCode::kPermissionDenied: return "PermissionDenied";
    case GrpcCode::kUnauthenticated: return "Unauthenticated";
    case GrpcCode::kFailedPrecondition: return "FailedPrecondition";
    default: return "Unknown";
  }
}

// etcd's maintenance server and alarm pass the auth package's errors through untranslated.
ApiError untranslated(const ApiError& e) {
  std::string_view text = e.what();
  if (text == kUserEmpty) return auth_error(kAuthPkgUserEmpty);
  if (text == kInvalidAuthToken) return auth_error(kAuthPkgInvalidToken);
  return auth_error(kAuthPkgPermissionDenied);
}

}  // namespace

std::optional<auth::AuthInfo> KvNode::Impl::resolve(const Credentials& who) {
  const auth::AuthStore& a = sm.auth();
  if (who.token) {
    // etcd looks every token up, whether auth is on or not; with auth off there is none (a
    // disable clears them), so any token is refused.
    std::optional<std::string> user;
    if (a.enabled()) user = tokens.lookup(*who.token, ticks);
    if (!user) throw auth_error(kInvalidAuthToken);
    return auth::AuthInfo{*user, a.revision()};
  }
  if (!a.enabled()) return std::nullopt;
  if (who.cert_user && !who.cert_user->empty()) return auth::AuthInfo{*who.cert_user, a.revision()};
  return std::nullopt;
}

std::optional<ApiError> KvNode::Impl::check_reads(const TxnRequest& t,
                                                  const std::optional<auth::AuthInfo>& who) {
  std::optional<auth::AuthStamp> now;
  if (who) now = auth::AuthStamp{who->user, sm.auth().revision()};  // (served now: not stale)
  return sm.check_write(t, now);
}

namespace {

// The Raft index a simple token names ("<prefix>.<index>"), if it has the form.
std::optional<uint64_t> token_index(const std::string& token) {
  size_t dot = token.rfind('.');
  if (dot == std::string::npos || dot + 1 == token.size() || token.size() - dot > 21) {
    return std::nullopt;
  }
  uint64_t index = 0;
  for (size_t i = dot + 1; i < token.size(); ++i) {
    if (token[i] < '0' || token[i] > '9') return std::nullopt;
    index = index * 10 + static_cast<uint64_t>(token[i] - '0');
  }
  return index;
}

constexpr size_t kMaxHeldForToken = 1024;

}  // namespace

bool KvNode::Impl::hold_for_token(uint64_t id, Request& request, const Credentials& who,
                                  bool is_txn) {
  // etcd 3.4 waits, without a deadline, for the index a token names before it looks the token
  // up (captured: a made-up token naming a future index hangs). Here the wait ends at the
  // request's deadline, and only while auth is on and few requests wait.
  if (!who.token || !sm.auth().enabled() || held_for_token.size() >= kMaxHeldForToken) {
    return false;
  }
  std::optional<uint64_t> index = token_index(*who.token);
  if (!index || *index <= applied) return false;
  held_for_token[id] = HeldForToken{std::move(request), who, is_txn, *index, ticks + timeout_ticks};
  return true;
}

void KvNode::Impl::release_held() {
  std::vector<uint64_t> ready;
  for (const auto& [id, h] : held_for_token) {
    if (h.index <= applied || h.deadline <= ticks || !sm.auth().enabled()) ready.push_back(id);
  }
  for (uint64_t id : ready) {
    HeldForToken h = std::move(held_for_token.at(id));
    held_for_token.erase(id);
    std::optional<auth::AuthInfo> info;
    try {
      info = resolve(h.who);  // (past the deadline, still unknown: invalid auth token)
    } catch (const ApiError& e) {
      fail_now(id, e);
      continue;
    }
    if (h.is_txn) {
      txn_as(std::get<TxnRequest>(std::move(h.request)), std::move(info), /*check=*/true, id);
    } else {
      submit_stamped(std::move(h.request), std::move(info), id);
    }
  }
}

uint64_t KvNode::submit(Request request, const Credentials& who) {
  auto& r = *impl_;
  auto note = r.note_if_viewed([&] { return describe(request); });
  if (std::holds_alternative<AuthenticateRequest>(request)) {
    // (The rpc checked the password.)
    return r.noted(r.submit_stamped(std::move(request), std::nullopt), std::move(note));
  }
  std::optional<auth::AuthInfo> info;
  try {
    info = r.resolve(who);
  } catch (const ApiError& e) {
    uint64_t id = r.noted(r.new_id(), std::move(note));
    if (!r.hold_for_token(id, request, who, /*is_txn=*/false)) r.fail_now(id, e);
    return id;
  }
  return r.noted(r.submit_stamped(std::move(request), std::move(info)), std::move(note));
}

uint64_t KvNode::txn(TxnRequest request, const Credentials& who) {
  auto& r = *impl_;
  auto note = r.note_if_viewed([&] { return describe_txn(request); });
  std::optional<auth::AuthInfo> info;
  try {
    info = r.resolve(who);
  } catch (const ApiError& e) {
    uint64_t id = r.noted(r.new_id(), std::move(note));
    Request held = std::move(request);
    if (!r.hold_for_token(id, held, who, /*is_txn=*/true)) r.fail_now(id, e);
    return id;
  }
  return r.noted(r.txn_as(std::move(request), std::move(info), /*check=*/true), std::move(note));
}

std::optional<ApiError> KvNode::authorize(const Credentials& who, Access access,
                                          const mvcc::KeyRange& keys) {
  auto& r = *impl_;
  const auth::AuthStore& a = r.sm.auth();
  std::optional<auth::AuthInfo> info;
  try {
    info = r.resolve(who);
  } catch (const ApiError& e) {
    if (access == Access::kMaintenance || access == Access::kAlarm) return untranslated(e);
    return e;
  }
  switch (access) {
    case Access::kRange: {
      if (!a.enabled()) return std::nullopt;
      if (!info) return auth_error(kUserEmpty);
      if (!a.permitted(info->user, keys.key, keys.range_end, auth::PermType::kRead)) {
        return auth_error(kPermissionDenied);
      }
      return std::nullopt;
    }
    case Access::kAdmin:
      return a.check_admin(info);
    case Access::kMaintenance:
      if (auto refused = a.check_admin(info)) return untranslated(*refused);
      return std::nullopt;
    case Access::kAlarm:
    case Access::kTokenOnly:
      return std::nullopt;  // (a bad token was refused above)
  }
  return std::nullopt;
}

void KvNode::Impl::refuse_watch(watch::StreamId stream, const ApiError& error) {
  watch::WatchResponse refusal;
  refusal.watch_id = watch::kNoWatchId;
  refusal.revision = sm.store().revision();
  refusal.created = true;
  refusal.canceled = true;
  refusal.cancel_reason =
      fmt::format("rpc error: code = {} desc = {}", grpc_code_name(error.code()), error.what());
  // A client that sends creates and never reads would otherwise grow this without limit
  // (security review, finding 5: anonymous callers, about 250 bytes each). Bounded as the hub
  // bounds a stream (stream_capacity, etcd's 128 responses); past it a refusal is dropped: it
  // is for a client that has not read the last 128, and it created nothing. (etcd stops
  // reading such a stream instead; the doors here keep reading.)
  auto& queued = watch_refusals[stream];
  if (queued.size() >= options.watch.stream_capacity) {
    ++watch_refusals_dropped;
    return;
  }
  queued.push_back(std::move(refusal));
}

watch::WatchId KvNode::watch(watch::StreamId stream, const watch::WatchRequest& request,
                             const Credentials& who) {
  auto& r = *impl_;
  if (auto refused = authorize(who, Access::kRange, request.range)) {
    r.refuse_watch(stream, *refused);
    return watch::kNoWatchId;
  }
  return watch(stream, request);
}

// The cost most stored bcrypt hashes have ("$2b$10$...": 10), ties to the higher; 0 if none.
// Worked out again only when the auth revision moved.
int KvNode::Impl::common_bcrypt_cost() {
  const auth::AuthStore& a = sm.auth();
  if (bcrypt_cost_revision == a.revision()) return bcrypt_cost;
  std::map<int, size_t> seen;
  for (const auto& [name, user] : a.state().users) {
    const std::string& h = user.hash;
    // "$2" + variant letter + "$" + two digits + "$"
    if (h.size() < 7 || !h.starts_with("$2") || h[3] != '$' || h[6] != '$') continue;
    if (h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9') continue;
    ++seen[(h[4] - '0') * 10 + (h[5] - '0')];
  }
  bcrypt_cost = 0;
  size_t most = 0;
  for (const auto& [cost, n] : seen) {
    if (cost >= 4 && cost <= 31 && n >= most) {
      most = n;
      bcrypt_cost = cost;
    }
  }
  bcrypt_cost_revision = a.revision();
  return bcrypt_cost;
}

AuthLookup KvNode::auth_lookup(const std::string& name) {
  auto& r = *impl_;
  const auth::AuthStore& a = r.sm.auth();
  AuthLookup out;
  out.enabled = a.enabled();
  out.revision = a.revision();
  const auth::User* u = a.user(name);
  if (u != nullptr) out.hash = u->hash;
  if (u == nullptr || !u->hash.starts_with("$2")) out.dummy_cost = r.common_bcrypt_cost();
  out.delay_ms = r.throttle.delay_ms(name, r.ticks);
  return out;
}

void KvNode::auth_failed(const std::string& name) { impl_->throttle.failed(name, impl_->ticks); }

void KvNode::Impl::on_auth_applied(const AppliedRequest& a) {
  if (!a.result.ok()) return;
  if (const auto* authenticate = std::get_if<AuthenticateRequest>(&a.request)) {
    const auto& token = std::get<AuthResult>(a.result.value).token;
    tokens.assign(token, authenticate->name, ticks);
    throttle.succeeded(authenticate->name);
  } else if (const auto* del = std::get_if<UserDeleteRequest>(&a.request)) {
    tokens.invalidate_user(del->name);
  } else if (const auto* changed = std::get_if<UserChangePasswordRequest>(&a.request)) {
    tokens.invalidate_user(changed->name);
  } else if (std::holds_alternative<AuthDisableRequest>(a.request)) {
    tokens.clear();
  }
}

// ---- auth reads (etcd 3.4's authApplierV3 UserGet/RoleGet and the admin-only lists)

auth::User KvNode::user_get(const Credentials& who, const std::string& name) {
  auto& r = *impl_;
  const auth::AuthStore& a = r.sm.auth();
  std::optional<auth::AuthInfo> info = r.resolve(who);  // throws
  if (auto refused = a.check_admin(info); refused && !(info && info->user == name)) throw *refused;
  const auth::User* u = a.user(name);
  if (u == nullptr) throw auth_error(kUserNotFound);
  auth::User out = *u;
  out.hash.clear();
  return out;
}

std::vector<std::string> KvNode::user_list(const Credentials& who) {
  auto& r = *impl_;
  if (auto refused = r.sm.auth().check_admin(r.resolve(who))) throw *refused;
  return r.sm.auth().user_names();
}

auth::Role KvNode::role_get(const Credentials& who, const std::string& name) {
  auto& r = *impl_;
  const auth::AuthStore& a = r.sm.auth();
  std::optional<auth::AuthInfo> info = r.resolve(who);
  if (auto refused = a.check_admin(info); refused && !(info && a.has_role(info->user, name))) {
    throw *refused;
  }
  const auth::Role* role = a.role(name);
  if (role == nullptr) throw auth_error(kRoleNotFound);
  return *role;
}

std::vector<std::string> KvNode::role_list(const Credentials& who) {
  auto& r = *impl_;
  if (auto refused = r.sm.auth().check_admin(r.resolve(who))) throw *refused;
  return r.sm.auth().role_names();
}

bool KvNode::auth_enabled() const { return impl_->sm.auth().enabled(); }

const auth::AuthStore& KvNode::auth() const { return impl_->sm.auth(); }

}  // namespace etcdlab::server
