// Issue 23, defect 6: a member's first boot (server/runtime/bootstrap.h) is crash-safe at every
// step. The Raft log and member/cluster are written through the simulated disk; the boot is cut
// by a crash after each of its file-system steps in turn (every create, write, sync, rename and
// directory sync), the disk loses what a crash may lose (each CrashMode, seeded), and the
// member boots again from the same flags. The second boot must bring up the member the flags
// describe: its ids, and a log whose first entries add every member of --initial-cluster.
//
// What this does not cover: the SQLite store is a real file, opened by the node after both
// steps (bootstrap only checks an existing one); it is created empty, its own journal makes
// its creation atomic, and its content is derived from the log (an empty store replays it),
// so a crash there is a restart over a complete log. The data dir's lock is a real file too.
#include <gtest/gtest.h>

#include <filesystem>

#include "../node/state_machine.h"
#include "../runtime/bootstrap.h"
#include "../runtime/data_dir.h"
#include "etcdlab/codec.h"
#include "etcdlab/errors.h"
#include "etcdlab/fs/sim_file_system.h"
#include "etcdlab/testing/seeds.h"

namespace etcdlab::runtime {
namespace {

struct SimulatedCrash : std::runtime_error {
  SimulatedCrash() : std::runtime_error("simulated crash") {}
};

// Counts the file-system steps that change the disk and crashes (throws) at step `crash_at`.
class CrashingFs final : public FileSystem {
 public:
  CrashingFs(SimFileSystem& fs, int crash_at) : fs_(fs), crash_at_(crash_at) {}
  int steps() const { return steps_; }
  void step() {
    if (steps_++ == crash_at_) throw SimulatedCrash();
  }

  class CountingFile final : public File {
   public:
    CountingFile(std::unique_ptr<File> f, CrashingFs& fs) : f_(std::move(f)), fs_(fs) {}
    const std::string& path() const override { return f_->path(); }
    uint64_t size() const override { return f_->size(); }
    std::string read_at(uint64_t offset, uint64_t length) const override {
      return f_->read_at(offset, length);
    }
    void write_at(uint64_t offset, std::string_view data) override {
      fs_.step();
      f_->write_at(offset, data);
    }
    void append(std::string_view data) override {
      fs_.step();
      f_->append(data);
    }
    void truncate(uint64_t size) override {
      fs_.step();
      f_->truncate(size);
    }
    void preallocate(uint64_t size) override {
      fs_.step();
      f_->preallocate(size);
    }
    void sync() override {
      fs_.step();
      f_->sync();
    }

   private:
    std::unique_ptr<File> f_;
    CrashingFs& fs_;
  };

  std::unique_ptr<File> create(const std::string& path) override {
    step();
    return std::make_unique<CountingFile>(fs_.create(path), *this);
  }
  std::unique_ptr<File> open(const std::string& path) override {
    return std::make_unique<CountingFile>(fs_.open(path), *this);
  }
  bool exists(const std::string& path) const override { return fs_.exists(path); }
  std::vector<std::string> list(const std::string& dir) const override { return fs_.list(dir); }
  void remove(const std::string& path) override {
    step();
    fs_.remove(path);
  }
  void rename(const std::string& from, const std::string& to) override {
    step();
    fs_.rename(from, to);
  }
  void create_dirs(const std::string& dir) override { fs_.create_dirs(dir); }
  void sync_dir(const std::string& dir) override {
    step();
    fs_.sync_dir(dir);
  }

