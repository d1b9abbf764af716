"""What the simulated suites of python/tests share: waiting for a leader, a schedule of faults
(the schedule of sim/tests/kv_workload.h, leaning on the leader), and settling a cluster at the
end of a run."""


def wait_leader(c, ms=10_000):
    assert c.run_until(lambda: c.leader() is not None, ms), "no leader elected"


def settle(c, timeout_ms=30_000):
    """Runs until every client is done and every up member applied what the leader
    committed (after one more write through the leader, so its commit index is current)."""
    pending = [op for op in c._ops if not op.done]

    def finished():  # checked after every event: look at one op until it is done
        while pending and pending[-1].done:
            pending.pop()
        return not pending
    assert c.run_until(finished, timeout_ms), "clients never finished"
    for _ in range(5):
        last = c.delete_range("settled")
        c.run_until(lambda: last.done, timeout_ms)
        if last.outcome == "ok":
            break
    else:
        raise AssertionError("no write got through the leader at the end")

    def caught_up():
        leader = c.leader()
        if leader is None:
            return False
        commit = c.nodes[leader].commit
        return all(n.applied == commit for n in c.nodes if n.up)
    assert c.run_until(caught_up, timeout_ms), "members never caught up with the leader"


class Faults:
    """Isolations, partitions, crashes and restarts (one node down at most), lossy networks
    and heals, chosen by `rng`: the schedule of sim/tests/kv_workload.h, except that half the
    isolations and crashes hit the leader (a lease's clock runs there: failovers are what a
    lessor gets wrong)."""

    def __init__(self, c, rng):
        self.c, self.rng, self.down = c, rng, set()

    def victim(self):
        leader = self.c.leader()
        if leader is not None and self.rng.random() < 0.5:
            return leader
        return self.rng.randrange(len(self.c))

    def next(self):
        c, rng, n = self.c, self.rng, len(self.c)
        f = rng.random()
        if f < 0.08:
            c.isolate(self.victim())
        elif f < 0.16:
            a = [i for i in range(n) if rng.random() < 0.5]
            b = [i for i in range(n) if i not in a]
            if a and b:
                c.partition([a, b])
        elif f < 0.26:
            c.heal()
        elif f < 0.33 and not self.down:
            x = self.victim()
            c.crash(x)
            self.down.add(x)
        elif f < 0.43 and self.down:
            c.restart(self.down.pop())
        elif f < 0.48:
            c.network(drop=0.1, duplicate=0.05, delay_ms=(1, 20), reorder=0.05,
                      reorder_max_ms=300)
        elif f < 0.53:
            c.network()

    def end(self):
        self.c.heal()
        self.c.network()
        for x in self.down:
            self.c.restart(x)
        self.down.clear()
