// The Auth service's RPCs (auth_rpcs.h).
#include "auth_rpcs.h"

#include <chrono>
#include <optional>

#include "errors.h"
#include "password.h"
#include "rpcs.h"

namespace etcdlab::rpc {

namespace {

using Access = server::KvNode::Access;

constexpr int kAuthenticateTries = 3;  // the auth revision moved under us this many times: give up

// (Each caller names its request first: g++ 12 mishandles temporaries in co_await expressions.)
awaitable<void> propose(KvService& s, server::Request request, const Credentials& who) {
  server::Result r = co_await s.write(std::move(request), who);
  check(r);
}

// bcrypt of `password` on the worker thread, with fresh salt bytes.
awaitable<std::string> hash_off_thread(KvService& s, const std::string& password) {
  std::string salt = s.random_bytes(kSaltBytes);
  int cost = s.bcrypt_cost();
  std::string hash;
  std::function<void()> work = [&] { hash = hash_password(password, cost, salt); };
  try {
    co_await s.run_blocking(std::move(work));
  } catch (const std::invalid_argument& e) {
    throw ApiError(GrpcCode::kInvalidArgument, std::string("etcdlab: ") + e.what());
  }
  co_return hash;
}

}  // namespace

std::string token_prefix(KvService& s) {
  static constexpr char kLetters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string out;
  while (out.size() < 16) {
    for (unsigned char b : s.random_bytes(32)) {
      // 208 = 4 x 52: taking only bytes below it keeps every letter equally likely.
      if (b < 208 && out.size() < 16) out.push_back(kLetters[b % 52]);
    }
  }
  return out;
}

awaitable<void> auth_enable(KvService& s, const Credentials& who) {
  server::Request request = server::AuthEnableRequest{};
  co_await propose(s, std::move(request), who);
}

awaitable<void> auth_disable(KvService& s, const Credentials& who) {
  server::Request request = server::AuthDisableRequest{};
  co_await propose(s, std::move(request), who);
}

awaitable<std::string> authenticate(KvService& s, std::string name, std::string password) {
  for (int attempt = 0;; ++attempt) {
    co_await s.read_barrier();
    server::KvNode::AuthLookup found = s.auth_lookup(name);
    if (!found.enabled) throw server::auth_error(server::rpctypes::kAuthNotEnabled);
    // The attempt counts with the throttle now, as a failure, before any wait or bcrypt (a
    // success clears the name when its entry applies): attempts made at the same time for one
    // name each see those before them, instead of all finding no delay and failing together
    // (security review, finding 3). Once per call, not per stale-revision retry.
    if (attempt == 0) s.auth_failed(name);
    // The throttle's wait (recent attempts for this name), before any bcrypt is spent.
    if (found.delay_ms > 0) co_await s.pause(std::chrono::milliseconds(found.delay_ms));
    bool match = false;
    // (Only an unknown name's dummy uses it: at the cost most stored hashes have, else at
    // --bcrypt-cost. A user whose hash has another cost than most still verifies in another
    // time than an unknown name: that much of the timing leak remains.)
    int cost = found.dummy_cost > 0 ? found.dummy_cost : s.bcrypt_cost();
    std::function<void()> work = [&] { match = verify_or_pay(password, found.hash, cost); };
    co_await s.run_blocking(std::move(work));
    if (!match) {
      throw server::auth_error(server::rpctypes::kAuthFailed);
    }
    server::Request request = server::AuthenticateRequest{name, token_prefix(s), found.revision};
    server::Result r = co_await s.write(std::move(request), Credentials{});
    // The password was checked against the hash at found.revision; the auth state moved before
    // the entry applied (a password change, a delete): check again against the new state.
    if (r.auth_error &&
        std::string_view(r.auth_error->what()) == server::rpctypes::kAuthOldRevision &&
        attempt + 1 < kAuthenticateTries) {
      continue;
    }
    check(r);
    co_return std::get<server::AuthResult>(r.value).token;
  }
}

awaitable<void> user_add(KvService& s, std::string name, std::string password,
                         const Credentials& who, bool no_password) {
  authorize(s, who, Access::kAdmin);  // (decided again at apply, from the stamp)
  std::string hash;
  if (!no_password) hash = co_await hash_off_thread(s, password);
  server::Request request = server::UserAddRequest{std::move(name), std::move(hash)};
  co_await propose(s, std::move(request), who);
}

awaitable<void> user_change_password(KvService& s, std::string name, std::string password,
                                     const Credentials& who) {
  authorize(s, who, Access::kAdmin);
  std::string hash = co_await hash_off_thread(s, password);
  server::Request request = server::UserChangePasswordRequest{std::move(name), std::move(hash)};
  co_await propose(s, std::move(request), who);
}

awaitable<void> user_delete(KvService& s, std::string name, const Credentials& who) {
  server::Request request = server::UserDeleteRequest{std::move(name)};
  co_await propose(s, std::move(request), who);
}

awaitable<void> user_grant_role(KvService& s, std::string user, std::string role,
                                const Credentials& who) {
  server::Request request = server::UserGrantRoleRequest{std::move(user), std::move(role)};
  co_await propose(s, std::move(request), who);
}

awaitable<void> user_revoke_role(KvService& s, std::string name, std::string role,
                                 const Credentials& who) {
  server::Request request = server::UserRevokeRoleRequest{std::move(name), std::move(role)};
  co_await propose(s, std::move(request), who);
}

awaitable<void> role_add(KvService& s, std::string name, const Credentials& who) {
  server::Request request = server::RoleAddRequest{std::move(name)};
  co_await propose(s, std::move(request), who);
}

awaitable<void> role_delete(KvService& s, std::string role, const Credentials& who) {
  server::Request request = server::RoleDeleteRequest{std::move(role)};
  co_await propose(s, std::move(request), who);
}

awaitable<void> role_grant_permission(KvService& s, std::string name, server::auth::Permission perm,
                                      const Credentials& who) {
  server::Request request = server::RoleGrantPermissionRequest{std::move(name), std::move(perm)};
  co_await propose(s, std::move(request), who);
}

awaitable<void> role_revoke_permission(KvService& s, std::string role, std::string key,
                                       std::string range_end, const Credentials& who) {
  server::Request request =
      server::RoleRevokePermissionRequest{std::move(role), std::move(key), std::move(range_end)};
  co_await propose(s, std::move(request), who);
}

awaitable<server::auth::User> user_get(KvService& s, std::string name, const Credentials& who) {
  co_await s.read_barrier();
  co_return s.user_get(who, name);
}

awaitable<std::vector<std::string>> user_list(KvService& s, const Credentials& who) {
  co_await s.read_barrier();
  co_return s.user_list(who);
}

awaitable<server::auth::Role> role_get(KvService& s, std::string name, const Credentials& who) {
  co_await s.read_barrier();
  co_return s.role_get(who, name);
}

awaitable<std::vector<std::string>> role_list(KvService& s, const Credentials& who) {
  co_await s.read_barrier();
  co_return s.role_list(who);
}

}  // namespace etcdlab::rpc
