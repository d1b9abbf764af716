#pragma once
// Who etcdlabctl speaks for when the cluster has auth on, as etcdctl 3.4 decides it: the global
// flags --user name[:password] and --password (authCfgFromCmd), a password asked for on the
// terminal (bgentry/speakeasy, which etcdctl uses), and the sign-in clientv3.New does before
// the first request (Authenticate, then the token on every request).

#include <optional>
#include <string>

#include "client.h"

namespace etcdlab::cli {

struct Login {
  std::string user;
  std::string password;
};

// speakeasy.Ask: writes `prompt` on stdout, reads one line from stdin with the terminal's echo
// off (when stdin is a terminal), then writes a newline. The line without its end and with
// the spaces around it trimmed (Go's strings.TrimSpace); at the end of the input, what was
// read (maybe nothing). nullopt when stdin cannot be read.
std::optional<std::string> ask_password(const std::string& prompt);

// etcdctl's authCfgFromCmd and clientv3.New's rule: no --user, no login; --password given:
// the whole --user is the name; else "name:password" splits at the first ':', and a name alone
// asks for the password on the terminal ("Password: "; a failed read means no login). A login
// with an empty name or password is none (clientv3 signs in only with both).
std::optional<Login> login_from_flags(const std::string& user_flag,
                                      const std::string& password_flag);

// clientv3's getToken: POST /v3/auth/authenticate within `deadline`; the token. Throws
// EtcdError with the server's refusal ("etcdserver: authentication failed, invalid user ID or
// password", "etcdserver: authentication is not enabled", ...). Sends no token itself.
std::string authenticate(const Client& client, const Login& login, Deadline deadline);

// Signs `client` in: authenticates, keeps the token for every request and renews it once when
// the server refuses it (Client::set_token). "authentication is not enabled" leaves the client
// without a token (and nothing to renew), as clientv3 does; any other refusal is thrown
// (EtcdError). At a renewal, every refusal is the error, "authentication is not enabled" too
// (auth was turned off meanwhile): etcdctl 3.4.23 does the same, measured.
void sign_in(const Client& client, const Login& login, Deadline deadline);

}  // namespace etcdlab::cli
