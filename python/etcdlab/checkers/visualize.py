"""A self-contained HTML timeline of a checked history (no scripts, styles or fonts fetched from
anywhere: everything is inline).

One section per partition worth showing (illegal or unknown ones; the others too when the
history is small), one track per client (or packed lanes when there are many clients, as when
every simulator operation is its own client). Each operation is a bar from call to return;
an indeterminate one runs to the right edge, hatched. Hovering a bar shows its input, output,
times and outcome. Below each timeline: the longest partial linearization found, with the
state after each step, and, in red, the point where linearization fails (also a red line on
the timeline at the return of the operation that could not be linearized). For a revision
checker result, the operations in violations are red and the violations are listed.
"""

from __future__ import annotations

import html
import json
import os
from typing import Any

from .history import INF, UNKNOWN, drop_indeterminate, load_history
from .models import require_model

__all__ = ["render_html"]

_WIDTH = 1100
_LEFT = 90
_TRACK = 22
_BAR = 14
_TOP = 24
_SHOW_ALL_BELOW = 3000  # render "ok" partitions too when the history is this small

_CSS = """
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 6px} h2{font-size:16px;margin:18px 0 6px} h3{font-size:14px;margin:10px 0 4px}
.verdict-ok{color:#1a7f37} .verdict-illegal{color:#c62828} .verdict-unknown{color:#b26a00}
.fail{color:#c62828;font-weight:600} .muted{color:#777}
.box{border:1px solid #ddd;border-radius:6px;padding:8px 10px;margin:8px 0;background:#fafafa}
svg{background:#fff;border:1px solid #e3e3e3}
svg text{font:11px system-ui,sans-serif;fill:#333}
.op rect{stroke:#555;stroke-width:1}
.op:hover rect{stroke:#000;stroke-width:2}
.lin rect{fill:#9ad0a6} .nolin rect{fill:#d6d6d6} .unk rect{fill:url(#hatch);stroke-dasharray:4 2}
.bad rect{fill:#ef9a9a;stroke:#c62828;stroke-width:2}
.failline{stroke:#c62828;stroke-width:2;stroke-dasharray:6 3}
.pt{fill:#1b5e20}
ol.lin li{margin:1px 0} ol.lin li.badstep{color:#c62828;font-weight:600}
table{border-collapse:collapse} td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
code{font:12px ui-monospace,monospace}
"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _t(t) -> str:
    if t is None or t == INF:
        return "never"
    if isinstance(t, float) and t.is_integer():
        return str(int(t))
    return str(t)


def _describe(model, op) -> str:
    try:
        return model.describe_operation(*model.prepare(op))
    except Exception:  # a model that cannot read the operation: show it raw
        return f"{op.kind}({op.input!r}) -> {op.output!r}"


def _lanes(ops) -> tuple[dict, list]:
    """Track per client, or greedy lane packing when clients are many."""
    clients = []
    for op in ops:
        if op.client not in clients:
            clients.append(op.client)
    if len(clients) <= 32:
        index = {c: k for k, c in enumerate(clients)}
        return {op.id: index[op.client] for op in ops}, [f"client {c}" for c in clients]
    lane_end: list = []
    lanes = {}
    for op in sorted(ops, key=lambda o: (o.call, o.id)):
        end = INF if op.ret is None else op.ret
        for k, e in enumerate(lane_end):
            if e < op.call:
                lane_end[k] = end
                lanes[op.id] = k
                break
        else:
            lanes[op.id] = len(lane_end)
            lane_end.append(end)
    return lanes, [f"lane {k}" for k in range(len(lane_end))]


def _timeline(model, ops, *, lin_seq=(), bad=(), fail_time=None, fail_label="", outcome_of=None) -> str:
    if not ops:
        return '<p class="muted">no operations</p>'
    lanes, names = _lanes(ops)
    finite = [op.call for op in ops] + [op.ret for op in ops if op.ret is not None and op.ret != INF]
    t0, t1 = min(finite), max(finite)
    if fail_time is not None and fail_time != INF:
        t1 = max(t1, fail_time)
    span = (t1 - t0) or 1
    plot = _WIDTH - _LEFT - 30

    def x(t):
        if t is None or t == INF:
            return _WIDTH - 4
        return _LEFT + (t - t0) / span * plot

    height = _TOP + len(names) * _TRACK + 10
    lin_pos = {op_id: k for k, op_id in enumerate(lin_seq)}
    bad = set(bad)
    # earliest linearization points consistent with the sequence (a witness, for the eye)
    points = {}
    by_id = {op.id: op for op in ops}
    last = None
    for op_id in lin_seq:
        op = by_id.get(op_id)
        if op is None:
            continue
        last = op.call if last is None else max(last, op.call)
        points[op_id] = last
    out = [f'<svg width="{_WIDTH}" height="{height}" role="img">']
    out.append(
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f3e5c0"></rect>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#c9a44c" stroke-width="2"></line></pattern></defs>'
    )
    for k in range(6):
        t = t0 + span * k / 5
        xx = x(t)
        out.append(f'<line x1="{xx:.1f}" y1="14" x2="{xx:.1f}" y2="{height - 6}" stroke="#eee"></line>')
        out.append(f'<text x="{xx:.1f}" y="11" text-anchor="middle">{_e(_t(round(t, 3)))}</text>')
    for k, name in enumerate(names):
        y = _TOP + k * _TRACK
        out.append(f'<text x="4" y="{y + _BAR - 3}">{_e(name)}</text>')
    for op in ops:
        y = _TOP + lanes[op.id] * _TRACK
        x0 = x(op.call)
        unknown = op.ret is None or op.ret == INF or op.outcome == "unknown"
        x1 = x(None) if unknown else x(op.ret)
        w = max(x1 - x0, 3)
        if op.id in bad:
            cls = "bad"
        elif op.id in lin_pos:
            cls = "lin"
        elif unknown:
            cls = "unk"
        else:
            cls = "nolin"
        if unknown and op.id not in bad:
            cls += " unk"
        desc = _describe(model, op)
        tip = [f"op {op.id} (client {op.client})", desc, f"called {_t(op.call)}, returned {_t(None if unknown else op.ret)}",
               f"outcome {op.outcome}" + (" (may or may not have taken effect)" if unknown else "")]
        if op.id in lin_pos:
            tip.append(f"position {lin_pos[op.id] + 1} in the longest linearization")
        if outcome_of and op.id in outcome_of:
            tip.append(outcome_of[op.id])
        out.append(f'<g class="op {cls}" data-op="{_e(op.id)}"><title>{_e(chr(10).join(tip))}</title>')
        out.append(f'<rect x="{x0:.1f}" y="{y}" width="{w:.1f}" height="{_BAR}" rx="3"></rect>')
        if w > 26:
            out.append(f'<text x="{x0 + 3:.1f}" y="{y + _BAR - 3}">{_e(op.id)}</text>')
        if op.id in points:
            out.append(f'<circle class="pt" cx="{x(points[op.id]):.1f}" cy="{y + _BAR / 2}" r="2.5"></circle>')
        out.append("</g>")
    if fail_time is not None:
        xf = x(fail_time)
        out.append(
            f'<line class="failline" x1="{xf:.1f}" y1="14" x2="{xf:.1f}" y2="{height - 4}">'
            f"<title>{_e(fail_label)}</title></line>"
        )
    out.append("</svg>")
    return "".join(out)


def _lin_list(model, ops_by_id, seq, fail_op=None) -> str:
    if not seq:
        return '<p class="muted">no operation could be linearized first</p>'
    state = model.init()
    items = []
    for op_id in seq:
        op = ops_by_id.get(op_id)
        if op is None:
            continue
        inp, outp = model.prepare(op)
        ok, state = model.step(state, inp, outp)
        cls = "" if ok else ' class="badstep"'
        items.append(
            f"<li{cls}><code>op {_e(op_id)}</code> {_e(model.describe_operation(inp, outp))} "
            f'<span class="muted">&rarr; {_e(model.describe_state(state))}</span></li>'
        )
    return '<ol class="lin">' + "".join(items) + "</ol>"


def _json_blob(data) -> str:
    text = json.dumps(data, default=lambda o: None if o is UNKNOWN else repr(o))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="etcdlab-check-data">{text}</script>'


def render_html(model: Any, history: Any, result: Any, path: str | os.PathLike | None = None) -> str:
    """Writes (if ``path``) and returns a self-contained HTML report of ``result`` — a search
    :class:`~etcdlab.checkers.porcupine.Result` or a revision
    :class:`~etcdlab.checkers.revisions.RevisionResult` — for ``history``."""
    require_model(model, "render_html()")
    all_ops = load_history(history)
    kept = drop_indeterminate(all_ops, getattr(model, "is_read", None))
    by_id = {op.id: op for op in kept}
    dropped = len(all_ops) - len(kept)
    verdict = result.verdict
    title = f"Linearizability check: {verdict.upper()}"
    body = [f'<h1 class="verdict-{_e(verdict)}">{_e(title)}</h1>']
    name = getattr(model, "name", type(model).__name__)
    data: dict = {"verdict": verdict, "model": name, "partitions": []}

    if hasattr(result, "violations"):  # revision checker
        body.append(
            f'<p>revision-witness check of {len(kept)} operations ({dropped} failed or indeterminate '
            f"reads dropped)</p>"
        )
        note = result.info.get("note")
        if note:
            body.append(f'<p class="box">{_e(note)}</p>')
        bad_ids = []
        for v in result.violations:
            for i in v.ops[:1]:
                if i not in bad_ids:
                    bad_ids.append(i)
        first = result.violations[0] if result.violations else None
        if first is not None:
            body.append(f'<div class="box fail">First violation ({_e(first.kind)}): {_e(first.message)}</div>')
        fail_time = None
        if first is not None and first.times:
            fail_time = first.times[0]
        outcome_of = {}
        for v in result.violations:
            for i in v.ops:
                outcome_of.setdefault(i, f"involved in: {v.kind}")
        body.append("<h2>All operations</h2>")
        body.append(
            _timeline(model, kept, bad=bad_ids, fail_time=fail_time, fail_label=first.message if first else "",
                      outcome_of=outcome_of)
        )
        if result.violations:
            rows = "".join(
                f"<tr><td>{k + 1}</td><td>{_e(v.kind)}</td><td>{_e(', '.join(str(i) for i in v.ops))}</td>"
                f"<td>{_e(', '.join(str(r) for r in v.revisions))}</td><td>{_e(v.message)}</td></tr>"
                for k, v in enumerate(result.violations)
            )
            body.append(
                "<h2>Violations</h2><table><tr><th>#</th><th>kind</th><th>ops</th><th>revisions</th>"
                f"<th>what</th></tr>{rows}</table>"
            )
        data["violations"] = [v.to_dict() for v in result.violations]
        data["ops"] = [op.to_dict() for op in kept]
    else:
        info = result.info or {}
        body.append(
            f"<p>model <code>{_e(name)}</code>: {len(kept)} operations ({dropped} failed or "
            f"indeterminate reads dropped), {len(result.partitions)} partition(s), checked in "
            f"{info.get('elapsed', 0):.3f} s"
            + (f", timeout {info.get('timeout')} s" if info.get("timeout") is not None else "")
            + "</p>"
        )
        if verdict == "unknown":
            body.append(
                '<p class="box verdict-unknown">The check timed out: the history is NOT known to be '
                "linearizable (inconclusive).</p>"
            )
        small = len(kept) <= _SHOW_ALL_BELOW
        summary_rows = []
        for p in result.partitions:
            summary_rows.append(
                f'<tr><td>{_e(p.label)}</td><td class="verdict-{_e(p.verdict)}">{_e(p.verdict)}</td>'
                f"<td>{len(p.op_ids)}</td><td>{p.elapsed:.3f}</td></tr>"
            )
        body.append(
            "<table><tr><th>partition</th><th>verdict</th><th>ops</th><th>seconds</th></tr>"
            + "".join(summary_rows)
            + "</table>"
        )
        for p in result.partitions:
            pdata = {"label": p.label, "verdict": p.verdict, "ops": p.op_ids, "longest": p.longest,
                     "failure": p.failure}
            data["partitions"].append(pdata)
            if p.verdict == "ok" and not small:
                continue
            if p.verdict == "skipped":
                continue
            pops = [by_id[i] for i in p.op_ids if i in by_id]
            failure = p.failure or {}
            fail_op = failure.get("op")
            seq = failure.get("linearized") if failure else None
            if seq is None or (not seq and p.longest):
                seq = p.longest[0] if p.longest else []
            if p.verdict == "ok" and p.linearization:
                seq = p.linearization
            body.append(f'<h2>{_e(p.label)}: <span class="verdict-{_e(p.verdict)}">{_e(p.verdict)}</span></h2>')
            if failure.get("message"):
                body.append(f'<div class="box fail">Linearization fails: {_e(failure["message"])}</div>')
            body.append(
                _timeline(
                    model,
                    pops,
                    lin_seq=seq,
                    bad=[fail_op] if fail_op is not None else [],
                    fail_time=failure.get("time") if fail_op is not None else None,
                    fail_label=f"op {fail_op} must have taken effect by here" if fail_op is not None else "",
                )
            )
            if p.verdict == "illegal":
                body.append(f"<h3>Longest partial linearization ({len(seq)} of {len(pops)} operations)</h3>")
                body.append(_lin_list(model, by_id, seq))
                if failure.get("candidates"):
                    rows = "".join(
                        f"<tr><td>op {_e(c['op'])}</td><td>{_e(c['operation'])}</td>"
                        f"<td>{'legal, but leads only to explored dead ends' if c['legal_here'] else 'illegal in this state'}</td></tr>"
                        for c in failure["candidates"]
                    )
                    body.append(
                        "<h3>Operations that could have come next</h3><table>"
                        "<tr><th>op</th><th>operation</th><th>from the state above</th></tr>" + rows + "</table>"
                    )
                if failure.get("op") is not None:
                    body.append(
                        f'<p class="fail">Op {_e(failure["op"])} ({_e(failure.get("operation", ""))}) returned at '
                        f"{_e(_t(failure.get('time')))} but cannot be linearized after this prefix.</p>"
                    )
                others = [s for s in p.longest if s != seq][:5]
                if others:
                    body.append("<h3>Other longest partial linearizations</h3>")
                    for s in others:
                        body.append(f'<p><code>{_e(" ".join(str(i) for i in s))}</code></p>')
            elif p.verdict == "ok" and seq:
                body.append(
                    f'<p class="muted">linearization: <code>{_e(" ".join(str(i) for i in seq))}</code></p>'
                )
    doc = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        + "".join(body)
        + _json_blob(data)
        + "</body></html>"
    )
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(doc)
    return doc
