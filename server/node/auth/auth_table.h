#pragma once
// Where the replicated auth state is kept across restarts and snapshots. SqliteAuthTable keeps
// it in tables of the MVCC store's own database, beside the lease table:
//
//   CREATE TABLE auth_user (name BLOB PRIMARY KEY, hash BLOB NOT NULL, roles BLOB NOT NULL)
//   CREATE TABLE auth_role (name BLOB PRIMARY KEY, perms BLOB NOT NULL)
//   CREATE TABLE auth_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)  -- enabled, revision
//
// (roles: u64 count then bytes each; perms: u64 count then per permission u64 type, bytes
// key, bytes range_end — etcdlab/codec.h). As the lease table, it only notes changes, and the
// SQLite wrapper flushes them inside the transaction that commits the store's batch with its
// consistent index (etcdlab/sqlite/companion.h): after a crash the auth state and the keys are
// at the same log entry, and a node snapshot (a copy of that database) carries the auth state
// with no change to the snapshot's format. MemoryAuthTable is the in-memory twin for tests.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "auth_types.h"
#include "etcdlab/sqlite/companion.h"

namespace etcdlab::server::auth {

// The whole replicated auth state. A new store's revision is 1 (etcd's).
struct AuthState {
  bool enabled = false;
  uint64_t revision = 1;
  std::map<std::string, User> users;
  std::map<std::string, Role> roles;
  friend bool operator==(const AuthState&, const AuthState&) = default;
};

class AuthTable {
 public:
  virtual ~AuthTable() = default;
  virtual AuthState load() const = 0;
  virtual void put_user(const User& user) = 0;  // inserts or replaces
  virtual void remove_user(const std::string& name) = 0;
  virtual void put_role(const Role& role) = 0;
  virtual void remove_role(const std::string& name) = 0;
  virtual void put_meta(bool enabled, uint64_t revision) = 0;
};

class MemoryAuthTable final : public AuthTable {
 public:
  AuthState load() const override { return state_; }
  void put_user(const User& user) override { state_.users[user.name] = user; }
  void remove_user(const std::string& name) override { state_.users.erase(name); }
  void put_role(const Role& role) override { state_.roles[role.name] = role; }
  void remove_role(const std::string& name) override { state_.roles.erase(name); }
  void put_meta(bool enabled, uint64_t revision) override {
    state_.enabled = enabled;
    state_.revision = revision;
  }

 private:
  AuthState state_;
};

class SqliteAuthTable final : public AuthTable, public sqlite::Companion {
 public:
  AuthState load() const override;  // as committed, with the changes noted since
  void put_user(const User& user) override { users_[user.name] = user; }
  void remove_user(const std::string& name) override { users_[name] = std::nullopt; }
  void put_role(const Role& role) override { roles_[role.name] = role; }
  void remove_role(const std::string& name) override { roles_[name] = std::nullopt; }
  void put_meta(bool enabled, uint64_t revision) override;

  // sqlite::Companion
  void attached(sqlite::Database& db) override;
  void flush(sqlite::Database& db) override;
  void restored(sqlite::Database& db) override;

 private:
  void read(sqlite::Database& db);

  AuthState committed_;  // as read when attached / restored, kept up to date by flush()
  bool attached_ = false;
  std::map<std::string, std::optional<User>> users_;  // noted changes (nullopt: removed)
  std::map<std::string, std::optional<Role>> roles_;
  std::optional<std::pair<bool, uint64_t>> meta_;
};

}  // namespace etcdlab::server::auth
