// Lab 4, part A: the lessor. lessor.h, errors.h and etcdlab/lease/lease_table.h are the
// specification; the handout (labs/04-lease-watch/README.md, part A) walks through it. Split
// the work into files as it grows: anything matching src/lease/*.cc is built.
#include "etcdlab/lease/lessor.h"

#include "todo.h"

namespace etcdlab::lease {

// Your state goes here. A hint: the leases by id (each: its granted TTL, its keys, when its
// time is up on the primary), which lease each key has, the tick count, whether this member is
// the primary, and the LeaseTable to write through.
struct Lessor::Impl {};

Lessor::Lessor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Lessor::~Lessor() = default;

std::unique_ptr<Lessor> Lessor::open(const LessorConfig& /*config*/, LeaseTable& /*table*/,
                                     const mvcc::KvStore& /*store*/) {
  todo('A', "Lessor::open (the leases from the table, their keys from the store)");
}

LeaseInfo Lessor::grant(LeaseId /*id*/, int64_t /*ttl*/) { todo('A', "Lessor::grant"); }

int64_t Lessor::revoke(LeaseId /*id*/, mvcc::KvStore& /*store*/) {
  todo('A', "Lessor::revoke (every key in one write)");
}

void Lessor::attach(std::string_view /*key*/, LeaseId /*lease*/) { todo('A', "Lessor::attach"); }

void Lessor::detach(std::string_view /*key*/) { todo('A', "Lessor::detach"); }

bool Lessor::exists(LeaseId /*id*/) const { todo('A', "Lessor::exists"); }

void Lessor::tick() { todo('A', "Lessor::tick (the clock)"); }

void Lessor::promote(int64_t /*extend_ticks*/) { todo('A', "Lessor::promote (the clock)"); }

void Lessor::demote() { todo('A', "Lessor::demote (the clock)"); }

bool Lessor::primary() const { todo('A', "Lessor::primary (the clock)"); }

int64_t Lessor::renew(LeaseId /*id*/) { todo('A', "Lessor::renew (the clock)"); }

std::vector<LeaseId> Lessor::expired() { todo('A', "Lessor::expired (the clock)"); }

std::optional<LeaseInfo> Lessor::info(LeaseId /*id*/, bool /*with_keys*/) const {
  todo('A', "Lessor::info");
}

std::vector<LeaseId> Lessor::leases() const { todo('A', "Lessor::leases"); }

LeaseId Lessor::lease_of(std::string_view /*key*/) const { todo('A', "Lessor::lease_of"); }

}  // namespace etcdlab::lease
