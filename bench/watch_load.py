"""Watch workloads for bench/compare-etcd --watch, against etcd 3.4 and etcdlab alike through
the v3 JSON gateway's /v3/watch (one HTTP connection per watch stream, many watchers per
stream, as a gRPC client multiplexes them):

  fanout       W watchers on one key over S streams; P puts to the key one after another; how
               many events per second reach the watchers (W x P events), and how long after
               the last put's answer the last event arrived
  prefix_load  the put workload with and without one prefix watcher reading every event
  idle_memory  resident memory per idle watcher (W watchers on distinct keys over S streams)
               and per idle stream (S2 more streams of one watcher each)

The readers count events in the raw chunked bytes (no JSON parsing: Python would be the
bottleneck); a response line holds one "mod_revision" per event (no prev_kv is asked for).
"""

import base64
import http.client
import selectors
import socket
import threading
import time


def b64(s):
    return base64.b64encode(s.encode()).decode()


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class WatchStreams:
    """`streams` open /v3/watch connections to 127.0.0.1:port, read by one selector loop that
    counts created answers and events (optionally in its own thread)."""

    def __init__(self, port, streams):
        self.sel = selectors.DefaultSelector()
        self.socks = []
        self.created = 0
        self.events = 0
        self.last_event_at = 0.0
        self._tails = {}
        self._stop = False
        for _ in range(streams):
            s = socket.create_connection(("127.0.0.1", port))
            # etcd 3.4's gateway starts reading a streamed body only after it answered
            # "100 Continue" (without the Expect header, it waits for the whole body).
            s.sendall(b"POST /v3/watch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\nExpect: 100-continue\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ)
            self.socks.append(s)
            self._tails[s] = b""

    def create(self, stream, requests):
        """Sends create requests (dicts of create_request fields) on stream `stream`."""
        import json
        body = b"".join(json.dumps({"create_request": r}).encode() + b"\n" for r in requests)
        s = self.socks[stream]
        s.setblocking(True)
        s.sendall(_chunk(body))
        s.setblocking(False)

    def poll(self, timeout=0.05):
        for key, _ in self.sel.select(timeout):
            s = key.fileobj
            try:
                data = s.recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                self.sel.unregister(s)
                continue
            tail = self._tails[s]
            joined = tail + data
            # Tokens cut by a read boundary are counted once: counted in the joined bytes,
            # minus what the old tail alone held.
            self.created += joined.count(b'"created":true') - tail.count(b'"created":true')
            n = joined.count(b'"mod_revision"') - tail.count(b'"mod_revision"')
            if n:
                self.events += n
                self.last_event_at = time.monotonic()
            self._tails[s] = joined[-32:]

    def wait(self, done, timeout):
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            self.poll()
        return done()

    def run_in_thread(self):
        def loop():
            while not self._stop:
                self.poll()
        t = threading.Thread(target=loop, daemon=True)
        t.start()
        return t

    def close(self):
        self._stop = True
        for s in self.socks:
            try:
                self.sel.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()


def _put(conn, key, value):
    import json
    conn.request("POST", "/v3/kv/put", json.dumps({"key": b64(key), "value": b64(value)}),
                 {"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        raise RuntimeError(f"put answered {r.status}")


def fanout(port, watchers=10000, streams=100, puts=100, timeout=120):
    ws = WatchStreams(port, streams)
    try:
        per = watchers // streams
        for i in range(streams):
            ws.create(i, [{"key": b64("fan")}] * per)
        total = per * streams
        if not ws.wait(lambda: ws.created >= total, timeout):
            raise RuntimeError(f"only {ws.created} of {total} watchers were created")
        reader = ws.run_in_thread()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start = time.monotonic()
        for i in range(puts):
            _put(conn, "fan", f"v{i}")
        puts_done = time.monotonic()
        want = total * puts
        deadline = time.monotonic() + timeout
        while ws.events < want and time.monotonic() < deadline:
            time.sleep(0.01)
        ws._stop = True
        reader.join()
        got = ws.events
        elapsed = max(ws.last_event_at, puts_done) - start
        return {"watchers": total, "streams": streams, "puts": puts, "events": got,
                "events_expected": want, "seconds": round(elapsed, 3),
                "events_per_s": round(got / elapsed) if elapsed > 0 else 0,
                "puts_per_s": round(puts / (puts_done - start)),
                "last_event_after_last_put_ms": round(max(0.0, ws.last_event_at - puts_done) * 1000, 1)}
    finally:
        ws.close()


def idle_memory(port, pid, rss_kib, watchers=10000, streams=100, extra_streams=1000,
                timeout=120):
    before = rss_kib(pid)
    ws = WatchStreams(port, streams)
    one_each = None
    try:
        per = watchers // streams
        for i in range(streams):
            ws.create(i, [{"key": b64(f"idle/{i}/{j}")} for j in range(per)])
        total = per * streams
        if not ws.wait(lambda: ws.created >= total, timeout):
            raise RuntimeError(f"only {ws.created} of {total} watchers were created")
        time.sleep(1)
        with_watchers = rss_kib(pid)
        one_each = WatchStreams(port, extra_streams)
        for i in range(extra_streams):
            one_each.create(i, [{"key": b64(f"idle/s/{i}")}])
        if not one_each.wait(lambda: one_each.created >= extra_streams, timeout):
            raise RuntimeError(f"only {one_each.created} of {extra_streams} streams started")
        time.sleep(1)
        with_streams = rss_kib(pid)
        return {"watchers": total, "streams": streams, "extra_streams": extra_streams,
                "rss_before_kib": before, "rss_with_watchers_kib": with_watchers,
                "rss_with_streams_kib": with_streams,
                "bytes_per_idle_watcher": round((with_watchers - before) * 1024 / total),
                "bytes_per_idle_stream": round((with_streams - with_watchers) * 1024 / extra_streams)}
    finally:
        ws.close()
        if one_each is not None:
            one_each.close()


class PrefixWatcher:
    """One watcher on every key of a prefix, read in its own thread while a load runs."""

    def __init__(self, port, prefix):
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        self.ws = WatchStreams(port, 1)
        self.ws.create(0, [{"key": b64(prefix), "range_end": b64(end)}])
        if not self.ws.wait(lambda: self.ws.created >= 1, 30):
            raise RuntimeError("the prefix watcher was not created")
        self.thread = self.ws.run_in_thread()

    def stop(self, expect_events=None, timeout=60):
        if expect_events is not None:
            deadline = time.monotonic() + timeout
            while self.ws.events < expect_events and time.monotonic() < deadline:
                time.sleep(0.05)
        self.ws._stop = True
        self.thread.join()
        self.ws.close()
        return self.ws.events
