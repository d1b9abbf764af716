#pragma once
// The keys a user may read or write, as merged intervals (etcd's unifiedRangePermissions):
// the union of the permissions of all of a user's roles, one set for READ and one for WRITE
// (a READWRITE permission goes into both). A request is permitted when the interval it names
// lies inside the union: a single key is the interval [key, key + "\0"); a range_end of "\0"
// runs to the end of the key space. So [a, m) from one role and [m, z) from another permit a
// range over [c, p), which neither role permits alone.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth_types.h"

namespace etcdlab::server::auth {

class KeyIntervals {
 public:
  // Adds a permission's keys: one key (range_end empty), [key, range_end), or from key on
  // (range_end "\0"). An empty interval ([b, a) with a <= b) adds nothing.
  void add(std::string_view key, std::string_view range_end);
  // Whether every key of the request's range (same conventions) is inside the set.
  bool contains(std::string_view key, std::string_view range_end) const;
  bool empty() const { return intervals_.empty(); }

  struct Interval {
    std::string begin;
    std::optional<std::string> end;  // nullopt: to the end of the key space
    friend bool operator==(const Interval&, const Interval&) = default;
  };
  const std::vector<Interval>& intervals() const { return intervals_; }  // sorted, disjoint

 private:
  std::vector<Interval> intervals_;
};

struct UserPermissions {
  KeyIntervals read;
  KeyIntervals write;
};

// The merged permissions of `roles` (unknown role names add nothing).
template <typename RoleLookup>
UserPermissions merge_permissions(const std::vector<std::string>& roles, RoleLookup&& find_role) {
  UserPermissions out;
  for (const std::string& name : roles) {
    const Role* role = find_role(name);
    if (role == nullptr) continue;
    for (const Permission& p : role->perms) {
      if (p.type != PermType::kWrite) out.read.add(p.key, p.range_end);
      if (p.type != PermType::kRead) out.write.add(p.key, p.range_end);
    }
  }
  return out;
}

}  // namespace etcdlab::server::auth
