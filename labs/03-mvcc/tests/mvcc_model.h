#pragma once
// A tiny model of the MVCC store for the differential tests: it keeps the whole key space after
// every revision (a map per revision), so every rule is a few obvious lines. It is slow and
// uses a lot of memory, and that is fine for a few hundred revisions.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "etcdlab/mvcc/store.h"

namespace etcdlab::lab3 {

using namespace etcdlab::mvcc;

class Model {
 public:
  using State = std::map<std::string, KeyValue>;

  int64_t revision() const { return static_cast<int64_t>(states_.size()); }
  int64_t compact_revision() const { return compact_; }
  const State& at(int64_t revision) const { return states_[static_cast<size_t>(revision - 1)]; }
  int64_t key_count() const { return static_cast<int64_t>(states_.back().size()); }

  // The range rules written out plainly (independently of KeyRange::contains).
  static bool in_range(const KeyRange& r, const std::string& k) {
    if (r.range_end.empty()) return k == r.key;
    if (k < r.key) return false;
    return r.range_end == std::string(1, '\0') || k < r.range_end;
  }

  static RangeResult range_of(const State& state, const KeyRange& r, const RangeOptions& o,
                              int64_t current) {
    RangeResult out;
    out.revision = current;
    std::vector<KeyValue> kvs;
    for (const auto& [k, v] : state) {
      if (in_range(r, k)) kvs.push_back(v);
    }
    out.count = static_cast<int64_t>(kvs.size());
    if (o.count_only) return out;
    std::erase_if(kvs, [&](const KeyValue& v) {
      return (o.max_mod_revision && v.mod_revision > o.max_mod_revision) ||
             (o.min_mod_revision && v.mod_revision < o.min_mod_revision) ||
             (o.max_create_revision && v.create_revision > o.max_create_revision) ||
             (o.min_create_revision && v.create_revision < o.min_create_revision);
    });
    // etcd fetches limit + 1 keys in key order when neither a sort nor a filter was asked for.
    bool fetch_all = o.sort_order != SortOrder::kNone || o.max_mod_revision || o.min_mod_revision ||
                     o.max_create_revision || o.min_create_revision;
    if (!fetch_all && o.limit > 0 && static_cast<int64_t>(kvs.size()) > o.limit + 1) {
      kvs.resize(static_cast<size_t>(o.limit + 1));
    }
    SortOrder order = o.sort_order;
    if (order == SortOrder::kNone && o.sort_target != SortTarget::kKey) order = SortOrder::kAscend;
    if (order != SortOrder::kNone) {
      auto less = [&](const KeyValue& a, const KeyValue& b) {
        switch (o.sort_target) {
          case SortTarget::kKey:
            return a.key < b.key;
          case SortTarget::kVersion:
            return a.version < b.version;
          case SortTarget::kCreate:
            return a.create_revision < b.create_revision;
          case SortTarget::kMod:
            return a.mod_revision < b.mod_revision;
          case SortTarget::kValue:
            return a.value < b.value;
        }
        return false;
      };
      if (order == SortOrder::kAscend) {
        std::stable_sort(kvs.begin(), kvs.end(), less);
      } else {
        std::stable_sort(kvs.begin(), kvs.end(),
                         [&](const KeyValue& a, const KeyValue& b) { return less(b, a); });
      }
    }
    if (o.limit > 0 && static_cast<int64_t>(kvs.size()) > o.limit) {
      kvs.resize(static_cast<size_t>(o.limit));
      out.more = true;
    }
    if (o.keys_only) {
      for (auto& v : kvs) v.value.clear();
    }
    out.kvs = std::move(kvs);
    return out;
  }

  void check_revision(int64_t at, int64_t current) const {
    if (at > current) throw MvccError(MvccError::Code::kFutureRevision);
    if (at < compact_) throw MvccError(MvccError::Code::kCompacted);
  }

  RangeResult range(const KeyRange& r, const RangeOptions& o) const {
    if (r.key.empty()) throw MvccError(MvccError::Code::kEmptyKey);
    int64_t at = o.revision > 0 ? o.revision : revision();
    check_revision(at, revision());
    return range_of(this->at(at), r, o, revision());
  }

  class Write {
   public:
    explicit Write(Model& m) : m_(m), main_(m.revision() + 1), working_(m.states_.back()) {}

    RangeResult range(const KeyRange& r, const RangeOptions& o) const {
      if (r.key.empty()) throw MvccError(MvccError::Code::kEmptyKey);
      int64_t current = events_.empty() ? m_.revision() : main_;
      int64_t at = o.revision > 0 ? o.revision : current;
      m_.check_revision(at, current);
      return range_of(at == main_ ? working_ : m_.at(at), r, o, current);
    }

