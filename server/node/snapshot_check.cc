// The check of a received node snapshot (snapshot_check.h): the header, then the store part's
// SQLite header, its structure and its schema, each against what the restore will need.
#include "snapshot_check.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "etcdlab/errors.h"
#include "etcdlab/mvcc/store.h"
#include "sqlite_quick_check.h"
#include "state_machine.h"

namespace etcdlab::server {
namespace {

// SQLite's database header (https://sqlite.org/fileformat.html#the_database_header).
constexpr char kMagic[] = "SQLite format 3";  // 16 bytes, NUL included
constexpr uint64_t kHeaderBytes = 100;
constexpr uint64_t kPageSizeAt = 16;        // u16 big-endian; 1 means 65536
constexpr uint64_t kChangeCounterAt = 24;   // u32
constexpr uint64_t kPageCountAt = 28;       // u32, valid if the counter at 92 equals the one at 24
constexpr uint64_t kUserVersionAt = 60;     // u32
constexpr uint64_t kApplicationIdAt = 68;   // u32
constexpr uint64_t kValidForAt = 92;        // u32

uint32_t be(std::string_view b, uint64_t at, int bytes) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

// What a store's database is made of: the header's identity, and each table's columns.
struct StoreShape {
  uint32_t application_id = 0;
  int64_t user_version = 0;
  std::map<std::string, std::string> tables;  // name -> "name type notnull pk, ..."
};

bool read_shape(sqlite3* db, StoreShape& shape, std::string& error) {
  std::vector<std::vector<std::string>> rows;
  if (!sqlite_rows(db, "PRAGMA application_id", nullptr, rows, error)) return false;
  if (!sqlite_rows(db, "PRAGMA user_version", nullptr, rows, error)) return false;
  if (rows.size() != 2 || rows[0].empty() || rows[1].empty()) {
    error = "no application_id or user_version";
    return false;
  }
  shape.application_id = static_cast<uint32_t>(std::stoll(rows[0][0]));
  shape.user_version = std::stoll(rows[1][0]);
  std::vector<std::vector<std::string>> tables;
  if (!sqlite_rows(db,
               "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
               "ORDER BY name",
               nullptr, tables, error)) {
    return false;
  }
  for (const auto& t : tables) {
    std::vector<std::vector<std::string>> columns;
    if (!sqlite_rows(db,
                 "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid",
                 &t[0], columns, error)) {
      return false;
    }
    std::vector<std::string> described;
    for (const auto& c : columns) {
      described.push_back(fmt::format("{} {}{}{}", c[0], c[1], c[2] == "0" ? "" : " not null",
                                      c[3] == "0" ? "" : " key " + c[3]));
    }
    shape.tables[t[0]] = fmt::format("{}", fmt::join(described, ", "));
  }
  return true;
}

// The shape of a new store of this build's lab 3 implementation, made once in memory.
const StoreShape& new_store_shape() {
  static const StoreShape shape = [] {
    auto store = mvcc::KvStore::open(mvcc::StoreOptions{});  // ":memory:", no companions
    std::string image;
    store->snapshot([&](std::string_view chunk) { image += chunk; });
    SqliteWindow window(
        [&](uint64_t offset, uint64_t length) { return image.substr(offset, length); }, 0,
        image.size());
    StoreShape s;
    std::string error = window.open_error();
    if (!window.db() || !read_shape(window.db(), s, error)) {
      throw std::logic_error("snapshot check: a new store's schema cannot be read: " + error);
    }
    return s;
  }();
  return shape;
}

SnapshotProblem store_problem(uint64_t offset, std::string what) {
  return SnapshotProblem{"store", offset, std::move(what)};
}

// The store part's SQLite header, [at, size) of the payload: nullopt if it is whole.
std::optional<SnapshotProblem> check_sqlite_header(const ReadAt& read, uint64_t at,
                                                   uint64_t size) {
  uint64_t store_size = size - at;
  std::string h = read(at, kHeaderBytes);
  if (h.size() < sizeof(kMagic) || std::memcmp(h.data(), kMagic, sizeof(kMagic)) != 0) {
    return store_problem(at, fmt::format("the store part ({} bytes) is not a SQLite database: "
                                         "it does not begin with \"SQLite format 3\"",
                                         store_size));
  }
  if (h.size() < kHeaderBytes) {
    return store_problem(size, fmt::format("the store is truncated: {} bytes, less than "
                                           "SQLite's {}-byte header",
                                           store_size, kHeaderBytes));
  }
  uint64_t page_size = be(h, kPageSizeAt, 2);
  if (page_size == 1) page_size = 65536;
  if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) != 0) {
    return store_problem(at + kPageSizeAt,
                         fmt::format("the store's SQLite header has no valid page size ({})",
                                     page_size));
  }
  uint64_t pages = be(h, kPageCountAt, 4);
  if (pages > 0 && be(h, kChangeCounterAt, 4) == be(h, kValidForAt, 4)) {
    uint64_t expected = pages * page_size;
    if (store_size < expected) {
      return store_problem(size, fmt::format("the store is truncated: its SQLite header says "
                                             "{} pages of {} bytes ({} bytes), the payload "
                                             "holds {} bytes of it",
                                             pages, page_size, expected, store_size));
    }
    if (store_size > expected) {
      return store_problem(at + expected,
                           fmt::format("the store part is {} bytes but its SQLite header says "
                                       "{} ({} pages of {}): what follows is not part of it",
                                       store_size, expected, pages, page_size));
    }
  } else if (store_size % page_size != 0) {
    return store_problem(at + store_size - store_size % page_size,
                         fmt::format("the store is truncated: its last page holds {} of {} "
                                     "bytes",
                                     store_size % page_size, page_size));
  }
  return std::nullopt;
}

