// The main() of every test binary: gtest, with spdlog quiet unless ETCDLAB_LOG asks for more
// (ETCDLAB_LOG=info or debug shows the storage and Raft log lines beside the failures).
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const char* level = std::getenv("ETCDLAB_LOG");
  spdlog::set_level(level ? spdlog::level::from_str(level) : spdlog::level::err);
  return RUN_ALL_TESTS();
}