    PutResult put(const std::string& k, const std::string& value, int64_t lease,
                  const PutOptions& o) {
      if (k.empty()) throw MvccError(MvccError::Code::kEmptyKey);
      if (o.ignore_value && !value.empty()) throw MvccError(MvccError::Code::kValueProvided);
      if (o.ignore_lease && lease != 0) throw MvccError(MvccError::Code::kLeaseProvided);
      auto it = working_.find(k);
      bool exists = it != working_.end();
      if ((o.ignore_value || o.ignore_lease) && !exists) {
        throw MvccError(MvccError::Code::kKeyNotFound);
      }
      PutResult out;
      out.revision = main_;
      KeyValue v{k, main_, main_, 1, value, lease};
      if (exists) {
        if (o.prev_kv) out.prev_kv = it->second;
        v.create_revision = it->second.create_revision;
        v.version = it->second.version + 1;
        if (o.ignore_value) v.value = it->second.value;
        if (o.ignore_lease) v.lease = it->second.lease;
      }
      working_[k] = v;
      events_.push_back(Event{Event::Type::kPut, v, std::nullopt});
      return out;
    }

    DeleteResult delete_range(const KeyRange& r, bool prev_kv) {
      if (r.key.empty()) throw MvccError(MvccError::Code::kEmptyKey);
      DeleteResult out;
      for (auto it = working_.begin(); it != working_.end();) {
        if (!in_range(r, it->first)) {
          ++it;
          continue;
        }
        out.deleted++;
        if (prev_kv) out.prev_kvs.push_back(it->second);
        events_.push_back(
            Event{Event::Type::kDelete, KeyValue{it->first, 0, main_, 0, "", 0}, std::nullopt});
        it = working_.erase(it);
      }
      out.revision = events_.empty() ? m_.revision() : main_;
      return out;
    }

    // What the store's Write::end() returns: the events with the keys as they were before.
    std::vector<Event> end() {
      if (events_.empty()) return {};
      std::vector<Event> out = events_;
      const State& before = m_.states_.back();
      for (Event& e : out) {
        auto it = before.find(e.kv.key);
        if (it != before.end()) e.prev_kv = it->second;
      }
      m_.states_.push_back(working_);
      m_.events_.push_back(events_);
      return out;
    }

   private:
    Model& m_;
    int64_t main_;
    State working_;
    std::vector<Event> events_;
  };

  PutResult put(const std::string& k, const std::string& value, int64_t lease = 0,
                const PutOptions& o = {}) {
    Write w(*this);
    PutResult r = w.put(k, value, lease, o);
    w.end();
    return r;
  }

  DeleteResult delete_range(const KeyRange& r, bool prev_kv = false) {
    Write w(*this);
    DeleteResult out = w.delete_range(r, prev_kv);
    w.end();
    return out;
  }

  void compact(int64_t rev) {
    if (rev <= compact_) throw MvccError(MvccError::Code::kCompacted);
    if (rev > revision()) throw MvccError(MvccError::Code::kFutureRevision);
    compact_ = rev;
  }

  // Every event of the revisions [from, revision()] on `r`. At the compact revision C only the
  // puts a read at C still sees remain (a delete at C, or a put overwritten within C, is gone).
  std::vector<Event> events_since(int64_t from, const KeyRange& r, bool prev_kv) const {
    from = std::max<int64_t>(from, 1);
    if (from < compact_) throw MvccError(MvccError::Code::kCompacted);
    std::vector<Event> out;
    for (int64_t rev = std::max<int64_t>(from, 2); rev <= revision(); ++rev) {
      for (const Event& e : events_[static_cast<size_t>(rev - 2)]) {
        if (!in_range(r, e.kv.key)) continue;
        if (rev <= compact_) {
          auto it = at(compact_).find(e.kv.key);
          if (e.type != Event::Type::kPut || it == at(compact_).end() || !(it->second == e.kv)) {
            continue;
          }
        }
        Event copy = e;
        if (prev_kv && rev - 1 >= compact_) {
          auto it = at(rev - 1).find(e.kv.key);
          if (it != at(rev - 1).end()) copy.prev_kv = it->second;
        }
        out.push_back(std::move(copy));
      }
    }
    return out;
  }

 private:
  std::vector<State> states_{State{}};      // states_[r - 1]: the store at revision r
  std::vector<std::vector<Event>> events_;  // events_[r - 2]: what revision r did
  int64_t compact_ = 0;
};

}  // namespace etcdlab::lab3
