#pragma once
// Helpers shared by the lab 3 tests: short constructors, readable printing of kvs and events,
// the check that an operation fails with etcd's error, and temporary directories.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>

#include "etcdlab/errors.h"
#include "etcdlab/mvcc/store.h"

namespace etcdlab::mvcc {

// How gtest prints the store's values in a failure.
inline std::string printable(std::string_view bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out + "\"";
}

inline std::string describe(const KeyValue& kv) {
  return "{" + printable(kv.key) + " create=" + std::to_string(kv.create_revision) +
         " mod=" + std::to_string(kv.mod_revision) + " ver=" + std::to_string(kv.version) +
         " value=" + printable(kv.value) + " lease=" + std::to_string(kv.lease) + "}";
}

inline std::string describe(const Event& e) {
  std::string out = e.type == Event::Type::kPut ? "PUT " : "DELETE ";
  out += describe(e.kv);
  if (e.prev_kv) out += " prev=" + describe(*e.prev_kv);
  return out;
}

inline std::string describe(const RangeResult& r) {
  std::string out = "count=" + std::to_string(r.count) + " more=" + (r.more ? "true" : "false") +
                    " revision=" + std::to_string(r.revision) + " kvs=[";
  for (const auto& kv : r.kvs) out += describe(kv) + " ";
  return out + "]";
}

inline std::string describe(const KeyRange& r) {
  if (r.range_end.empty()) return "key " + printable(r.key);
  return "[" + printable(r.key) + ", " + printable(r.range_end) + ")";
}

inline std::string describe(const RangeOptions& o) {
  const char* orders[] = {"none", "ascend", "descend"};
  const char* targets[] = {"key", "version", "create", "mod", "value"};
  std::string out = "revision=" + std::to_string(o.revision) + " limit=" + std::to_string(o.limit) +
                    " sort=" + orders[static_cast<int>(o.sort_order)] + "/" +
                    targets[static_cast<int>(o.sort_target)];
  if (o.keys_only) out += " keys_only";
  if (o.count_only) out += " count_only";
  if (o.min_mod_revision || o.max_mod_revision) {
    out += " mod=[" + std::to_string(o.min_mod_revision) + "," +
           std::to_string(o.max_mod_revision) + "]";
  }
  if (o.min_create_revision || o.max_create_revision) {
    out += " create=[" + std::to_string(o.min_create_revision) + "," +
           std::to_string(o.max_create_revision) + "]";
  }
  return out;
}

inline void PrintTo(const KeyValue& kv, std::ostream* os) {
  *os << describe(kv);
}
inline void PrintTo(const Event& e, std::ostream* os) {
  *os << describe(e);
}
inline void PrintTo(const RangeResult& r, std::ostream* os) {
  *os << describe(r);
}

}  // namespace etcdlab::mvcc

namespace etcdlab::lab3 {

using namespace etcdlab::mvcc;

inline std::unique_ptr<KvStore> memory_store(int64_t compaction_batch = 1000) {
  StoreOptions o;
  o.compaction_batch = compaction_batch;
  o.cache_kib = 2048;
  return KvStore::open(o);
}

inline KeyRange key(std::string k) {
  return KeyRange{std::move(k), ""};
}
inline KeyRange span(std::string k, std::string end) {
  return KeyRange{std::move(k), std::move(end)};
}
inline KeyRange from(std::string k) {
  return KeyRange{std::move(k), std::string(1, '\0')};
}
inline KeyRange everything() {
  return from(std::string(1, '\0'));
}

inline KeyValue kv(std::string k, int64_t create, int64_t mod, int64_t version, std::string value,
                   int64_t lease = 0) {
  return KeyValue{std::move(k), create, mod, version, std::move(value), lease};
}

inline Event put_event(KeyValue kv, std::optional<KeyValue> prev = std::nullopt) {
  return Event{Event::Type::kPut, std::move(kv), std::move(prev)};
}
inline Event delete_event(std::string k, int64_t revision,
                          std::optional<KeyValue> prev = std::nullopt) {
  return Event{Event::Type::kDelete, KeyValue{std::move(k), 0, revision, 0, "", 0},
               std::move(prev)};
}

// The kvs of a read of `range` now (or at `revision`).
inline std::vector<KeyValue> read(const KvStore& s, const KeyRange& range, int64_t revision = 0) {
  RangeOptions o;
  o.revision = revision;
  return s.range(range, o).kvs;
}

// Whether fn() throws MvccError with `code` and etcd's message for it. Anything else (another
// exception, Unimplemented included, or none) fails.
template <typename Fn>
::testing::AssertionResult fails_with(MvccError::Code code, const char* message, Fn&& fn) {
  try {
    fn();
  } catch (const MvccError& e) {
    if (e.code() != code) {
      return ::testing::AssertionFailure() << "MvccError with another code: " << e.what();
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

inline constexpr const char* kEmptyKeyMessage = "etcdserver: key is not provided";
inline constexpr const char* kCompactedMessage =
    "etcdserver: mvcc: required revision has been compacted";
inline constexpr const char* kFutureMessage =
    "etcdserver: mvcc: required revision is a future revision";

#define EXPECT_MVCC_ERROR(code, message, statement) \
  EXPECT_TRUE(::etcdlab::lab3::fails_with(code, message, [&] { (void)(statement); }))

// Whether fn() throws an E (`what` names it in a failure). Unimplemented never counts, even
// where E is std::logic_error: an unfinished function is not a refusal.
template <typename E, typename Fn>
::testing::AssertionResult throws(const char* what, Fn&& fn) {
  try {
    fn();
  } catch (const Unimplemented& e) {
    return ::testing::AssertionFailure() << "not implemented yet: " << e.what();
  } catch (const E&) {
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw another exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw " << what;
}

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
             ("etcdlab-mvcc-" + std::to_string(::getpid()) + "-" + name))
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
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::unique_ptr<KvStore> file_store(const std::string& path,
                                           int64_t compaction_batch = 1000) {
  StoreOptions o;
  o.path = path;
  o.compaction_batch = compaction_batch;
  o.cache_kib = 2048;
  return KvStore::open(o);
}

}  // namespace etcdlab::lab3
