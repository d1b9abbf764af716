// KvStateMachine (server/node/state_machine.h): what every member does with committed entries.
// Each test feeds entries as a driver would and checks the results, the store and the members.
#include "../node/state_machine.h"

#include <gtest/gtest.h>

#include "etcdlab/codec.h"
#include "etcdlab/errors.h"

namespace etcdlab::server {
namespace {

using mvcc::MvccError;

Entry request_entry(uint64_t index, uint64_t id, const Request& r, uint64_t term = 2) {
  return Entry{index, term, EntryType::kNormal, encode_request(id, r)};
}

Entry conf_entry(uint64_t index, ConfChange::Type type, NodeId node, std::string context = "") {
  return Entry{index, 1, EntryType::kConfChange, encode_value(ConfChange{type, node, context})};
}

std::string member_context(NodeId id, std::string name, std::vector<std::string> peer_urls) {
  return encode_member_context(Member{id, std::move(name), std::move(peer_urls), {}, false});
}

PutRequest put(std::string key, std::string value) {
  return PutRequest{std::move(key), std::move(value), 0, {}};
}

std::unique_ptr<KvStateMachine> fresh(std::vector<Member> members = {},
                                      int64_t compaction_batch = 1000) {
  mvcc::StoreOptions o;
  o.compaction_batch = compaction_batch;
  return std::make_unique<KvStateMachine>(mvcc::KvStore::open(o), members);
}

// One line per member, so a mismatch prints both lists readably.
std::string describe(const std::vector<Member>& members) {
  std::string out;
  for (const Member& m : members) {
    out += std::to_string(m.id) + " name=" + m.name + " peers=[";
    for (const auto& u : m.peer_urls) out += u + " ";
    out += "] clients=[";
    for (const auto& u : m.client_urls) out += u + " ";
    out += std::string("]") + (m.learner ? " learner" : "") + "\n";
  }
  return out;
}

std::string value_of(const mvcc::KvStore& store, const std::string& key) {
  auto r = store.range({key, ""});
  return r.kvs.empty() ? "(none)" : r.kvs[0].value;
}

// The node snapshot of `sm`, as one string, and a reader over any string.
std::string snapshot_of(KvStateMachine& sm) {
  std::string out;
  sm.write_snapshot([&](std::string_view chunk) { out.append(chunk); });
  return out;
}

std::function<std::string(uint64_t, uint64_t)> reader_of(const std::string& bytes) {
  return [&bytes](uint64_t offset, uint64_t length) {
    if (offset >= bytes.size()) return std::string();
    return bytes.substr(offset, length);
  };
}

// A "restart" over a durable store: the store survives (a copy made through its own snapshot,
// consistent index included); the member list is whatever the node is started with.
std::unique_ptr<KvStateMachine> restart(const KvStateMachine& sm) {
  std::string db;
  sm.store().snapshot([&](std::string_view chunk) { db.append(chunk); });
  auto store = mvcc::KvStore::open({});
  bool given = false;
  store->restore([&] {
    if (given) return std::string();
    given = true;
    return db;
  });
  return std::make_unique<KvStateMachine>(std::move(store), std::vector<Member>{});
}

const auto kNoCallback = [](const ConfChange&, uint64_t) {};

}  // namespace

TEST(KvStateMachine, PutsDeletesAndCompactionsGiveTheStoresResultsAndRevisions) {
  auto sm = fresh();
  PutRequest again = put("a", "3");
  again.options.prev_kv = true;
  auto applied = sm->apply({request_entry(1, 101, put("a", "1")),
                            request_entry(2, 102, put("b", "2")),
                            request_entry(3, 103, again),
                            request_entry(4, 104, DeleteRangeRequest{{"a", ""}, true}),
                            request_entry(5, 105, DeleteRangeRequest{{"zzz", ""}, false}),
                            request_entry(6, 106, CompactionRequest{3, false}),
                            request_entry(7, 107, CompactionRequest{3, false}),
                            request_entry(8, 108, CompactionRequest{99, false}),
                            request_entry(9, 109, put("", "no key"))},
                           kNoCallback);
  ASSERT_EQ(applied.size(), 9u);
  for (size_t i = 0; i < applied.size(); ++i) EXPECT_EQ(applied[i].id, 101 + i) << "entry " << i;

  // Revisions: 1 when empty, +1 per put, +1 for a delete that deletes; nothing else moves it.
  const int64_t want_revision[] = {2, 3, 4, 5, 5, 5, 5, 5, 5};
  for (size_t i = 0; i < applied.size(); ++i) {
    EXPECT_EQ(applied[i].result.revision, want_revision[i]) << "entry " << i + 1;
  }
  EXPECT_EQ(std::get<mvcc::PutResult>(applied[0].result.value).revision, 2);
  const auto& replaced = std::get<mvcc::PutResult>(applied[2].result.value);
  ASSERT_TRUE(replaced.prev_kv.has_value());
  EXPECT_EQ(replaced.prev_kv->value, "1");
  EXPECT_EQ(replaced.prev_kv->mod_revision, 2);

  const auto& deleted = std::get<mvcc::DeleteResult>(applied[3].result.value);
  EXPECT_EQ(deleted.deleted, 1);
  ASSERT_EQ(deleted.prev_kvs.size(), 1u);
  EXPECT_EQ(deleted.prev_kvs[0].value, "3");
  EXPECT_EQ(std::get<mvcc::DeleteResult>(applied[4].result.value).deleted, 0);

  EXPECT_TRUE(applied[5].result.ok());
  EXPECT_TRUE(std::holds_alternative<CompactionResult>(applied[5].result.value));
  EXPECT_EQ(applied[6].result.store_error, MvccError::Code::kCompacted) << "the same revision again";
  EXPECT_EQ(applied[7].result.store_error, MvccError::Code::kFutureRevision);
  EXPECT_EQ(applied[8].result.store_error, MvccError::Code::kEmptyKey);

  EXPECT_EQ(sm->consistent_index(), 9u);
  EXPECT_EQ(sm->store().revision(), 5);
  EXPECT_EQ(sm->store().compact_revision(), 3);
  EXPECT_EQ(value_of(sm->store(), "a"), "(none)");
  EXPECT_EQ(value_of(sm->store(), "b"), "2");
}

TEST(KvStateMachine, LeasePutIsRefusedAndChangesNothing) {
  auto sm = fresh();
  PutRequest leased = put("k", "v");
  leased.lease = 0x1234;
  auto applied = sm->apply({request_entry(1, 1, leased)}, kNoCallback);
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0].result.lease_error, lease::LeaseError::Code::kNotFound);
  EXPECT_FALSE(applied[0].result.ok());
  EXPECT_EQ(applied[0].result.revision, 1);
  EXPECT_EQ(sm->store().key_count(), 0);
}