 private:
  SimFileSystem& fs_;
  int crash_at_;
  int steps_ = 0;
};

// 126 boots zero-filling a 64 MiB segment each took 26 s; the steps are the same with 64 KiB.
const WalStorageOptions kSmallWal{WalOptions{64 << 10, true}};

class BootstrapCrash : public ::testing::Test {
 protected:
  void SetUp() override {
    // The real file (the lock) on tmpfs where there is one: this test is about the simulated
    // disk.
    std::filesystem::path tmp = std::filesystem::is_directory("/dev/shm")
                                    ? std::filesystem::path("/dev/shm")
                                    : std::filesystem::temp_directory_path();
    root_ = tmp / ("etcdlab-bootstrap-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  // The flags of member m1 of a new three-member cluster, with its data dir under root_ (the
  // lock is a real file there; the log and member/cluster are simulated).
  ServerConfig config(const std::string& dir) const {
    ServerConfig c;
    c.name = "m1";
    c.data_dir = (root_ / dir).string();
    c.initial_cluster =
        "m1=http://127.0.0.1:2380,m2=http://127.0.0.1:2381,m3=http://127.0.0.1:2382";
    c.initial_advertise_peer_urls = {"http://127.0.0.1:2380"};
    c.listen_peer_urls = {"http://127.0.0.1:2380"};
    c.resolve();
    std::filesystem::create_directories(DataDir(c.data_dir).member());
    return c;
  }

  // What an uncrashed first boot leaves: the ids and the log's first entries.
  struct Booted {
    uint64_t cluster = 0;
    uint64_t id = 0;
    std::vector<Entry> entries;
    HardState hard_state;
  };
  static Booted read_back(OpenedMember& m) {
    Booted b{m.cluster, m.id, {}, m.storage->hard_state()};
    if (m.storage->last_index() > 0) {
      b.entries = m.storage->entries(1, m.storage->last_index() + 1, UINT64_MAX);
    }
    return b;
  }

  std::filesystem::path root_;
};

TEST_F(BootstrapCrash, ACrashAfterAnyStepOfTheFirstBootRestartsAsTheSameMember) {
  // The uncrashed boot: how many steps it takes, and what it leaves.
  SimFileSystem clean_disk;
  CrashingFs counting(clean_disk, -1);
  Booted expected;
  {
    OpenedMember m = open_member(config("clean"), counting, kSmallWal);
    expected = read_back(m);
  }
  const int steps = counting.steps();
  ASSERT_GT(steps, 5) << "the first boot writes the log and member/cluster";
  ASSERT_EQ(expected.entries.size(), 3u) << "one AddVoter per member of --initial-cluster";
  for (const Entry& e : expected.entries) ASSERT_EQ(e.type, EntryType::kConfChange);

  const CrashMode modes[] = {CrashMode::kDropUnsynced, CrashMode::kRandomPrefix,
                             CrashMode::kTornWrite};
  testing::for_each_seed(testing::seed_count(1, 50), [&](uint64_t seed) {
    for (CrashMode mode : modes) {
      for (int at = 0; at < steps; ++at) {
        SCOPED_TRACE("crash at step " + std::to_string(at) + " of " + std::to_string(steps) +
                     ", " + to_string(mode));
        std::string dir = "crash-" + std::to_string(seed) + "-" + std::to_string(at) + "-" +
                          to_string(mode);
        SimFileSystem disk;
        {
          CrashingFs crashing(disk, at);
          EXPECT_THROW(open_member(config(dir), crashing, kSmallWal), SimulatedCrash);
        }
        disk.crash(seed * 1000 + at, mode);
        Booted again;
        try {
          OpenedMember m = open_member(config(dir), disk, kSmallWal);
          again = read_back(m);
        } catch (const std::exception& e) {
          FAIL() << "the boot after the crash failed: " << e.what();
        }
        EXPECT_EQ(again.cluster, expected.cluster);
        EXPECT_EQ(again.id, expected.id);
        ASSERT_EQ(again.entries.size(), expected.entries.size())
            << "the log must add every member of --initial-cluster";
        for (size_t i = 0; i < again.entries.size(); ++i) {
          EXPECT_EQ(again.entries[i], expected.entries[i]) << "entry " << i + 1;
        }
        EXPECT_EQ(again.hard_state, expected.hard_state);
        // And the boot after that is a plain restart of the same member.
        OpenedMember restarted = open_member(config(dir), disk, kSmallWal);
        EXPECT_EQ(restarted.id, expected.id);
        EXPECT_TRUE(restarted.members.empty()) << "a restart reads the member list from the log";
        std::filesystem::remove_all(root_ / dir);
      }
    }
  });
}

}  // namespace
}  // namespace etcdlab::runtime
