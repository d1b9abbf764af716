#pragma once
// Running a user's command as etcdctl does with Go's exec.Command(...).Run(): looked up in
// $PATH when its name has no slash, stdin, stdout and stderr shared, the environment given
// (Go keeps the last value of a name given twice), signals unblocked in the child (lock blocks
// SIGINT and SIGTERM in its own threads). Used by watch's exec command and by lock's.

#include <string>
#include <vector>

namespace etcdlab::cli {

// The process's environment, as os.Environ().
std::vector<std::string> environment();

// Runs `argv` (not empty) with environment `env` and waits for it. Returns "" when it exited
// 0, else Go's error text: `exec: "x": executable file not found in $PATH`,
// `fork/exec /x: no such file or directory`, `exit status 3`, `signal: killed`.
std::string run_command(const std::vector<std::string>& argv, std::vector<std::string> env);

}  // namespace etcdlab::cli