TEST(KvStateMachine, ApplyRequestWorksOutsideTheLog) {
  auto sm = fresh();
  Result r = sm->apply_request(put("x", "y"));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.revision, 2);
  Result a = sm->apply_request(AttributesRequest{1, "n", {}});
  EXPECT_TRUE(std::holds_alternative<AttributesResult>(a.value));
  EXPECT_EQ(a.revision, 2);
}

TEST(KvStateMachine, NewLeadersEmptyEntryIsSkippedButMovesTheIndex) {
  auto sm = fresh();
  auto applied = sm->apply({Entry{1, 2, EntryType::kNormal, ""}}, kNoCallback);
  EXPECT_TRUE(applied.empty());
  EXPECT_EQ(sm->store().revision(), 1);
  EXPECT_EQ(sm->consistent_index(), 1u);
}

TEST(KvStateMachine, ReDeliveredEntriesAreSkipped) {
  auto sm = fresh();
  std::vector<Entry> first = {request_entry(1, 1, put("a", "1")),
                              request_entry(2, 2, put("a", "2")),
                              request_entry(3, 3, DeleteRangeRequest{{"a", ""}, false})};
  ASSERT_EQ(sm->apply(first, kNoCallback).size(), 3u);
  uint32_t hash = sm->store().hash_kv(0);
  EXPECT_EQ(sm->store().revision(), 4);

  // The same entries again (a restart re-delivers from the snapshot on): nothing happens.
  EXPECT_TRUE(sm->apply(first, kNoCallback).empty());
  EXPECT_EQ(sm->store().revision(), 4);
  EXPECT_EQ(sm->store().hash_kv(0), hash);
  EXPECT_EQ(sm->consistent_index(), 3u) << "re-delivery must not move the index back or on";

  // Overlapping delivery: only the new entry is applied.
  std::vector<Entry> overlap = {first[1], first[2], request_entry(4, 4, put("b", "1"))};
  auto applied = sm->apply(overlap, kNoCallback);
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0].id, 4u);
  EXPECT_EQ(applied[0].result.revision, 5);
  EXPECT_EQ(sm->consistent_index(), 4u);
}

