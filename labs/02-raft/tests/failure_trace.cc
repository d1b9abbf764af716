#include "failure_trace.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "etcdlab/sim/view.h"

namespace etcdlab::lab2 {
namespace fs = std::filesystem;
namespace {

// As the student can paste it: relative to the current directory when below it.
std::string pasteable(const fs::path& p) {
  std::error_code ec;
  fs::path rel = fs::relative(p, fs::current_path(ec), ec);
  if (ec || rel.empty() || *rel.begin() == "..") return p.string();
  return rel.string();
}

}  // namespace

std::string running_test_name() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return info ? std::string(info->test_suite_name()) + "." + info->name() : "unknown";
}

std::string write_failure_trace(const sim::Cluster& c, const std::string& test,
                                const std::string& replay) {
  // The test binary is <build>/bin/lab02-tests: the traces go beside bin/, the viewer is in it.
  std::error_code ec;
  fs::path bin = fs::canonical("/proc/self/exe", ec).parent_path();
  if (ec) return "(no trace file: cannot find the test binary: " + ec.message() + ")";
  std::string name = test;
  for (char& ch : name) {
    if (ch == '/') ch = '_';  // parameterized tests: Prefix/Suite.Test/0
  }
  fs::path dir = bin.parent_path() / "lab2-traces";
  fs::path file = dir / (name + ".seed" + std::to_string(c.options().seed) + ".json");
  fs::create_directories(dir, ec);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << sim::view_recording_json(c, test + " seed " + std::to_string(c.options().seed), replay);
  out.close();
  if (!out) return "(no trace file: cannot write " + file.string() + ")";
  return "view this run: " + pasteable(bin / "etcdlab-view") + " --trace " + pasteable(file);
}

}  // namespace etcdlab::lab2
