"""The figures of a mutation run, and its survivors by file and line."""

from __future__ import annotations

from collections import Counter, defaultdict

from .operators import Mutant
from .run import EQUIVALENT, KILLED, STILLBORN, SURVIVED, Equivalent


def verdicts(mutants: list[Mutant], results: dict[str, dict],
             equivalent: dict[str, Equivalent]) -> dict[str, str]:
    """Each mutant's verdict: a survivor listed as equivalent is equivalent; one not run yet is
    'pending'. An equivalent listed for a mutant that is killed is a mistake in the list."""
    out = {}
    for m in mutants:
        r = results.get(m.id)
        if r is None:
            out[m.id] = "pending"
        elif r["status"] == SURVIVED and m.id in equivalent:
            out[m.id] = EQUIVALENT
        else:
            out[m.id] = r["status"]
    return out


def figures(verdict: dict[str, str]) -> dict[str, float]:
    c = Counter(verdict.values())
    counted = c[KILLED] + c[SURVIVED] + c[EQUIVALENT]
    return {
        "mutants": len(verdict), "run": len(verdict) - c["pending"], "pending": c["pending"],
        "stillborn": c[STILLBORN], "killed": c[KILLED], "survived": c[SURVIVED],
        "equivalent": c[EQUIVALENT], "counted": counted,
        "kill_rate": 100.0 * c[KILLED] / (c[KILLED] + c[SURVIVED]) if c[KILLED] + c[SURVIVED]
        else 0.0,
        "equivalent_share": 100.0 * c[EQUIVALENT] / counted if counted else 0.0,
    }


def text(lab: int, mutants: list[Mutant], results: dict[str, dict],
         equivalent: dict[str, Equivalent], sampled_from: int | None = None) -> str:
    verdict = verdicts(mutants, results, equivalent)
    f = figures(verdict)
    out = [f"Mutation run of lab {lab}: {f['mutants']} mutants"
           + (f" (a deterministic sample of {sampled_from})" if sampled_from else "")
           + f", {f['run']} run, {f['pending']} not run yet"]
    out.append(f"  killed {f['killed']}, survived {f['survived']}, equivalent {f['equivalent']} "
               f"({f['equivalent_share']:.1f}% of {f['counted']}), "
               f"stillborn {f['stillborn']} (did not compile; not counted)")
    out.append(f"  kill rate (killed / non-equivalent): {f['kill_rate']:.1f}%")
    by_op: dict[str, Counter] = defaultdict(Counter)
    for m in mutants:
        by_op[m.op][verdict[m.id]] += 1
    out.append("  by operator: " + ", ".join(
        f"{op} {c[KILLED]}/{c[KILLED] + c[SURVIVED]}" for op, c in sorted(by_op.items())))
    stale = [i for i in equivalent if i in results and results[i]["status"] == KILLED]
    if stale:
        out.append(f"  listed as equivalent but killed (remove from equivalent.toml): "
                   f"{', '.join(stale)}")
    survivors = [m for m in mutants if verdict[m.id] == SURVIVED]
    if survivors:
        out.append("")
        out.append(f"Survivors ({len(survivors)}), by file and line:")
        by_file: dict[str, list[Mutant]] = defaultdict(list)
        for m in survivors:
            by_file[m.path].append(m)
        for path in sorted(by_file):
            out.append(f"  {path}")
            for m in sorted(by_file[path], key=lambda m: m.line):
                out.append(f"    {m.line:>4}  [{m.id}] {m.describe()}")
    return "\n".join(out)
