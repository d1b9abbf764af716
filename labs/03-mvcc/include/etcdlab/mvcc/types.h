#pragma once
// Lab 3: the values the MVCC store reads and writes, with etcd's meaning
// (../shared/reference/etcd-v3-json-api.md §3-4; etcd's mvccpb).
//
// Revisions. The store's revision is 1 when it is empty. Each write (a put, a delete that
// deletes something, a transaction that writes) takes the next main revision; the operations of
// one write share it and get sub revisions 0, 1, 2... Reads, compaction and writes that change
// nothing do not move it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace etcdlab::mvcc {

struct Revision {
  int64_t main = 0;
  int64_t sub = 0;
  friend auto operator<=>(const Revision&, const Revision&) = default;
};

// One key's version as a reader sees it.
//   create_revision  the main revision of the put that created the key's current generation
//                    (a delete ends a generation; the next put starts one)
//   mod_revision     the main revision of the last change
//   version          1 on create, +1 per put, reset by a delete
struct KeyValue {
  std::string key;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  std::string value;
  int64_t lease = 0;
  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

// What one write did to one key, in the order the write did it (watch sends these). A delete's
// kv holds only the key and the deletion's revision in mod_revision, as etcd's does.
struct Event {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;
  std::optional<KeyValue> prev_kv;  // the key before this write, if it existed
  friend bool operator==(const Event&, const Event&) = default;
};

enum class SortOrder { kNone, kAscend, kDescend };
enum class SortTarget { kKey, kVersion, kCreate, kMod, kValue };

struct RangeOptions {
  int64_t limit = 0;     // at most this many kvs (<= 0: no limit)
  int64_t revision = 0;  // read the store as it was at this revision (<= 0: now)
  SortOrder sort_order = SortOrder::kNone;
  SortTarget sort_target = SortTarget::kKey;
  bool keys_only = false;   // no values
  bool count_only = false;  // no kvs, only count
  int64_t min_mod_revision = 0;  // filters (0: none); count ignores them
  int64_t max_mod_revision = 0;
  int64_t min_create_revision = 0;
  int64_t max_create_revision = 0;
};

struct RangeResult {
  std::vector<KeyValue> kvs;
  bool more = false;   // limit cut the result short
  int64_t count = 0;   // keys in the range, ignoring limit and the filters
  int64_t revision = 0;  // the store's current revision (not the one read at)
};

struct PutOptions {
  bool prev_kv = false;       // return the key as it was before
  bool ignore_value = false;  // keep the current value (the key must exist)
  bool ignore_lease = false;  // keep the current lease (the key must exist)
};

struct PutResult {
  int64_t revision = 0;  // the store's revision after the put
  std::optional<KeyValue> prev_kv;
};

struct DeleteResult {
  int64_t revision = 0;  // the store's revision after the delete
  int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs;  // when asked for
};

// The key range [key, range_end) as etcd defines it: an empty range_end means the single key;
// range_end "\0" means every key >= key; otherwise keys in [key, range_end) bytewise (empty
// if range_end <= key).
struct KeyRange {
  std::string key;
  std::string range_end;
  bool contains(std::string_view k) const;
  bool single() const { return range_end.empty(); }
};

// The range_end that selects every key with this prefix ("aa" -> "ab", "a\xff" -> "b",
// all-0xff or empty -> "\0").
std::string prefix_end(std::string_view prefix);

}  // namespace etcdlab::mvcc
