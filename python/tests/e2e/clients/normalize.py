"""Normalizes a client session's raw lines (one JSON object per step) so that two runs against two
different clusters can be compared: what differs between any two clusters is mapped or dropped,
what a client's user relies on is kept.

Mapped, wherever it appears (fields, numbers, plain text, in decimal or hex):
  - lease ids            -> L1, L2, ... in order of first appearance (sessions declare them
                            in "_ids": {"lease": [...]})
  - member ids           -> M(<name>) ("_ids": {"member": {name: id}}; the added, unstarted
                            member's name is "new")
  - the cluster id       -> C
  - client endpoints     -> EP0, EP1, ... in the order the session was given them
  - peer URLs            -> PEER(<name>)
  - any other id-looking token (13-16 hex digits, or 18-20 decimal digits, e.g. the lease of an
    etcdctl lock's session) -> <id>; other 127.0.0.1 ports -> 127.0.0.1:<port>;
    durations ("took = 3.1ms") -> <t>
Sorted after mapping: the fields a step names in "_sort" (lists in map order or answer order,
e.g. etcdctl's member list, which is in member-id order).
Dropped: fields that name the answering member or its state (header member_id, cluster_id,
raft_term; raft index, db sizes, versions, timings).
Kept: keys, values, revisions, counts, versions of keys, error codes and messages.

Run as a filter: python3 normalize.py < raw.jsonl > normalized.jsonl"""

import json
import re
import sys

DROPPED = {"cluster_id", "member_id", "raft_term", "raftTerm", "raftIndex", "raftAppliedIndex",
           "dbSize", "dbSizeInUse", "took", "ts"}

# Ids are 64-bit and etcd's are random or member-prefixed; a server that hands out small ones
# (lease 5) is not mapped, and differs from etcd in the comparison, as it should.
SMALLEST_ID = 1 << 32
# %x drops leading zeros; %16x (etcdctl's "Member %16x added to cluster %16x") pads with spaces:
# the padding goes with the id.
HEX_ID = re.compile(r"( *)\b[0-9a-f]{13,16}\b")
DEC_ID = re.compile(r"\b\d{18,20}\b")
PORT = re.compile(r"127\.0\.0\.1:\d+")
DURATION = re.compile(r"\b\d+(\.\d+)?(ns|µs|us|ms|s|m)\b")


def unpad(m) -> str:
    """One space for the spaces before an id (%16x pads a 15-digit id with one more)."""
    return " " if m.group(1) else ""


class Names:
    def __init__(self):
        self.tokens: dict[str, str] = {}  # spelling -> label
        self.leases = 0
        self._pattern = None

    def _add(self, spelling: str, label: str):
        if spelling and spelling not in self.tokens:
            self.tokens[spelling] = label
            self._pattern = None

    def add_id(self, ident, label: str) -> None:
        n = int(ident)
        if n < SMALLEST_ID:  # a small id's spellings would hit counts and revisions: left as is
            return
        for spelling in (str(n), format(n, "x"), format(n, "016x")):
            self._add(spelling, label)

    def learn(self, ids: dict) -> None:
        for lease in ids.get("lease", []):
            if str(int(lease)) not in self.tokens and int(lease) >= SMALLEST_ID:
                self.leases += 1
                self.add_id(lease, f"L{self.leases}")
        for name, ident in ids.get("member", {}).items():
            self.add_id(ident, f"M({name})")
        for ident in ids.get("cluster", []):
            self.add_id(ident, "C")
        for i, endpoint in enumerate(ids.get("endpoint", [])):
            self._add(endpoint, f"EP{i}")
        for name, url in ids.get("peer", {}).items():
            self._add(url.replace("http://", ""), f"PEER({name})")

    def text(self, s: str) -> str:
        if self.tokens:
            if self._pattern is None:
                spellings = sorted(self.tokens, key=len, reverse=True)
                self._pattern = re.compile(
                    r"( *)(?<![0-9A-Za-z])(" + "|".join(map(re.escape, spellings)) +
                    r")(?![0-9A-Za-z])")
            s = self._pattern.sub(lambda m: unpad(m) + self.tokens[m.group(2)], s)
        s = HEX_ID.sub(lambda m: unpad(m) + "<id>", s)
        s = DEC_ID.sub("<id>", s)
        s = PORT.sub("127.0.0.1:<port>", s)
        s = DURATION.sub("<t>", s) if "took" in s else s
        return s

    def value(self, v):
        if isinstance(v, dict):
            return {k: self.value(x) for k, x in v.items() if k not in DROPPED}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, bool) or v is None or isinstance(v, float):
            return v
        if isinstance(v, int):
            mapped = self.tokens.get(str(v))
            if mapped:
                return mapped
            return "<id>" if v >= 10 ** 17 else v
        if isinstance(v, str):
            return self.text(v)
        return v


def normalize(lines: list[dict]) -> list[dict]:
    names = Names()
    out = []
    for line in lines:
        line = dict(line)
        names.learn(line.pop("_ids", {}) or {})
        unordered = line.pop("_sort", [])
        line = names.value(line)
        for field in unordered:  # lists whose order is the server's map order or timing
            if isinstance(line.get(field), list):
                line[field] = sorted(line[field], key=lambda v: json.dumps(v, sort_keys=True))
        out.append(line)
    return out


def main() -> int:
    lines = [json.loads(l) for l in sys.stdin if l.strip()]
    for line in normalize(lines):
        print(json.dumps(line, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
