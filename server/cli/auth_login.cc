#include "auth_login.h"

#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>

#include "go_scan.h"

namespace etcdlab::cli {
namespace {

namespace json = boost::json;

// The terminal's echo, off while a password is typed and back on after (when stdin is not a
// terminal there is nothing to turn off, as speakeasy's stty finds). Changed at once, keeping
// what was typed ahead (TCSANOW, not TCSAFLUSH, which would drop it).
class EchoOff {
 public:
  EchoOff() {
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios quiet = saved_;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      active_ = tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
    }
  }
  ~EchoOff() {
    if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

}  // namespace

std::optional<std::string> ask_password(const std::string& prompt) {
  std::string line;
  bool failed = false;
  {
    EchoOff quiet;  // before the prompt: what is typed once it shows is not echoed
    std::cout << prompt << std::flush;
    // A byte at a time, as speakeasy reads, so that nothing after the line is taken from
    // stdin (user add reads its second password from the next line).
    char c = 0;
    while (true) {
      ssize_t n = ::read(STDIN_FILENO, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) failed = true;
      if (n <= 0 || c == '\n') break;
      line += c;
    }
  }
  std::cout << "\n" << std::flush;
  if (failed) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return std::string(go_trim_space(line));
}

std::optional<Login> login_from_flags(const std::string& user_flag,
                                      const std::string& password_flag) {
  if (user_flag.empty()) return std::nullopt;
  Login login;
  if (!password_flag.empty()) {
    login = {user_flag, password_flag};
  } else if (size_t colon = user_flag.find(':'); colon != std::string::npos) {
    login = {user_flag.substr(0, colon), user_flag.substr(colon + 1)};
  } else {
    std::optional<std::string> typed = ask_password("Password: ");
    if (!typed) return std::nullopt;
    login = {user_flag, *typed};
  }
  if (login.user.empty() || login.password.empty()) return std::nullopt;
  return login;
}

std::string authenticate(const Client& client, const Login& login, Deadline deadline) {
  json::object body;
  body["name"] = login.user;
  body["password"] = login.password;
  json::object answer = client.call("/v3/auth/authenticate", body, deadline, Retry::kRepeatable);
  const json::value* token = answer.if_contains("token");
  if (token == nullptr || !token->is_string() || token->as_string().empty()) {
    throw EtcdError("authenticate answered without a token: " + json::serialize(answer));
  }
  return std::string(token->as_string());
}

void sign_in(const Client& client, const Login& login, Deadline deadline) {
  client.set_token("");
  std::string token;
  try {
    token = authenticate(client, login, deadline);
  } catch (const EtcdError& e) {
    if (std::string_view(e.what()) == "etcdserver: authentication is not enabled") return;
    throw;
  }
  client.set_token(std::move(token), [&client, login](Deadline d) {
    return authenticate(client, login, d);
  });
}

}  // namespace etcdlab::cli
