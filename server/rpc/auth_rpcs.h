#pragma once
// etcd 3.4's Auth service (AuthEnable ... RoleRevokePermission), shared by both doors. The node
// decides every rule (server/node/auth); this layer does what the node must not: bcrypt, on a
// worker thread (KvService::run_blocking), so only hashes reach the log, and the randomness of
// salts and token prefixes (KvService::random_bytes).
//
// Admin writes are decided at apply from the proposer's stamp (root needed once auth is on,
// except AuthEnable while it is off); gets and lists are served from this member's applied auth
// state after a read barrier (etcd 3.4 sends them through Raft: the answers are the same, one
// log entry fewer). Each throws ApiError with etcd's code and text.

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "../gateway/service.h"

namespace etcdlab::rpc {

using boost::asio::awaitable;
using gateway::KvService;
using server::Credentials;

awaitable<void> auth_enable(KvService& s, const Credentials& who);
awaitable<void> auth_disable(KvService& s, const Credentials& who);

// Checks the password and returns a new simple token ("<16 letters>.<raft index>"), usable
// on every member. The flow: read barrier, the node's lookup (hash or none, auth revision,
// throttle delay), the delay, bcrypt on the worker (a dummy hash for an unknown name), then
// the Authenticate entry; if the auth revision moved before it applied, again (3 times).
// Refusals: "authentication is not enabled" (9), "authentication failed, invalid user ID or
// password" (3).
awaitable<std::string> authenticate(KvService& s, std::string name, std::string password);

// Hashes on the worker; a non-root caller is refused before the hashing (no bcrypt for it).
// `no_password` (etcd's UserAddOptions): the user has no password (an empty hash) and can
// never authenticate (a TLS client certificate's CN can stand for it).
awaitable<void> user_add(KvService& s, std::string name, std::string password,
                         const Credentials& who, bool no_password = false);
awaitable<void> user_change_password(KvService& s, std::string name, std::string password,
                                     const Credentials& who);
awaitable<void> user_delete(KvService& s, std::string name, const Credentials& who);
awaitable<void> user_grant_role(KvService& s, std::string user, std::string role,
                                const Credentials& who);
awaitable<void> user_revoke_role(KvService& s, std::string name, std::string role,
                                 const Credentials& who);
awaitable<void> role_add(KvService& s, std::string name, const Credentials& who);
awaitable<void> role_delete(KvService& s, std::string role, const Credentials& who);
awaitable<void> role_grant_permission(KvService& s, std::string name, server::auth::Permission perm,
                                      const Credentials& who);
awaitable<void> role_revoke_permission(KvService& s, std::string role, std::string key,
                                       std::string range_end, const Credentials& who);

// Root only, except a user's own name (user_get) and its own roles (role_get).
awaitable<server::auth::User> user_get(KvService& s, std::string name, const Credentials& who);
awaitable<std::vector<std::string>> user_list(KvService& s, const Credentials& who);
awaitable<server::auth::Role> role_get(KvService& s, std::string name, const Credentials& who);
awaitable<std::vector<std::string>> role_list(KvService& s, const Credentials& who);

// 16 letters from unpredictable bytes (etcd's simple-token prefix: [a-zA-Z]{16}).
std::string token_prefix(KvService& s);

}  // namespace etcdlab::rpc
