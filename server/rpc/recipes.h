#pragma once
// etcd's Lock and Election services (v3lockpb, v3electionpb), shared by both doors. Each is a
// client of this member, as etcd's are of theirs (recipe_io.h); every error is gRPC code 2
// (Unknown) with the message, as etcd's services pass their client's errors on.
//
// Lock: lab 5's LockRecipe decides (etcdlab/txn/lock.h); this drives it. Election, as etcd's
// concurrency.Election: a candidate owns the key <name>/<lease in hex> holding its proposal;
// candidates queue by create revision, as the lock's contenders do; the leader is the
// candidate whose key is oldest. campaign waits until every older key is gone; proclaim and
// resign act only while the candidate's key still has the create revision it had (the
// leader's "rev": a fencing token).
//
// Unlike etcd, a waiting lock or campaign does not notice its client leaving: its key stays
// until its lease ends.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "../gateway/service.h"

namespace etcdlab::rpc {

using gateway::KvService;

struct LockResult {
  int64_t revision = 0;  // the header of the last answer, as etcd's Mutex keeps it
  std::string key;       // the lock's key: unlock deletes it
};
// Every call is checked through its inner KV requests with the caller's credentials (a refusal
// is Unknown with the etcdserver: text, as 3.4 answers).
// Waits until the lock `name` is held by a new key under the lease (0: a new 60 s session).
boost::asio::awaitable<LockResult> lock(KvService& s, std::string name, int64_t lease,
                                        const server::Credentials& who);
// Deletes the key (an empty one is refused); returns the revision after.
boost::asio::awaitable<int64_t> unlock(KvService& s, std::string key,
                                       const server::Credentials& who);

// A candidate as the requests name it (etcd's LeaderKey).
struct LeaderKey {
  std::string name;
  std::string key;
  int64_t rev = 0;
  int64_t lease = 0;
};
struct CampaignResult {
  int64_t revision = 0;  // the join's header, as etcd keeps it
  LeaderKey leader;
};
boost::asio::awaitable<CampaignResult> campaign(KvService& s, std::string name, int64_t lease,
                                                std::string value, const server::Credentials& who);
// Proclaim and resign need the leader key (nullopt: etcd's "\"leader\" field must be
// provided"); each returns the revision of its header.
boost::asio::awaitable<int64_t> proclaim(KvService& s, std::optional<LeaderKey> leader,
                                         std::string value, const server::Credentials& who);
boost::asio::awaitable<int64_t> resign(KvService& s, std::optional<LeaderKey> leader,
                                       const server::Credentials& who);
struct LeaderResult {
  int64_t revision = 0;
  mvcc::KeyValue kv;  // the leader's key and proclaimed value
};
// The current leader ("election: no leader" when there is none).
boost::asio::awaitable<LeaderResult> leader(KvService& s, std::string name,
                                            const server::Credentials& who);

// etcd's Election.Observe: finds the leader (or waits for the first candidate), answers it,
// then follows its key: each put is answered, its delete starts the search again.
class Observer {
 public:
  Observer(KvService& s, std::string name, server::Credentials who)
      : s_(s), prefix_(std::move(name) + "/"), who_(std::move(who)) {}
  boost::asio::awaitable<LeaderResult> next();

 private:
  KvService& s_;
  std::string prefix_;
  server::Credentials who_;
  bool following_ = false;
  mvcc::KeyValue leader_;
  int64_t seen_ = 0;  // the revision of the last change answered
};

}  // namespace etcdlab::rpc