// The store's schema against a new store's: nullopt if every table it needs is there.
std::optional<SnapshotProblem> check_schema(sqlite3* db, uint64_t at) {
  StoreShape got;
  std::string error;
  if (!read_shape(db, got, error)) {
    return store_problem(at, "the store's schema cannot be read: " + error);
  }
  const StoreShape& want = new_store_shape();
  if (got.application_id != want.application_id) {
    return store_problem(at + kApplicationIdAt,
                         fmt::format("the store's application_id is 0x{:08x}, this build's "
                                     "store has 0x{:08x}: not a store of this program",
                                     got.application_id, want.application_id));
  }
  if (got.user_version != want.user_version) {
    return store_problem(at + kUserVersionAt,
                         fmt::format("the store's schema version (user_version) is {}, this "
                                     "build reads version {}",
                                     got.user_version, want.user_version));
  }
  std::vector<std::string> names;
  for (const auto& [name, columns] : want.tables) names.push_back(name);
  for (const auto& [name, columns] : want.tables) {
    auto it = got.tables.find(name);
    if (it == got.tables.end()) {
      return store_problem(at, fmt::format("the store has no table {} (this build's store has "
                                           "{})",
                                           name, fmt::join(names, ", ")));
    }
    if (it->second != columns) {
      return store_problem(at, fmt::format("the store's table {} has columns ({}), this "
                                           "build's has ({})",
                                           name, it->second, columns));
    }
  }
  return std::nullopt;
}

}  // namespace

std::string SnapshotProblem::describe() const {
  return fmt::format("{} ({} part, at payload offset {})", what, part, offset);
}

std::optional<SnapshotProblem> check_snapshot_payload(const ReadAt& read, uint64_t size) {
  // Never more than the payload holds, whatever a length in it claims.
  ReadAt bounded = [&read, size](uint64_t offset, uint64_t length) -> std::string {
    if (offset >= size) return {};
    return read(offset, std::min(length, size - offset));
  };
  uint64_t at = 0;
  try {
    at = KvStateMachine::snapshot_header_of(bounded).size();
  } catch (const DecodeError& e) {
    return SnapshotProblem{"header", e.offset(),
                           std::string("the node header does not decode: ") + e.what()};
  } catch (const std::exception& e) {
    return SnapshotProblem{"header", 0, std::string("the payload cannot be read: ") + e.what()};
  }
  if (size <= at) {
    return store_problem(at, fmt::format("the payload is a node header alone ({} bytes) with no "
                                         "store after it: a member's own snapshot over a file "
                                         "store, which only that member can use",
                                         at));
  }
  try {
    if (auto problem = check_sqlite_header(bounded, at, size)) return problem;
  } catch (const std::exception& e) {
    return store_problem(at, std::string("the payload cannot be read: ") + e.what());
  }
  SqliteWindow window(bounded, at, size);
  if (!window.db()) return store_problem(at, "SQLite cannot open the store: " + window.open_error());
  if (auto fault = quick_check(window.db())) {
    std::string what = fault->what;
    if (!window.read_error().empty()) what += " (reading the payload failed: " + window.read_error() + ")";
    return store_problem(at + fault->offset, what);
  }
  return check_schema(window.db(), at);
}

}  // namespace etcdlab::server
