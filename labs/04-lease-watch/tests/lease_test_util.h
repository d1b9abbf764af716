#pragma once
// Helpers shared by the lab 4 lease tests: a member (a lessor with its store and lease table),
// what the node does around each applied put and delete, the check that a call fails with
// etcd's lease error, readable lease infos, and temporary directories.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "etcdlab/lease/lease_table.h"
#include "etcdlab/lease/lessor.h"
#include "etcdlab/mvcc/store.h"
#include "etcdlab/sqlite/companion.h"

namespace etcdlab::lease {

// How gtest prints a table row in a failure.
inline void PrintTo(const LeaseRow& row, std::ostream* os) {
  *os << "{id " << row.id << ", ttl " << row.ttl << "}";
}

}  // namespace etcdlab::lease

namespace etcdlab::lab4 {

using namespace etcdlab::lease;
using mvcc::KeyRange;
using mvcc::KvStore;

inline constexpr const char* kNotFoundMessage = "etcdserver: requested lease not found";
inline constexpr const char* kExistsMessage = "etcdserver: lease already exists";
inline constexpr const char* kTooLargeMessage = "etcdserver: too large lease TTL";

// The lessor's configuration in these tests: 100 ms ticks (10 a second), a 2 s minimum TTL,
// at most 100 revokes per expired() call, 30 ticks before an expired lease is returned again.
inline LessorConfig config(int tick_ms = 100) {
  LessorConfig c;
  c.tick_ms = tick_ms;
  c.min_ttl_seconds = 2;
  c.max_revokes_per_tick = 100;
  c.expired_retry_ticks = 30;
  return c;
}

inline std::unique_ptr<KvStore> memory_store() {
  mvcc::StoreOptions o;
  o.cache_kib = 2048;
  return KvStore::open(o);
}

inline KeyRange key(std::string k) {
  return KeyRange{std::move(k), ""};
}
inline KeyRange everything() {
  return KeyRange{std::string(1, '\0'), std::string(1, '\0')};
}

// "none", or "id=1 granted=10 remaining=7 keys=[a b]" (keys only when asked for).
inline std::string describe(const std::optional<LeaseInfo>& info) {
  if (!info) return "none";
  std::string out = "id=" + std::to_string(info->id) +
                    " granted=" + std::to_string(info->granted_ttl) +
                    " remaining=" + std::to_string(info->remaining_ttl) + " keys=[";
  for (size_t i = 0; i < info->keys.size(); ++i) out += (i ? " " : "") + info->keys[i];
  return out + "]";
}

inline std::string describe(const std::vector<LeaseId>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? " " : "") + std::to_string(ids[i]);
  return out + "]";
}

// Every key in the store now, with its lease: "a@5 b@0" (0: no lease).
inline std::string store_keys(const KvStore& store) {
  std::string out;
  for (const auto& kv : store.range(everything()).kvs) {
    out += (out.empty() ? "" : " ") + kv.key + "@" + std::to_string(kv.lease);
  }
  return out;
}

// One member's lease state: its store, its lease table and its lessor, changed the way the node
// changes them when it applies a committed entry (put(), del(), and the lessor's own calls).
struct Member {
  explicit Member(LessorConfig c = config()) : cfg(c), store(memory_store()) { reopen(); }

  // A restart of the lessor: open() again from the same table and store (not primary).
  void reopen() {
    lessor.reset();
    lessor = Lessor::open(cfg, table, *store);
  }

  // A put as the node applies it: a lease that does not exist refuses the put (the store is
  // not touched); otherwise the store writes and the key goes to `lease` (or to none).
  int64_t put(const std::string& k, LeaseId lease = kNoLease, const std::string& value = "v") {
    if (lease != kNoLease && !lessor->exists(lease)) throw LeaseError(LeaseError::Code::kNotFound);
    int64_t revision = store->put(k, value, lease).revision;
    lessor->attach(k, lease);
    return revision;
  }

  // A delete as the node applies it: every deleted key leaves its lease.
  int64_t del(const KeyRange& range) {
    auto r = store->delete_range(range, /*prev_kv=*/true);
    for (const auto& kv : r.prev_kvs) lessor->detach(kv.key);
    return r.revision;
  }

  void tick(int64_t n = 1) {
    for (int64_t i = 0; i < n; ++i) lessor->tick();
  }

  std::string info(LeaseId id, bool with_keys = true) const {
    return describe(lessor->info(id, with_keys));
  }

  LessorConfig cfg;
  MemoryLeaseTable table;
  std::unique_ptr<KvStore> store;
  std::unique_ptr<Lessor> lessor;
};

// Ticks `lessor` one tick at a time, asking expired() after each tick as the leader's node
// does, until `id` is returned; gives the number of ticks it took, or -1 after `limit` ticks.
inline int64_t ticks_until_expired(Lessor& lessor, LeaseId id, int64_t limit) {
  for (int64_t t = 1; t <= limit; ++t) {
    lessor.tick();
    for (LeaseId e : lessor.expired()) {
      if (e == id) return t;
    }
  }
  return -1;
}

// Whether fn() throws LeaseError with `code` and etcd's message for it. Anything else (another
// exception, Unimplemented included, or none) fails.
template <typename Fn>
::testing::AssertionResult fails_with(LeaseError::Code code, const char* message, Fn&& fn) {
  try {
    fn();
  } catch (const LeaseError& e) {
    if (e.code() != code) {
      return ::testing::AssertionFailure() << "LeaseError with another code: " << e.what();
    }
    if (std::string(e.what()) != message) {
      return ::testing::AssertionFailure()
             << "message is \"" << e.what() << "\", etcd says \"" << message << "\"";
    }
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw another exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw (expected \"" << message << "\")";
}

#define EXPECT_LEASE_ERROR(code, message, statement) \
  EXPECT_TRUE(::etcdlab::lab4::fails_with(code, message, [&] { (void)(statement); }))

// A directory under the system's temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "-" + info->name() : "x";
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    path_ = (std::filesystem::temp_directory_path() /
             ("etcdlab-lease-" + std::to_string(::getpid()) + "-" + name))
                .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A member whose leases live in the store's own SQLite database, as on a real node: the
// SqliteLeaseTable is the store's companion, so lease rows commit in the store's transactions.
struct SqliteMember {
  explicit SqliteMember(const std::string& path, LessorConfig c = config())
      : cfg(c), table(std::make_shared<SqliteLeaseTable>()) {
    mvcc::StoreOptions o;
    o.path = path;
    o.cache_kib = 2048;
    {
      sqlite::CompanionScope scope(table);  // the store's database takes the table
      store = KvStore::open(o);
    }
    lessor = Lessor::open(cfg, *table, *store);
  }

  int64_t put(const std::string& k, LeaseId lease) {
    int64_t revision = store->put(k, "v", lease).revision;
    lessor->attach(k, lease);
    return revision;
  }

  LessorConfig cfg;
  std::shared_ptr<SqliteLeaseTable> table;
  std::unique_ptr<KvStore> store;
  std::unique_ptr<Lessor> lessor;  // last: destroyed first
};

}  // namespace etcdlab::lab4
