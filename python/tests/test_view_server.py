"""The live view's server (etcdlab/view/server.py, `python -m etcdlab.view`): its API drives a
simulated cluster deterministically, replays recordings without controls, and refuses bad
requests with a 400 that says what is wrong."""

import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import etcdlab
import etcdlab.view
from etcdlab.view.server import MembersSource, SimSource, TraceSource, ViewServer


def _request(url, body=None, method=None):
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data else "GET"))
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Client:
    def __init__(self, base):
        self.base = base.rstrip("/")

    def get(self, path):
        status, body = _request(self.base + path)
        return status, json.loads(body)

    def act(self, **body):
        status, raw = _request(self.base + "/api/action", body)
        answer = json.loads(raw)
        assert status == 200, answer
        assert answer["ok"] is True
        return answer["next"]

    def frames(self, since=0):
        status, answer = self.get(f"/api/frames?since={since}")
        assert status == 200, answer
        return answer


@pytest.fixture
def serve():
    servers = []

    def start(source):
        server = ViewServer(source, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return Client(server.url)

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def _leader(frame):
    leaders = [n for n in frame["nodes"] if n["role"] == "leader" and n["up"]]
    return max(leaders, key=lambda n: n["term"]) if leaders else None


def _run_until_leader(client, limit_ms=10000):
    for _ in range(limit_ms // 100):
        client.act(action="run", ms=100)
        frame = client.frames()["frames"][-1]
        if _leader(frame):
            return frame
    pytest.fail("no leader within the time limit")


def test_info_says_what_the_source_is(serve):
    c = serve(SimSource(seed=3, nodes=5))
    status, info = c.get("/api/info")
    assert status == 200
    assert info == {"source": "sim", "seed": 3, "nodes": 5, "controls": True,
                    "title": "simulated cluster of 5, seed 3"}
    answer = c.frames()
    assert answer["next"] == len(answer["frames"]) == 1, "frame 0: before anything happened"
    assert [n["id"] for n in answer["frames"][0]["nodes"]] == [1, 2, 3, 4, 5]


def test_crashing_the_leader_elects_another_with_a_higher_term(serve):
    c = serve(SimSource(seed=3, nodes=5))
    first = _leader(_run_until_leader(c))
    before = c.frames()["next"]
    after_crash = c.act(action="crash", node=first["id"])
    assert after_crash == before + 1, "the crash is a frame of its own, at once"
    crashed = c.frames(before)["frames"]
    assert [n["up"] for n in crashed[-1]["nodes"] if n["id"] == first["id"]] == [False]
    for _ in range(50):
        c.act(action="run", ms=100)
        leader = _leader(c.frames()["frames"][-1])
        if leader and leader["id"] != first["id"]:
            break
    assert leader and leader["id"] != first["id"], "a new leader takes over"
    assert leader["term"] > first["term"]
    # frames are numbered: since=K gives K and later
    answer = c.frames(after_crash)
    assert answer["first"] == after_crash
    assert len(answer["frames"]) == answer["next"] - after_crash


def test_every_action_works_and_shows(serve):
    c = serve(SimSource(seed=4, nodes=5))
    _run_until_leader(c)
    c.act(action="partition", groups=[[1, 2], [3, 4, 5]])
    frame = c.frames()["frames"][-1]
    blocked = frame["blocked"]
    assert [1, 3] in blocked and [3, 1] in blocked and [1, 2] not in blocked
    c.act(action="heal")
    assert c.frames()["frames"][-1]["blocked"] == []
    c.act(action="isolate", node=2)
    assert sorted(frame_link for frame_link in c.frames()["frames"][-1]["blocked"]
                  if 2 in frame_link) == [[1, 2], [2, 1], [2, 3], [2, 4], [2, 5], [3, 2], [4, 2],
                                          [5, 2]]
    c.act(action="heal")
    c.act(action="drop", rate=0.2)
    c.act(action="drop", rate=0)
    c.act(action="propose", data="hello", via=None)
    clients = c.frames()["frames"][-1]["clients"]
    assert clients[-1]["text"] == 'propose "hello"' and clients[-1]["outcome"] == "pending"
    c.act(action="run", ms=500)
    assert c.frames()["frames"][-1]["clients"][-1]["outcome"] == "ok"
    c.act(action="propose", data="via 3", via=3)
    assert c.frames()["frames"][-1]["clients"][-1]["via"] == 3
    c.act(action="crash", node=4)
    c.act(action="restart", node=4)
    n = c.frames()["next"]
    after = c.act(action="step", events=3)
    assert n <= after <= n + 3, "a step makes a frame only if something changed"


def test_same_seed_and_actions_give_the_same_frames(serve):
    def session():
        c = serve(SimSource(seed=7, nodes=5))
        c.act(action="run", ms=1500)
        c.act(action="propose", data="a", via=None)
        c.act(action="isolate", node=1)
        c.act(action="run", ms=800)
        c.act(action="drop", rate=0.3)
        c.act(action="step", events=40)
        c.act(action="heal")
        c.act(action="run", ms=700)
        return c.frames()
    one, two = session(), session()
    assert one["next"] > 100
    assert one == two


def test_a_trace_replays_and_refuses_actions(serve, tmp_path):
    cluster = etcdlab.Cluster(n=3, seed=5, view_frames=500)
    cluster.run_until(lambda: cluster.leader() is not None, 5000)
    cluster.propose(b"x")
    cluster.run(300)
    path = etcdlab.view.save(cluster, tmp_path / "run.json")
    recording = json.loads(path.read_text())
    c = serve(TraceSource.load(str(path)))
    status, info = c.get("/api/info")
    assert info["source"] == "trace" and info["controls"] is False
    assert info["seed"] == 5 and info["nodes"] == 3
    answer = c.frames()
    assert answer["frames"] == recording["frames"] and answer["next"] == len(recording["frames"])
    assert c.frames(answer["next"] - 2)["frames"] == recording["frames"][-2:]
    status, raw = _request(c.base + "/api/action", {"action": "run", "ms": 10})
    assert status == 400 and "no controls" in json.loads(raw)["error"]


def test_bad_requests_answer_400_with_the_reason(serve):
    c = serve(SimSource(seed=1, nodes=3))
    cases = [
        ({"action": "explode"}, "unknown action 'explode'"),
        ({"ms": 5}, "unknown action None"),
        ({"action": "crash", "node": 4}, "node id 1 .. 3"),
        ({"action": "crash", "node": 0}, "node id 1 .. 3"),
        ({"action": "crash", "node": "1"}, "node id 1 .. 3"),
        ({"action": "crash", "node": True}, "node id 1 .. 3"),
        ({"action": "partition", "groups": [[1, 2], [2, 3]]}, "two groups"),
        ({"action": "partition", "groups": "1,2|3"}, "list of lists"),
        ({"action": "partition", "groups": [[1, 9]]}, "node id 1 .. 3"),
        ({"action": "drop", "rate": 1.5}, "'rate' is a number in [0, 1]"),
        ({"action": "drop"}, "'rate' is a number"),
        ({"action": "run", "ms": -1}, "'ms' is a number"),
        ({"action": "run", "ms": 1e9}, "'ms' is a number"),
        ({"action": "step", "events": 0}, "'events' is a number"),
        ({"action": "propose", "data": 5}, "'data' is a string"),
        ({"action": "propose", "data": "x", "via": 7}, "'via' is a node id"),
    ]
    next_before = c.frames()["next"]
    for body, says in cases:
        status, raw = _request(c.base + "/api/action", body)
        answer = json.loads(raw)
        assert status == 400 and says in answer["error"], (body, status, answer)
    assert c.frames()["next"] == next_before, "a refused action changes nothing"
    for raw_body, says in [(b"not json", "not JSON"), (b"[1, 2]", "a JSON object")]:
        status, raw = _request(c.base + "/api/action", raw_body)
        assert status == 400 and says in json.loads(raw)["error"]
    status, answer = c.get("/api/frames?since=-1")
    assert status == 400 and "'since'" in answer["error"]
    status, answer = c.get("/api/nope")
    assert status == 404
    status, _ = _request(c.base + "/../../etc/passwd")
    assert status == 404


def test_members_mode_serves_the_page_preset_with_the_members(serve):
    members = ["http://127.0.0.1:25379", "http://127.0.0.1:25380"]
    c = serve(MembersSource(members))
    status, info = c.get("/api/info")
    assert info["source"] == "real" and info["members"] == members and info["controls"] is False
    req = urllib.request.Request(c.base + "/")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None
    try:
        urllib.request.build_opener(NoRedirect).open(req, timeout=10)
        pytest.fail("expected a redirect")
    except urllib.error.HTTPError as e:
        assert e.code == 302
        assert e.headers["Location"] == "/?members=" + ",".join(members)
    with pytest.raises(ValueError, match="http"):
        MembersSource(["ftp://x"])


def test_the_command_prints_its_url_first_and_serves(tmp_path):
    cluster = etcdlab.Cluster(n=3, seed=2, view_frames=100)
    cluster.run(500)
    path = etcdlab.view.save(cluster, tmp_path / "t.json")
    env_path = str(Path(etcdlab.__file__).resolve().parents[1])
    proc = subprocess.Popen([sys.executable, "-m", "etcdlab.view", "--trace", str(path),
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    try:
        line = proc.stdout.readline()
        assert line.startswith("etcdlab view: http://127.0.0.1:"), line
        status, info = Client(line.split(": ", 1)[1].strip()).get("/api/info")
        assert status == 200 and info["source"] == "trace"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    bad = subprocess.run([sys.executable, "-m", "etcdlab.view", "--trace", str(tmp_path / "no")],
                         capture_output=True, text=True, env={"PYTHONPATH": env_path})
    assert bad.returncode == 2 and "cannot read the recording" in bad.stderr
    (tmp_path / "x.json").write_text('{"format": "other"}')
    bad = subprocess.run([sys.executable, "-m", "etcdlab.view", "--trace",
                          str(tmp_path / "x.json")],
                         capture_output=True, text=True, env={"PYTHONPATH": env_path})
    assert bad.returncode == 2 and "not a recording" in bad.stderr


def test_cluster_view_calls(tmp_path):
    c = etcdlab.Cluster(n=3, seed=6, view_frames=50)
    c.run_until(lambda: c.leader() is not None, 5000)
    c.run(1000)
    frame = c.view_frame()
    assert [n["name"] for n in frame["nodes"]] == ["n1", "n2", "n3"]
    assert frame["nodes"][c.leader()]["role"] == "leader"
    rec = c.view_recording()
    assert rec["format"] == "etcdlab-view/1" and rec["source"] == "sim"
    assert rec["title"] == "simulated cluster of 3, seed 6" and rec["replay"] is None
    assert len(rec["frames"]) == 50
    assert c.view_recording("t", "replay me")["replay"] == "replay me"
    with pytest.raises(TypeError):
        c.view_recording(5)


@pytest.fixture
def page(tmp_path, monkeypatch):
    """A page of our own (the real one is H-page's static/, tested by the browser tests): what
    embed and the server do with its files is what is tested here."""
    static = tmp_path / "static"
    static.mkdir()
    (static / "index.html").write_text(
        '<!doctype html><html><head><link rel="stylesheet" href="view.css"></head>'
        '<body><div id="view"></div><script src="view.js"></script>'
        '<script src="https://example.com/not-local.js"></script></body></html>')
    (static / "view.css").write_text("#view { color: red; }")
    (static / "view.js").write_text('var s = "</script>"; // must not end the element\n')
    monkeypatch.setattr(etcdlab.view, "STATIC", static)
    monkeypatch.setattr(etcdlab.view.server, "STATIC", static)
    return static


def test_embed_inlines_the_page_and_the_recording(page):
    c = etcdlab.Cluster(n=3, seed=8, view_frames=20)
    c.run(300)
    out = etcdlab.view.embed(c, height=300)
    html_text = out._repr_html_() if hasattr(out, "_repr_html_") else out.data
    assert "<iframe srcdoc=" in html_text and "height: 300px" in html_text
    assert "<script" not in html_text, "the page is escaped inside the attribute"
    doc = etcdlab.view.page_html(c.view_recording())
    assert "<style>\n#view { color: red; }\n</style>" in doc
    assert 'var s = "<\\/script>"' in doc, "a script cannot end its own element"
    assert 'src="view.js"' not in doc and 'src="https://example.com/not-local.js"' in doc
    preset = doc.index("window.ETCDLAB_RECORDING = {")
    assert preset < doc.index("var s ="), "the recording is set before the page's scripts run"
    recording = json.loads(doc[preset + len("window.ETCDLAB_RECORDING = "):doc.index(";</script>",
                                                                                        preset)])
    assert recording == c.view_recording()
    with pytest.raises(TypeError):
        etcdlab.view.embed(42)
    with pytest.raises(ValueError, match="not a recording"):
        etcdlab.view.embed({"format": "x"})
    with pytest.raises(ValueError, match="height"):
        etcdlab.view.embed(c, height=5)


def test_the_server_serves_the_page(serve, page):
    c = serve(SimSource(seed=1, nodes=3))
    req = urllib.request.Request(c.base + "/")
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert b'<div id="view">' in r.read()
    with urllib.request.urlopen(c.base + "/view.css", timeout=30) as r:
        assert r.headers["Content-Type"].startswith("text/css") and b"red" in r.read()
    assert _request(c.base + "/nope.js")[0] == 404
