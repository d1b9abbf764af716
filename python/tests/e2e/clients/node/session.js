// A scripted session of the npm etcd3 client (pinned in package.json) against the cluster whose
// client endpoints are given (comma list). Prints one raw JSON line per step, in the format of
// ../recorder.py ("_ids" for ids learned, "_sort" for lists in server order); ../normalize.py
// makes two runs comparable.
//
//     node session.js 127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const { Etcd3 } = require('etcd3');
const { hostsAndCredentials } = require('./tls');

const TIMEOUT_MS = 10000; // per request
const SESSION_MS = 60000; // the whole session

function record(name, fields = {}) {
  process.stdout.write(JSON.stringify({ step: name, ...plain(fields) }) + '\n');
}

// Buffers as text, everything else as the client gave it.
function plain(v) {
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    const out = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = plain(x);
    return out;
  }
  return v;
}

function failure(e) {
  const out = { raised: e.constructor.name, message: e.message };
  if (typeof e.code === 'number') out.code = e.code;
  return out;
}

async function attempt(fn) {
  try {
    return { ok: await fn() };
  } catch (e) {
    return { error: failure(e) };
  }
}

function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Events of a watcher, taken with a deadline.
class Events {
  constructor() {
    this.items = [];
    this.waiters = [];
  }
  push(item) {
    this.items.push(item);
    this.waiters.splice(0).forEach((w) => w());
  }
  async take(n, ms = TIMEOUT_MS) {
    const deadline = Date.now() + ms;
    while (this.items.length < n && Date.now() < deadline) {
      await new Promise((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, Math.max(0, deadline - Date.now()));
      });
    }
    return this.items.splice(0, n);
  }
}

async function watch(client, prefix, startRevision, prevKv) {
  const events = new Events();
  let builder = client.watch().prefix(prefix).startRevision(String(startRevision));
  if (prevKv) builder = builder.withPreviousKV();
  const watcher = await builder.create();
  const event = (type) => (kv, prev) => events.push({
    type, key: kv.key.toString(), value: kv.value.toString(), mod_revision: kv.mod_revision,
    version: kv.version, prev_value: prev ? prev.value.toString() : null,
  });
  watcher.on('put', event('put'));
  watcher.on('delete', event('delete'));
  watcher.on('error', (e) => events.push({ error: failure(e) }));
  return { watcher, events };
}

