#include "exec.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <set>

#include "go_format.h"

extern char** environ;

namespace etcdlab::cli {
namespace {

// exec.LookPath: a name without a slash is looked for in $PATH.
std::optional<std::string> look_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  size_t at = 0;
  for (;;) {
    size_t end = dirs.find(':', at);
    std::string dir = dirs.substr(at, end == std::string::npos ? std::string::npos : end - at);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    if (end == std::string::npos) return std::nullopt;
    at = end + 1;
  }
}

// Go's wording of an errno ("no such file or directory") and of a signal ("killed").
std::string lowered(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

// exec's dedupEnv: the last value of each name.
std::vector<std::string> dedup(const std::vector<std::string>& env) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (auto it = env.rbegin(); it != env.rend(); ++it) {
    if (seen.insert(it->substr(0, it->find('='))).second) out.push_back(*it);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<std::string> environment() {
  std::vector<std::string> env;
  for (char** v = environ; *v != nullptr; ++v) env.emplace_back(*v);
  return env;
}

std::string run_command(const std::vector<std::string>& argv, std::vector<std::string> env) {
  auto path = look_path(argv[0]);
  if (!path) return "exec: " + go_quote(argv[0]) + ": executable file not found in $PATH";
  env = dedup(env);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (auto& v : env) envp.push_back(v.data());
  envp.push_back(nullptr);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, path->c_str(), nullptr, &attr, args.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return "fork/exec " + *path + ": " + lowered(std::strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return lowered(std::strerror(errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    return "exit status " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) return "signal: " + lowered(strsignal(WTERMSIG(status)));
  return "";
}

}  // namespace etcdlab::cli