TEST(KvStateMachine, RestartReappliesConfChangesButNotRequests) {
  auto sm = fresh();
  std::vector<Entry> log = {
      conf_entry(1, ConfChange::Type::kAddVoter, 1, member_context(1, "n1", {"http://a:2380"})),
      request_entry(2, 7, put("k", "v")),
      conf_entry(3, ConfChange::Type::kAddLearner, 2, member_context(2, "n2", {"http://b:2380"}))};
  sm->apply(log, kNoCallback);
  int64_t revision = sm->store().revision();

  auto again = restart(*sm);
  ASSERT_EQ(again->consistent_index(), 3u);
  EXPECT_TRUE(again->members().empty()) << "the member list lives in memory";
  std::vector<ConfChange> seen;
  auto applied = again->apply(log, [&](const ConfChange& cc, uint64_t) { seen.push_back(cc); });
  EXPECT_TRUE(applied.empty()) << "the put is already in the store";
  EXPECT_EQ(again->store().revision(), revision);
  ASSERT_EQ(seen.size(), 2u) << "conf changes are handed to Raft again";
  EXPECT_EQ(seen[0].node_id, 1u);
  EXPECT_EQ(seen[1].type, ConfChange::Type::kAddLearner);
  EXPECT_EQ(describe(again->members()), describe(sm->members()));
}

TEST(KvStateMachine, ConfChangesBuildTheMemberList) {
  auto sm = fresh();
  sm->apply({conf_entry(1, ConfChange::Type::kAddVoter, 1, member_context(1, "n1", {"http://a:1"})),
             conf_entry(2, ConfChange::Type::kAddLearner, 2, member_context(2, "", {"http://b:1"})),
             conf_entry(3, ConfChange::Type::kAddVoter, 3)},
            kNoCallback);
  EXPECT_EQ(describe(sm->members()),
            "1 name=n1 peers=[http://a:1 ] clients=[]\n"
            "2 name= peers=[http://b:1 ] clients=[] learner\n"
            "3 name= peers=[] clients=[]\n");

  // Promote 2; update 1's peer URLs (its name stays); remove 3.
  sm->apply({conf_entry(4, ConfChange::Type::kAddVoter, 2),
             conf_entry(5, ConfChange::Type::kUpdateNode, 1, member_context(1, "", {"http://a:2"})),
             conf_entry(6, ConfChange::Type::kRemoveNode, 3)},
            kNoCallback);
  EXPECT_EQ(describe(sm->members()),
            "1 name=n1 peers=[http://a:2 ] clients=[]\n"
            "2 name= peers=[http://b:1 ] clients=[]\n");
}

