#include "failure_report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace etcdlab::lab2 {
namespace {

std::vector<FailureReport*>& live() {
  static std::vector<FailureReport*> reports;
  return reports;
}

class Listener final : public ::testing::EmptyTestEventListener {
 public:
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::string message = result.message() != nullptr ? result.message() : "";
    for (FailureReport* r : live()) r->on_failure(message);
  }
};

// Installed on first use, from inside a test (gtest owns it from then on).
void install_listener() {
  static bool installed = [] {
    ::testing::UnitTest::GetInstance()->listeners().Append(new Listener);
    return true;
  }();
  (void)installed;
}

std::string_view log_level() {
  const char* v = std::getenv("ETCDLAB_LOG");
  return v == nullptr ? "" : v;
}

}  // namespace

FailureReport::FailureReport(std::function<std::string()> report, std::string marker,
                             std::function<std::string()> note)
    : report_(std::move(report)), marker_(std::move(marker)), note_(std::move(note)) {
  install_listener();
  live().push_back(this);
}

FailureReport::~FailureReport() {
  auto& v = live();
  v.erase(std::remove(v.begin(), v.end(), this), v.end());
}

void FailureReport::on_failure(const std::string& message) {
  if (message.find(marker_) != std::string::npos) {
    // The failure carries the report already.
  } else if (printed_) {
    std::printf("(the report after the first failure above still holds)\n");
  } else {
    printed_ = true;
    std::printf("%s\n", report_().c_str());
  }
  if (note_ && !noted_) {
    noted_ = true;
    std::printf("%s\n", note_().c_str());
  }
  std::fflush(stdout);
}

bool verbose_log() {
  std::string_view level = log_level();
  return level == "info" || level == "debug" || level == "trace";
}

bool debug_log() {
  std::string_view level = log_level();
  return level == "debug" || level == "trace";
}

}  // namespace etcdlab::lab2
