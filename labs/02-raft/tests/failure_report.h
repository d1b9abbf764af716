#pragma once
// Every failing assertion of a lab 2 test prints what a student needs to see, whichever
// assertion it is: a rule test's script trail, or a scenario cluster's report (each node's
// state, the recent role changes, each node's last events and the replay line). A gtest
// listener prints it, so no assertion can forget to; a failure message that already holds the
// report (an invariant violation carries its own) is not repeated.
//
// FailureReport is a scope: the report of a Script or a Cluster is printed for failures that
// happen while it lives. The report is made inside gtest's listener call, which holds gtest's
// own lock: it must not call into gtest (current_test_info(), SCOPED_TRACE, assertions).

#include <functional>
#include <string>

namespace etcdlab::lab2 {

class FailureReport {
 public:
  // `report` makes the text; `marker` is a line of it by which a failure message that already
  // contains the report is recognized. `note`, if given, makes a line printed once, after the
  // first failure's report, or alone when the failure message holds the report already (a
  // scenario cluster's trace file: failure_trace.h).
  FailureReport(std::function<std::string()> report, std::string marker,
                std::function<std::string()> note = {});
  ~FailureReport();
  FailureReport(const FailureReport&) = delete;
  FailureReport& operator=(const FailureReport&) = delete;

  // Called by the listener for each failed assertion while this report is registered.
  void on_failure(const std::string& message);

 private:
  std::function<std::string()> report_;
  std::string marker_;
  std::function<std::string()> note_;
  bool printed_ = false;  // the full report once per test; later failures point to it
  bool noted_ = false;
};

// Whether ETCDLAB_LOG asks for a verbose run (info or debug), and whether it is debug.
bool verbose_log();
bool debug_log();

}  // namespace etcdlab::lab2