TEST(KvStateMachine, AttributesFillAMembersNameAndClientUrls) {
  auto sm = fresh();
  sm->apply({conf_entry(1, ConfChange::Type::kAddVoter, 1, member_context(1, "", {"http://a:2380"}))},
            kNoCallback);
  AttributesRequest a{1, "infra1", {"http://a:2379", "http://a:22379"}};
  auto applied = sm->apply({request_entry(2, 55, a)}, kNoCallback);
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0].id, 55u);
  EXPECT_TRUE(applied[0].result.ok());
  EXPECT_TRUE(std::holds_alternative<AttributesResult>(applied[0].result.value));
  EXPECT_EQ(applied[0].result.revision, 1) << "publishing is not a store write";
  EXPECT_EQ(sm->store().revision(), 1);
  EXPECT_EQ(describe(sm->members()),
            "1 name=infra1 peers=[http://a:2380 ] clients=[http://a:2379 http://a:22379 ]\n");

  // A later peer-URL update keeps what the member published.
  sm->apply({conf_entry(3, ConfChange::Type::kUpdateNode, 1, member_context(1, "", {"http://a:9"}))},
            kNoCallback);
  EXPECT_EQ(describe(sm->members()),
            "1 name=infra1 peers=[http://a:9 ] clients=[http://a:2379 http://a:22379 ]\n");
}

// A restarted member re-applies its log over a store that already holds it; the member list must
// come back whole, names and client URLs (what member/list serves) included.
TEST(KvStateMachine, RestartKeepsPublishedAttributes) {
  auto sm = fresh();
  std::vector<Entry> log = {
      conf_entry(1, ConfChange::Type::kAddVoter, 1, member_context(1, "", {"http://a:2380"})),
      request_entry(2, 9, AttributesRequest{1, "infra1", {"http://a:2379"}})};
  sm->apply(log, kNoCallback);
  ASSERT_EQ(describe(sm->members()), "1 name=infra1 peers=[http://a:2380 ] clients=[http://a:2379 ]\n");

  auto again = restart(*sm);
  again->apply(log, kNoCallback);
  EXPECT_EQ(describe(again->members()), describe(sm->members()))
      << "the Attributes entry (index 2 <= consistent index 2) was skipped on re-delivery, so "
         "the member's name and client URLs are lost after a restart";
}

TEST(KvStateMachine, SnapshotRestoresKeysRevisionAndMembersIntoAFreshStore) {
  auto sm = fresh();
  sm->apply({conf_entry(1, ConfChange::Type::kAddVoter, 1, member_context(1, "n1", {"http://a:1"})),
             conf_entry(2, ConfChange::Type::kAddLearner, 2, member_context(2, "n2", {"http://b:1"})),
             request_entry(3, 1, AttributesRequest{1, "n1", {"http://a:2379"}}),
             request_entry(4, 2, put("a", "1")), request_entry(5, 3, put("b", "2")),
             request_entry(6, 4, put("a", "3")),
             request_entry(7, 5, DeleteRangeRequest{{"b", ""}, false}),
             request_entry(8, 6, CompactionRequest{3, false})},
            kNoCallback);
  std::string snap = snapshot_of(*sm);

  auto other = fresh({Member{9, "stale", {"http://z:1"}, {}, false}});
  other->apply({request_entry(1, 1, put("junk", "x"))}, kNoCallback);
  other->restore(reader_of(snap), snap.size());

  EXPECT_EQ(other->store().revision(), sm->store().revision());
  EXPECT_EQ(other->store().compact_revision(), 3);
  EXPECT_EQ(other->consistent_index(), 8u);
  EXPECT_EQ(other->store().key_count(), 1);
  EXPECT_EQ(value_of(other->store(), "a"), "3");
  EXPECT_EQ(value_of(other->store(), "junk"), "(none)");
  EXPECT_EQ(other->store().hash_kv(0), sm->store().hash_kv(0));
  EXPECT_EQ(describe(other->members()), describe(sm->members()));
  EXPECT_TRUE(other->compaction_pending()) << "a restored store may hold unfinished compaction";

  // And it goes on from there like the original.
  std::vector<Entry> next = {request_entry(9, 7, put("c", "4"))};
  EXPECT_EQ(other->apply(next, kNoCallback)[0].result.revision,
            sm->apply(next, kNoCallback)[0].result.revision);
}

