#include "auth_table.h"

#include <stdexcept>

#include "etcdlab/codec.h"
#include "etcdlab/sqlite/database.h"

namespace etcdlab::server::auth {
namespace {

std::string encode_roles(const std::vector<std::string>& roles) {
  std::string out;
  Writer w(out);
  w.u64(roles.size());
  for (const auto& r : roles) w.bytes(r);
  return out;
}

std::vector<std::string> decode_roles(std::string_view data) {
  Reader r(data);
  std::vector<std::string> out;
  uint64_t n = r.count("auth_user.roles", 1);
  for (uint64_t i = 0; i < n; ++i) out.push_back(r.bytes("auth_user.role"));
  r.expect_done("auth_user.roles");
  return out;
}

std::string encode_perms(const std::vector<Permission>& perms) {
  std::string out;
  Writer w(out);
  w.u64(perms.size());
  for (const auto& p : perms) {
    w.u64(static_cast<uint64_t>(p.type));
    w.bytes(p.key);
    w.bytes(p.range_end);
  }
  return out;
}

std::vector<Permission> decode_perms(std::string_view data) {
  Reader r(data);
  std::vector<Permission> out;
  uint64_t n = r.count("auth_role.perms", 3);
  for (uint64_t i = 0; i < n; ++i) {
    Permission p;
    uint64_t type = r.u64("auth_role.perm_type");
    if (type > static_cast<uint64_t>(PermType::kReadWrite)) {
      throw DecodeError("auth_role: unknown permission type", r.offset());
    }
    p.type = static_cast<PermType>(type);
    p.key = r.bytes("auth_role.perm_key");
    p.range_end = r.bytes("auth_role.perm_range_end");
    out.push_back(std::move(p));
  }
  r.expect_done("auth_role.perms");
  return out;
}

}  // namespace

void SqliteAuthTable::put_meta(bool enabled, uint64_t revision) {
  meta_ = std::make_pair(enabled, revision);
}

void SqliteAuthTable::attached(sqlite::Database& db) {
  db.execute(
      "CREATE TABLE IF NOT EXISTS auth_user (name BLOB PRIMARY KEY, hash BLOB NOT NULL, "
      "roles BLOB NOT NULL) WITHOUT ROWID");
  db.execute(
      "CREATE TABLE IF NOT EXISTS auth_role (name BLOB PRIMARY KEY, perms BLOB NOT NULL) "
      "WITHOUT ROWID");
  db.execute(
      "CREATE TABLE IF NOT EXISTS auth_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) "
      "WITHOUT ROWID");
  read(db);
}

void SqliteAuthTable::restored(sqlite::Database& db) {
  // The whole database was replaced (a leader's snapshot): what was noted belonged to the
  // state it replaced. (A database from before auth existed has no tables yet.)
  users_.clear();
  roles_.clear();
  meta_.reset();
  attached(db);
}

void SqliteAuthTable::read(sqlite::Database& db) {
  committed_ = AuthState{};
  {
    auto q = db.query("SELECT name, hash, roles FROM auth_user ORDER BY name");
    while (q.step()) {
      User u;
      u.name = std::string(q.column_blob(0));
      u.hash = std::string(q.column_blob(1));
      u.roles = decode_roles(q.column_blob(2));
      committed_.users[u.name] = std::move(u);
    }
  }
  {
    auto q = db.query("SELECT name, perms FROM auth_role ORDER BY name");
    while (q.step()) {
      Role r;
      r.name = std::string(q.column_blob(0));
      r.perms = decode_perms(q.column_blob(1));
      committed_.roles[r.name] = std::move(r);
    }
  }
  {
    auto q = db.query("SELECT name, value FROM auth_meta");
    while (q.step()) {
      std::string_view name = q.column_blob(0);
      if (name == "enabled") committed_.enabled = q.column_int(1) != 0;
      if (name == "revision") committed_.revision = static_cast<uint64_t>(q.column_int(1));
    }
  }
  attached_ = true;
}

void SqliteAuthTable::flush(sqlite::Database& db) {
  for (const auto& [name, user] : users_) {
    if (user) {
      auto q = db.query("INSERT OR REPLACE INTO auth_user (name, hash, roles) VALUES (?1, ?2, ?3)");
      q.bind_blob(1, name);
      q.bind_blob(2, user->hash);
      q.bind_blob(3, encode_roles(user->roles));
      q.run();
      committed_.users[name] = *user;
    } else {
      auto q = db.query("DELETE FROM auth_user WHERE name = ?1");
      q.bind_blob(1, name);
      q.run();
      committed_.users.erase(name);
    }
  }
  for (const auto& [name, role] : roles_) {
    if (role) {
      auto q = db.query("INSERT OR REPLACE INTO auth_role (name, perms) VALUES (?1, ?2)");
      q.bind_blob(1, name);
      q.bind_blob(2, encode_perms(role->perms));
      q.run();
      committed_.roles[name] = *role;
    } else {
      auto q = db.query("DELETE FROM auth_role WHERE name = ?1");
      q.bind_blob(1, name);
      q.run();
      committed_.roles.erase(name);
    }
  }
  if (meta_) {
    auto put = [&](std::string_view name, int64_t value) {
      auto q = db.query("INSERT OR REPLACE INTO auth_meta (name, value) VALUES (?1, ?2)");
      q.bind_text(1, name);
      q.bind_int(2, value);
      q.run();
    };
    put("enabled", meta_->first ? 1 : 0);
    put("revision", static_cast<int64_t>(meta_->second));
    committed_.enabled = meta_->first;
    committed_.revision = meta_->second;
  }
  users_.clear();
  roles_.clear();
  meta_.reset();
}

AuthState SqliteAuthTable::load() const {
  if (!attached_) throw std::logic_error("auth table: not attached to a database");
  AuthState out = committed_;
  for (const auto& [name, user] : users_) {
    if (user) {
      out.users[name] = *user;
    } else {
      out.users.erase(name);
    }
  }
  for (const auto& [name, role] : roles_) {
    if (role) {
      out.roles[name] = *role;
    } else {
      out.roles.erase(name);
    }
  }
  if (meta_) {
    out.enabled = meta_->first;
    out.revision = meta_->second;
  }
  return out;
}

}  // namespace etcdlab::server::auth