function kvs(answer) {
  return answer.kvs.map((kv) => ({
    key: kv.key.toString(), value: kv.value.toString(), create_revision: kv.create_revision,
    mod_revision: kv.mod_revision, version: kv.version, lease: kv.lease,
  }));
}

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function session(endpoints, tmp) {
  const client = new Etcd3({ ...hostsAndCredentials(endpoints),
    defaultCallOptions: () => ({ deadline: Date.now() + TIMEOUT_MS }) });
  record('endpoints', { _ids: { endpoint: endpoints } });

  // ---- put / get / delete, prefixes, revisions
  let r = await client.put('a/1').value('v1').exec();
  record('put a/1', { revision: r.header.revision, _ids: { cluster: [r.header.cluster_id] } });
  const revA2 = (await client.put('a/2').value('v2').exec()).header.revision;
  record('put a/2', { revision: revA2 });
  record('put a/3', { revision: (await client.put('a/3').value('v3').exec()).header.revision });
  record('put b', { revision: (await client.put('b').value('x').exec()).header.revision });
  record('get a/1', { value: await client.get('a/1').string() });
  record('get missing', { value: await client.get('nothing-here').string() });
  record('getAll prefix a/', { kvs: kvs(await client.getAll().prefix('a/').exec()) });
  record('getAll prefix a/ keys, descending', {
    keys: await client.getAll().prefix('a/').sort('Key', 'Descend').keys(),
  });
  record('getAll prefix a/ limit 2 count', {
    answer: await (async () => {
      const a = await client.getAll().prefix('a/').limit(2).exec();
      return { count: a.count, more: a.more, kvs: kvs(a) };
    })(),
  });
  record('getAll range a/1 .. a/3', {
    kvs: kvs(await client.getAll().inRange({ start: 'a/1', end: 'a/3' }).exec()),
  });
  record('count prefix a/', { count: await client.getAll().prefix('a/').count() });
  record('put a/2 again getPrevious', {
    prev: plain(await client.put('a/2').value('v2b').getPrevious()),
  });
  record('get a/2 at its first revision', {
    kvs: kvs(await client.get('a/2').revision(revA2).exec()),
  });
  record('get prefix a/ at revision 1 (before any key)', await attempt(
    async () => kvs(await client.getAll().prefix('a/').revision(1).exec())));
  record('delete a/2', { answer: plain(await client.delete().key('a/2').exec()) });
  record('delete missing', { answer: plain(await client.delete().key('nothing-here').exec()) });
  record('delete prefix a/ getPrevious', {
    prev: plain(await client.delete().prefix('a/').getPrevious()),
  });
  record('put an empty key', await attempt(async () => (await client.put('').value('v').exec()).header.revision));

  // ---- transactions
  record('txn success branch', plain(await client.if('b', 'Value', '==', 'x')
    .then(client.put('t/1').value('yes'), client.get('b'))
    .else(client.put('t/1').value('no')).commit()));
  record('txn failure branch', plain(await client.if('b', 'Mod', '>', 1000)
    .then(client.put('t/2').value('yes'))
    .else(client.put('t/2').value('no'), client.get('t/1')).commit()));
  record('txn two compares, a delete', plain(await client.if('t/1', 'Version', '==', 1)
    .and('t/2', 'Create', '>', 0)
    .then(client.delete().key('t/1')).commit()));
  record('txn with duplicate keys', await attempt(() => client.if('b', 'Value', '==', 'x')
    .then(client.put('d').value('1'), client.put('d').value('2')).commit()));

  // ---- watch: live from the next revision, then resumed from a past one
  let now = Number((await client.get('b').exec()).header.revision);
  const live = await watch(client, 'w/', now + 1, false);
  await client.put('w/1').value('one');
  await client.put('w/1').value('two');
  await client.delete().key('w/1');
  record('watch w/ (live)', { events: await live.events.take(3) });
  await live.watcher.cancel();
  const resumed = await watch(client, 'w/', now + 1, true);
  record('watch w/ with previous kv from a past revision', { events: await resumed.events.take(3) });
  await resumed.watcher.cancel();

  // ---- leases
  const lease = client.lease(60, { autoKeepAlive: false });
  const leaseId = await lease.grant();
  const second = client.lease(90, { autoKeepAlive: false });
  const secondId = await second.grant();
  record('lease 60 and lease 90', { _ids: { lease: [leaseId, secondId] }, ids: [leaseId, secondId] });
  await lease.put('l/1').value('x');
  await lease.put('l/2').value('y');
  const once = await lease.keepaliveOnce();
  record('keepaliveOnce', { ID: once.ID, TTL: once.TTL });
  let ttl = await client.leaseClient.leaseTimeToLive({ ID: leaseId, keys: true });
  record('time to live with keys', {
    ID: ttl.ID, grantedTTL: ttl.grantedTTL,
    ttl_within_granted: Number(ttl.TTL) > 0 && Number(ttl.TTL) <= Number(ttl.grantedTTL),
    keys: ttl.keys.map((k) => k.toString()).sort(),
  });
  const leases = await client.leaseClient.leaseLeases();
  record('leases', { ids: leases.leases.map((l) => l.ID), _sort: ['ids'] });
  await lease.revoke();
  record('revoked', { revoked: lease.revoked() });
  record('getAll prefix l/ after revoke', { kvs: kvs(await client.getAll().prefix('l/').exec()) });
  ttl = await client.leaseClient.leaseTimeToLive({ ID: leaseId, keys: true });
  record('time to live after revoke', { ID: ttl.ID, TTL: ttl.TTL, grantedTTL: ttl.grantedTTL });
  record('revoke again', await attempt(() => client.leaseClient.leaseRevoke({ ID: leaseId })));
  record('put with a revoked lease', await attempt(
    async () => (await client.put('l/3').value('z').lease(leaseId).exec()).header.revision));
  await second.revoke();

  // ---- compaction and the errors around it
  now = Number((await client.get('b').exec()).header.revision);
  record('compact', await attempt(async () => plain(await client.kv.compact({ revision: now - 2 }))));
  record('get at a compacted revision', await attempt(
    async () => kvs(await client.get('b').revision(now - 3).exec())));
  record('get at a future revision', await attempt(
    async () => kvs(await client.get('b').revision(now + 100).exec())));
  record('compact again at the same revision', await attempt(
    () => client.kv.compact({ revision: now - 2 })));
  // The watcher is created, then canceled with the compact revision: seen as its events.
  const compacted = new Events();
  const gone = client.watch().prefix('w/').startRevision(String(now - 3)).watcher();
  gone.on('data', (res) => compacted.push({
    created: res.created, canceled: res.canceled, compact_revision: res.compact_revision,
    cancel_reason: res.cancel_reason, events: res.events.length,
  }));
  gone.on('error', (e) => compacted.push({ error: failure(e) }));
  record('watch from a compacted revision', { answers: await compacted.take(2, 5000) });
  await gone.cancel();

  // ---- lock and election (the client's own recipes over txn, leases and watch)
  const holder = client.lock('s/lock').ttl(60);
  record('lock acquire', await attempt(async () => { await holder.acquire(); return true; }));
  record('a second lock, while held', await attempt(
    async () => { await client.lock('s/lock').ttl(60).acquire(); return true; }));
  await holder.release();
  const after = client.lock('s/lock').ttl(60);
  record('a lock after the release', await attempt(async () => { await after.acquire(); return true; }));
  await after.release();
  record('lock keys left', { count: await client.getAll().prefix('s/lock').count() });

  const election = client.election('s/elect', 60);
  const alpha = election.campaign('alpha');
  await within(TIMEOUT_MS, new Promise((resolve, reject) => {
    alpha.on('elected', resolve);
    alpha.on('error', reject);
  }), 'alpha elected');
  record('alpha elected, leader', { leader: await election.leader() });
  const observer = await election.observe();
  const changes = new Events();
  observer.on('change', (v) => changes.push(v === undefined ? null : v));
  record('observer sees', { leader: observer.leader() });
  const beta = election.campaign('beta');
  const betaElected = new Promise((resolve) => beta.on('elected', () => resolve(true)));
  await alpha.proclaim('alpha-2');
  record('alpha proclaims alpha-2', { changes: await changes.take(1), leader: await election.leader() });
  await alpha.resign();
  record('alpha resigns: beta elected', { elected: await within(TIMEOUT_MS, betaElected, 'beta') });
  record('observer sees beta', { changes: await changes.take(1), leader: await election.leader() });
  await beta.resign();
  record('beta resigns', { changes: await changes.take(1), leader: await election.leader() });
  await observer.cancel();

  // ---- snapshot
  const file = path.join(tmp, 'snap.db');
  const stream = await client.maintenance.snapshot();
  const out = fs.createWriteStream(file);
  await within(TIMEOUT_MS, new Promise((resolve, reject) => {
    stream.on('data', (chunk) => out.write(chunk.blob));
    stream.on('end', resolve);
    stream.on('error', reject);
  }), 'snapshot stream');
  await new Promise((resolve) => out.end(resolve));
  record('snapshot', { size_positive: fs.statSync(file).size > 0 });
  // (not `etcdctl snapshot status`: it reads bbolt files, and etcdlab's database is SQLite;
  // both stores end the stream with the database's SHA-256, which a restore checks)
  const data = fs.readFileSync(file);
  const digest = crypto.createHash('sha256').update(data.subarray(0, data.length - 32)).digest();
  record('snapshot ends with its SHA-256', {
    digest_ok: data.length > 32 && digest.equals(data.subarray(data.length - 32)),
  });

  // ---- members and status
  const list = await client.cluster.memberList({});
  const ids = {}; const peers = {};
  for (const m of list.members) { ids[m.name] = m.ID; peers[m.name] = m.peerURLs[0]; }
  record('memberList', {
    _ids: { member: ids, peer: peers },
    members: list.members.map((m) => [m.name, m.ID, m.peerURLs, m.clientURLs, m.isLearner]),
    _sort: ['members'],
  });
  const peer = `http://127.0.0.1:${await freePort()}`;
  let added;
  const deadline = Date.now() + 20000;
  for (;;) { // etcd refuses until every peer has been connected for 5 s (strict reconfig check)
    added = await attempt(() => client.cluster.memberAdd({ peerURLs: [peer] }));
    if (!added.error || !added.error.message.includes('unhealthy cluster') || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const newId = added.ok ? added.ok.member.ID : '0';
  record('memberAdd (unstarted)', added.ok ? {
    _ids: { member: { new: newId }, peer: { new: peer } },
    member: [added.ok.member.ID, added.ok.member.name, added.ok.member.peerURLs],
    members: added.ok.members.map((m) => [m.name, m.ID, m.peerURLs]), _sort: ['members'],
  } : added);
  record('memberList with the new one', {
    members: (await client.cluster.memberList({})).members.map((m) => [m.name, m.ID, m.peerURLs]),
    _sort: ['members'],
  });
  record('memberAdd a second while one is unstarted', await attempt(async () => {
    const a = await client.cluster.memberAdd({ peerURLs: [`http://127.0.0.1:${await freePort()}`] });
    return a.member.name;
  }));
  const moved = `http://127.0.0.1:${await freePort()}`;
  record('memberUpdate the new one\'s peer URL', {
    _ids: { peer: { 'new moved': moved } },
    ...await attempt(async () => (await client.cluster.memberUpdate({ ID: newId, peerURLs: [moved] }))
      .members.map((m) => [m.name, m.peerURLs]).sort()),
  });
  record('memberRemove the new one', await attempt(async () => {
    const a = await client.cluster.memberRemove({ ID: newId });
    return a.members.map((m) => m.name).sort();
  }));
  record('memberRemove it again', await attempt(() => client.cluster.memberRemove({ ID: newId })));

  const learnerPeer = `http://127.0.0.1:${await freePort()}`;
  const learner = await attempt(() => client.cluster.memberAdd({ peerURLs: [learnerPeer], isLearner: true }));
  const learnerId = learner.ok ? learner.ok.member.ID : '0';
  record('memberAdd a learner (unstarted)', learner.ok ? {
    _ids: { member: { lrn: learnerId }, peer: { lrn: learnerPeer } },
    member: [learnerId, learner.ok.member.isLearner],
  } : learner);
  record('memberPromote the unstarted learner', await attempt(
    () => client.cluster.memberPromote({ ID: learnerId })));
  record('memberRemove the learner', await attempt(async () => {
    const a = await client.cluster.memberRemove({ ID: learnerId });
    return a.members.map((m) => m.name).sort();
  }));

  // Each member's status through a client of its own; moveLeader goes to the leader's.
  const own = endpoints.map((e) => new Etcd3(hostsAndCredentials([e])));
  const statuses = [];
  for (const one of own) {
    const s = await one.maintenance.status();
    statuses.push({ id: s.header.member_id, leader: s.leader, version_set: !!s.version,
      db_size_positive: Number(s.dbSize) > 0 });
  }
  record('status of each member', {
    one_leader: new Set(statuses.map((s) => s.leader)).size === 1 && statuses[0].leader !== '0',
    statuses: statuses.map((s) => ({ ...s, id: '<a member>', leader: '<a member>' })),
  });
  const leaderAt = statuses.findIndex((s) => s.id === s.leader);
  const target = statuses.find((s) => s.id !== s.leader).id;
  record('moveLeader to a follower', await attempt(async () => plain(
    await own[leaderAt].maintenance.moveLeader({ targetID: target }))));
  const moved2 = await Promise.all(own.map((one) => one.maintenance.status()));
  record('the follower leads', { leads: moved2.every((s) => s.leader === target) });
  const follower = moved2.findIndex((s) => s.header.member_id !== target);
  record('moveLeader asked of a follower', await attempt(
    () => own[follower].maintenance.moveLeader({ targetID: target })));
  own.forEach((one) => one.close());
  record('defragment', await attempt(async () => plain(await client.maintenance.defragment())));
  const alarms = await client.maintenance.alarm({ action: 'Get', memberID: 0, alarm: 'None' });
  record('alarm list', { alarms: alarms.alarms });
  client.close();
  record('end');
}

async function main() {
  if (process.argv.length !== 3) {
    process.stderr.write('usage: node session.js host:port[,host:port...]\n');
    process.exit(2);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'node-etcd3-session-'));
  // A promise the client never settles would let node exit quietly with 0 when nothing else
  // keeps it alive: this timer keeps it alive and fails the session instead.
  const watchdog = setTimeout(() => {
    process.stderr.write(`session failed: not finished within ${SESSION_MS} ms\n`);
    process.exit(1);
  }, SESSION_MS);
  try {
    await session(process.argv[2].split(','), tmp);
  } finally {
    clearTimeout(watchdog);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => {
  process.stderr.write(`session failed: ${e.stack || e}\n`);
  process.exit(1);
});