TEST(KvStateMachine, DamagedSnapshotHeaderIsADecodeErrorAndChangesNothing) {
  auto source = fresh();
  source->apply({conf_entry(1, ConfChange::Type::kAddVoter, 1, member_context(1, "n1", {"u"})),
                 request_entry(2, 1, put("a", "1"))},
                kNoCallback);
  std::string snap = snapshot_of(*source);
  Reader r(snap);
  uint64_t header_len = r.fixed64("length");
  ASSERT_GT(header_len, 1u);
  ASSERT_EQ(snap[8], '\x03') << "the header starts with version 3";

  auto target = fresh();
  target->apply({request_entry(1, 1, put("mine", "1"))}, kNoCallback);
  auto expect_refused = [&](const std::string& bytes, const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_THROW(target->restore(reader_of(bytes), bytes.size()), DecodeError);
    EXPECT_EQ(value_of(target->store(), "mine"), "1") << "a refused snapshot changes nothing";
    EXPECT_TRUE(target->members().empty());
  };
  expect_refused("", "empty");
  expect_refused(snap.substr(0, 5), "length cut");
  expect_refused(snap.substr(0, 8 + header_len - 1), "header cut");
  expect_refused(snap.substr(0, 8 + header_len), "header alone (a file store's own snapshot)");
  std::string liar = snap;
  liar[7] = '\x7f';  // header length ~ 2^62: more than there is
  expect_refused(liar, "header length past the end");
  std::string v4 = snap;
  v4[8] = '\x04';
  expect_refused(v4, "version 4");
  try {
    target->restore(reader_of(v4), v4.size());
  } catch (const DecodeError& e) {
    EXPECT_STREQ(e.what(),
                 "unknown node snapshot version 4 (this build reads versions 2 and 3) (at byte 8)");
  }
}

TEST(KvStateMachine, PhysicalCompactionStepsFinish) {
  auto sm = fresh({}, /*compaction_batch=*/2);
  EXPECT_TRUE(sm->compaction_pending()) << "a fresh start finishes what a crash may have cut";
  EXPECT_TRUE(sm->compaction_step());
  EXPECT_FALSE(sm->compaction_pending());

  std::vector<Entry> puts;
  for (uint64_t i = 1; i <= 20; ++i) {
    puts.push_back(request_entry(i, i, put("k" + std::to_string(i % 3), std::to_string(i))));
  }
  sm->apply(puts, kNoCallback);
  EXPECT_FALSE(sm->compaction_pending());
  auto applied = sm->apply({request_entry(21, 21, CompactionRequest{18, true})}, kNoCallback);
  ASSERT_TRUE(applied[0].result.ok());
  EXPECT_TRUE(sm->compaction_pending());

  int steps = 0;
  while (!sm->compaction_step()) {
    ASSERT_LT(++steps, 100) << "the compaction never finishes";
  }
  EXPECT_GT(steps, 1) << "with a batch of 2 the work takes several steps";
  EXPECT_FALSE(sm->compaction_pending());
  EXPECT_TRUE(sm->compaction_step()) << "nothing left: a step is a no-op that says done";
  EXPECT_THROW(sm->store().range({"k1", ""}, {.revision = 17}), MvccError);
  EXPECT_EQ(sm->store().range({"k2", ""}, {.revision = 18}).kvs.at(0).value, "17")
      << "the compact revision itself stays readable";
  EXPECT_EQ(value_of(sm->store(), "k2"), "20");

  // A failed compaction starts no work.
  sm->apply({request_entry(22, 22, CompactionRequest{5, true})}, kNoCallback);
  EXPECT_FALSE(sm->compaction_pending());
}

}  // namespace etcdlab::server
