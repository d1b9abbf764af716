"""A nemesis for real clusters (LocalCluster with link_proxies=True): a seeded schedule of
faults on peer links and processes, with membership changes during them, under a recorded KV
load (nemesis_load.py), then heal, convergence and the checks.

    with LocalCluster(n=3, link_proxies=True, link_seed=seed) as cluster:
        report = run_nemesis(cluster, seed=seed, seconds=60)
        assert report.passed, report.table()

Each round picks one fault kind from FAULT_KINDS (by weight), injects it, may change the
membership while it holds (add a learner, promote it, remove a voter: the voter count goes
3 → 3 + learner → 4 → 3), holds it for a random time, heals everything and waits for a leader.
The schedule (kinds, members, links, durations) comes from the seed; what the processes do
within it depends on real time, so a replay repeats the schedule, not every interleaving.

A fault kind is a function (nemesis, rng) -> Fault | None (None: not possible now), registered
with @fault_kind(name, weight); its Fault carries the heal. The disk faults (nemesis_disk.py)
plug in that way: they apply when run_nemesis is given a DiskFaults (``disks=``).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Optional

from .checkers import check_txns
from .client import EtcdError
from . import nemesis_load as load
from .nemesis_load import Report

__all__ = ["Fault", "FaultKind", "FAULT_KINDS", "fault_kind", "Nemesis", "Report", "run_nemesis"]


@dataclass
class Fault:
    kind: str
    what: str                      # for the timeline: "cut 0->2 reset", "kill 1", ...
    heal: Callable[[], None]


@dataclass
class FaultKind:
    name: str
    weight: float
    inject: Callable[["Nemesis", random.Random], Optional[Fault]]


FAULT_KINDS: dict[str, FaultKind] = {}


def fault_kind(name: str, weight: float = 1.0):
    def register(fn):
        FAULT_KINDS[name] = FaultKind(name, weight, fn)
        return fn
    return register


def _cut_between(nem: "Nemesis", xs, ys, how: str, both: bool = True) -> str:
    for a in xs:
        for b in ys:
            nem.links.set(a, b, cut=how)
            if both:
                nem.links.set(b, a, cut=how)
    return f"{sorted(xs)} {'<->' if both else '->'} {sorted(ys)} {how}"


@fault_kind("partition", 2.0)
def _partition(nem, rng):
    """A minority cut off from the majority, both ways."""
    up = nem.up()
    if len(up) < 3:
        return None
    rng.shuffle(up)
    k = rng.randint(1, (len(up) - 1) // 2)
    how = rng.choice(["reset", "blackhole"])
    return Fault("partition", _cut_between(nem, up[:k], up[k:], how), nem.links.heal)


@fault_kind("isolate-leader", 2.0)
def _isolate_leader(nem, rng):
    leader = nem.cluster.leader()
    if leader is None:
        return None
    how = rng.choice(["reset", "blackhole"])
    others = [i for i in nem.up() if i != leader]
    return Fault("isolate-leader", _cut_between(nem, [leader], others, how), nem.links.heal)


@fault_kind("one-way", 2.0)
def _one_way(nem, rng):
    """A member that can send to none of some peers but hears them (or the reverse); with a
    leader involved this is the classic stuck-leader / deaf-follower case."""
    up = nem.up()
    if len(up) < 2:
        return None
    a = nem.cluster.leader() if rng.random() < 0.5 else None
    a = a if a is not None else rng.choice(up)
    others = [i for i in up if i != a]
    chosen = rng.sample(others, rng.randint(1, len(others)))
    how = rng.choice(["reset", "blackhole"])
    if rng.random() < 0.5:
        return Fault("one-way", _cut_between(nem, [a], chosen, how, both=False), nem.links.heal)
    return Fault("one-way", _cut_between(nem, chosen, [a], how, both=False), nem.links.heal)


@fault_kind("bridge", 1.0)
def _bridge(nem, rng):
    """A–B–C: two sides that cannot talk, and one member both sides hear."""
    up = nem.up()
    if len(up) < 3:
        return None
    rng.shuffle(up)
    middle, rest = up[0], up[1:]
    k = rng.randint(1, len(rest) - 1)
    how = rng.choice(["reset", "blackhole"])
    what = _cut_between(nem, rest[:k], rest[k:], how)
    return Fault("bridge", f"via {middle}: {what}", nem.links.heal)


def _some_links(nem, rng):
    """Each directed link between members that are up, with probability 0.6 (at least one)."""
    up = nem.up()
    return [(a, b) for a in up for b in up if a != b and rng.random() < 0.6] or [(up[0], up[-1])]


@fault_kind("delay", 1.5)
def _delay(nem, rng):
    links = _some_links(nem, rng)
    lo = rng.uniform(0, 50)
    hi = lo + rng.uniform(10, 300)
    for a, b in links:
        nem.links.set(a, b, delay_ms=(lo, hi))
    return Fault("delay", f"{len(links)} links {lo:.0f}..{hi:.0f} ms", nem.links.heal)


@fault_kind("drop", 1.5)
def _drop(nem, rng):
    links = _some_links(nem, rng)
    p = rng.uniform(0.05, 0.5)
    truncate = rng.random() < 0.3
    for a, b in links:
        nem.links.set(a, b, drop=p, truncate_snapshots=truncate)
    return Fault("drop", f"{len(links)} links p={p:.2f}{', snapshots truncated' if truncate else ''}",
                 nem.links.heal)


@fault_kind("kill", 1.5)
def _kill(nem, rng):
    up = nem.up()
    leader = nem.cluster.leader()
    i = leader if leader is not None and rng.random() < 0.5 else rng.choice(up)
    nem.cluster.kill(i)

    def heal():
        if i not in nem.cluster.removed and not nem.cluster.running(i):
            nem.cluster.start_member(i)
    return Fault("kill", f"kill -9 {i}", heal)


@fault_kind("pause", 1.5)
def _pause(nem, rng):
    up = nem.up()
    leader = nem.cluster.leader()
    i = leader if leader is not None and rng.random() < 0.5 else rng.choice(up)
    nem.cluster.pause(i)

    def heal():
        if nem.cluster.running(i):
            nem.cluster.resume(i)
    return Fault("pause", f"SIGSTOP {i}", heal)


class Nemesis:
    """Injects and heals faults on `cluster` (a LocalCluster with link proxies)."""

    def __init__(self, cluster, seed: int, kinds: Optional[list[str]] = None,
                 membership: bool = True, log: Callable[[str], None] = print, disks=None):
        if cluster.links is None:
            raise ValueError("the nemesis needs LocalCluster(link_proxies=True)")
        self.cluster, self.links = cluster, cluster.links
        self.rng = random.Random(seed)
        self.kinds = [FAULT_KINDS[k] for k in (kinds or sorted(FAULT_KINDS))]
        self.membership = membership
        self.disks = disks  # a disk_faults.DiskFaults, or None: no disk faults
        self.base_voters = len(cluster.members)
        self.learners: set[int] = set()
        self.unsure = False  # a membership request's outcome is not known yet
        self.faults: Counter = Counter()
        self.member_changes: Counter = Counter()
        self.stopped: Counter = Counter()  # exit code -> members that stopped by themselves
        self.active: list[Fault] = []
        self.timeline: list[str] = []
        self.t0 = time.monotonic()
        self._log = log

    def note(self, line: str) -> None:
        line = f"{time.monotonic() - self.t0:7.1f}s {line}"
        self.timeline.append(line)
        self._log(line)

    def up(self) -> list[int]:
        return [i for i in self.cluster.members if self.cluster.running(i)]

    def round(self, hold_s: float) -> None:
        kind = self.rng.choices(self.kinds, [k.weight for k in self.kinds])[0]
        fault = kind.inject(self, self.rng)
        if fault is not None:
            self.active.append(fault)
            self.faults[fault.kind] += 1
            self.note(f"{fault.kind}: {fault.what}")
        if self.membership and self.rng.random() < 0.4:
            self.change_membership()
        deadline = time.monotonic() + hold_s
        while time.monotonic() < deadline:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        self.heal()

    def heal(self, leader_within: float = 30.0) -> None:
        while self.active:
            self.active.pop().heal()
        self.links.heal()
        for i in self.cluster.members:  # (killed, stopped by a full disk, or left by an
            # interrupted round)
            if not self.cluster.running(i) and i not in self.cluster.removed:
                code = self.cluster.procs[i].returncode if self.cluster.procs[i] else None
                if code not in (None, -9):  # it stopped by itself (2: a storage failure)
                    self.stopped[code] += 1
                    self.note(f"member {i} had stopped by itself (exit {code}): restarted")
                self.cluster.start_member(i)
        try:
            self.cluster.wait_leader(leader_within)
        except TimeoutError:
            self.note(f"no leader {leader_within} s after healing")

    # ---- membership: 3 voters -> + learner -> promoted (4 voters) -> one removed (3)
    def change_membership(self) -> None:
        c = self.cluster
        if self.unsure:
            self.reconcile()
        voters = [i for i in c.members if i not in self.learners]
        # Through the member that says it leads first, as a client that knows the leader would
        # (an isolated leader still says so: such requests time out, as they would for etcd).
        leader = c.leader()
        via = ([leader] if leader is not None else []) + [j for j in self.up() if j != leader]
        try:
            if self.unsure:
                return
            if self.learners:
                i = next(iter(self.learners))
                c.promote_member(i, via=[j for j in via if j != i])
                self.learners.discard(i)
                self.member_changes["promote"] += 1
                self.note(f"promoted learner {i}")
            elif len(voters) > self.base_voters:
                i = self.rng.choice(voters)
                self.note(f"removing voter {i}")
                c.remove_member(i, wait_exit=5.0, via=[j for j in via if j != i])
                self.member_changes["remove"] += 1
            else:
                i = c.add_member(learner=True, via=via)
                self.learners.add(i)
                self.member_changes["add learner"] += 1
                self.note(f"added learner {i}")
        except (EtcdError, OSError, TimeoutError) as e:
            self.member_changes["refused or unknown"] += 1
            self.note(f"membership change failed: {e}")
            self.unsure = True
            self.reconcile()

    def reconcile(self, within: float = 10.0) -> None:
        """After a membership request whose outcome is unknown: the cluster's member list
        decides. A member it does not hold is stopped and forgotten; one it holds that has no
        process (added, answer lost) is started."""
        c = self.cluster
        deadline = time.monotonic() + within
        listed = None
        while listed is None and time.monotonic() < deadline:
            cl = c.client([i for i in c.members if c.running(i)] or c.members, timeout=2.0)
            try:
                listed = cl.members()
            except EtcdError:
                time.sleep(0.2)
            finally:
                cl.close()
        if listed is None:
            self.unsure = True
            self.note("reconcile: no member list (tried again at the next change)")
            return
        self.unsure = False
        by_url = {u: m for m in listed for u in m.get("peerURLs", [])}
        scheme = getattr(c, "scheme", "http")  # (https: a LocalCluster(tls=True))
        ours = {f"{scheme}://127.0.0.1:{c.peer_ports[i]}" for i in c.members}
        for url, m in by_url.items():
            if url not in ours:  # an add whose answer was lost, committed after we gave up
                cl = c.client([i for i in c.members if c.running(i)], timeout=2.0)
                try:
                    cl.member_remove(m["ID"])
                    self.note(f"reconcile: removed {url}, which has no process")
                except EtcdError as e:
                    self.unsure = True
                    self.note(f"reconcile: could not remove {url}: {e}")
                finally:
                    cl.close()
        for i in list(c.members):
            m = by_url.get(f"{scheme}://127.0.0.1:{c.peer_ports[i]}")
            if m is None:
                c.removed.add(i)
                c.stop(i, timeout=5)
                self.learners.discard(i)
                self.note(f"reconcile: member {i} is not in the cluster")
                continue
            c._ids.setdefault(i, m["ID"])
            c.links.learn(i, m["ID"])
            if not m.get("isLearner"):
                self.learners.discard(i)
            elif i not in self.learners:
                self.learners.add(i)
            if not c.running(i) and not any(f.kind == "kill" for f in self.active):
                c.start_member(i)
                self.note(f"reconcile: started member {i}")


def run_nemesis(cluster, seed: int, seconds: float, *, clients: int = 4,
                hold_s=(1.0, 4.0), quiet_s=(0.5, 2.0), kinds: Optional[list[str]] = None,
                membership: bool = True, log: Callable[[str], None] = print,
                disks=None) -> Report:
    """The whole run: load, `seconds` of fault rounds, heal, more load on the healed cluster,
    then the checks. Raises TimeoutError if the members never converge."""
    cluster.wait_leader(30)
    for i in cluster.members:
        cluster.member_id(i)
    nem = Nemesis(cluster, seed, kinds, membership, log, disks)
    work = load.Workload(cluster, seed, clients=clients)
    nem.note(f"nemesis seed {seed}: {seconds:.0f} s of faults, {clients} clients")
    work.start()
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            nem.round(nem.rng.uniform(*hold_s))
            time.sleep(nem.rng.uniform(*quiet_s))
    finally:
        nem.heal()
    if nem.unsure:
        nem.reconcile(within=30.0)
    # The healed cluster must serve again: a few seconds of load on it before stopping.
    healed_at = time.monotonic()
    time.sleep(3.0)
    work.stop()
    acked_after_heal = sum(1 for op in work.history if op.outcome == "ok" and op.ret and
                           op.ret > healed_at and op.kind != "get")
    nem.note(f"healed; {acked_after_heal} writes acknowledged after; checking")
    revision = load.wait_converged(cluster)
    hashes = load.hashes(cluster)
    histories = {i: load.history_of(cluster.endpoint(i), revision) for i in cluster.members}
    first = next(iter(histories.values()))
    lost = load.lost_writes(work.history, first)
    for i, h in histories.items():
        if h != first:
            lost.append(f"member {i}'s event history differs from member "
                        f"{next(iter(histories))}'s ({len(h)} vs {len(first)} events)")
    if acked_after_heal == 0:
        lost.append("no write was acknowledged in the 3 s after healing")
    result = check_txns(work.history, initial_revision=1)
    terms = {term for term, _ in cluster.links.leaders}
    return Report(seed, time.monotonic() - nem.t0, load.summarize(work.history), nem.faults,
                  nem.member_changes, result.verdict, result.explain(), lost, hashes,
                  max(0, len(terms) - 1), cluster.links.max_term,
                  load.unavailability(work.history),
                  tuple(_total(cluster.links.stats, f"snapshots{x}")
                        for x in ("", " dropped", " truncated")), nem.stopped, nem.timeline)


def _total(stats, what: str) -> int:
    return sum(v for (name, *_), v in stats.items() if name == what)


from . import nemesis_disk  # noqa: E402,F401 (registers the disk fault kinds)
