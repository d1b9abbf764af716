// Source (c): real members started with --enable-view. Each member is watched on its own:
//
//  - without credentials: one GET /etcdlab/state (to see a 401 or 404 and say why: an
//    EventSource cannot show a status code), then the member's /etcdlab/events stream (or
//    polling, if a stream fails before its first event: a 429, too many open);
//  - with user/password: a token from POST /v3/auth/authenticate, then GET /etcdlab/state
//    with `Authorization: <token>` every POLL_MS (so the token never appears in a URL).
//
// A member that does not answer within DOWN_MS (a poll, or the stream's heartbeat, which
// comes at least every 2 s) or whose stream fails is shown down; it is tried again every
// RETRY_MS. members_combine.js turns the members' latest states into frames.
(function () {
  'use strict';
  var P = (window.etcdlabViewParts = window.etcdlabViewParts || {});

  var POLL_MS = 300, DOWN_MS = 1500, STREAM_SILENT_MS = 3000, RETRY_MS = 1500;

  var M = (P.members = {
    conns: [],    // {url, up, state, pageMs, es, timer, problem}
    token: null,
    user: '',
    password: '',
    gen: 0,       // bumped by stop(): callbacks of an older start are ignored
  });

  // Starts watching `urls` (an array). user/password: '' for none.
  M.start = function (urls, user, password) {
    M.stop();
    var gen = M.gen;
    M.user = user || '';
    M.password = password || '';
    M.token = null;
    M.conns = [];
    for (var i = 0; i < urls.length; i++) M.add(urls[i]);
    P.combine.reset();
    var first = M.user ? authenticate(gen) : Promise.resolve();
    first.then(function () {
      if (gen !== M.gen) return;
      for (var j = 0; j < M.conns.length; j++) connect(M.conns[j], gen);
    });
    M.watchdog = setInterval(function () { watchdog(gen); }, 500);
  };

  M.stop = function () {
    M.gen++;
    for (var i = 0; i < M.conns.length; i++) closeConn(M.conns[i]);
    if (M.watchdog) clearInterval(M.watchdog);
    M.watchdog = null;
  };

  // Adds a member URL (from the list given, or found in a member's member list).
  M.add = function (url) {
    url = normUrl(url);
    for (var i = 0; i < M.conns.length; i++) if (M.conns[i].url === url) return null;
    // noStream: a stream failed before its first event although the member had just answered
    // (it refuses more streams: 429), so it is polled instead.
    var c = {url: url, up: false, state: null, pageMs: 0, es: null, timer: null, problem: '',
             seenMs: 0, noStream: false};
    M.conns.push(c);
    return c;
  };
  // Connects a member added after start (found by discovery).
  M.connectLate = function (c) { connect(c, M.gen); };

  function normUrl(u) {
    u = String(u).trim().replace(/\/+$/, '');
    if (!/^https?:\/\//i.test(u)) u = 'http://' + u;
    return u;
  }

  function authenticate(gen) {
    var tries = M.conns.slice();
    function attempt(k) {
      if (k >= tries.length) return Promise.resolve();
      var url = tries[k].url + '/v3/auth/authenticate';
      return timedFetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'},
                              body: JSON.stringify({name: M.user, password: M.password})})
        .then(function (r) {
          return r.text().then(function (text) {
            var body = parseJson(text);
            if (!r.ok) {
              // A wrong password is the same answer everywhere: stop there and say it.
              M.problem = 'authenticate: HTTP ' + r.status + ' ' + errorText(body, text);
              return null;
            }
            if (body && body.token) {
              M.token = body.token;
              M.problem = '';
              return null;
            }
            M.problem = 'authenticate: no token in the answer (is auth enabled?)';
            return null;
          });
        }, function () { return attempt(k + 1); });
    }
    return attempt(0).then(function () {
      if (gen === M.gen) P.combine.changed();
    });
  }

  function connect(c, gen) {
    if (gen !== M.gen) return;
    fetchState(c, gen).then(function (ok) {
      if (gen !== M.gen) return;
      if (ok && !M.token && !c.noStream) openStream(c, gen);
      else c.timer = setTimeout(function () { connect(c, gen); }, ok ? POLL_MS : RETRY_MS);
    });
  }

  // One GET /etcdlab/state; resolves true when the member answered with a state.
  function fetchState(c, gen, retried) {
    var headers = M.token ? {Authorization: M.token} : {};
    return timedFetch(c.url + '/etcdlab/state', {headers: headers}).then(function (r) {
      return r.text().then(function (text) {
        if (gen !== M.gen) return false;
        var body = parseJson(text);
        if (r.ok && body && body.node) {
          c.problem = '';
          onState(c, body);
          return true;
        }
        if (r.status === 401 && M.token && !retried) {
          // The token expired: get another once, then ask again.
          return authenticate(gen).then(function () { return fetchState(c, gen, true); });
        }
        if (r.status === 401) {
          c.problem = 'HTTP 401 ' + errorText(body, text) +
                      (M.user ? '' : ' \u2014 enter the root user and password and Connect');
        } else if (r.status === 404) {
          c.problem = 'HTTP 404: no /etcdlab/state (was the member started with --enable-view?)';
        } else {
          c.problem = 'HTTP ' + r.status + ' ' + errorText(body, text);
        }
        markDown(c);
        return false;
      });
    }, function () {
      if (gen !== M.gen) return false;
      c.problem = '';
      markDown(c);
      return false;
    });
  }

  function openStream(c, gen) {
    var es;
    try { es = new EventSource(c.url + '/etcdlab/events'); } catch (e) {
      c.timer = setTimeout(function () { connect(c, gen); }, RETRY_MS);
      return;
    }
    c.es = es;
    var got = false;
    es.onmessage = function (ev) {
      if (gen !== M.gen || c.es !== es) return;
      var body = parseJson(ev.data);
      if (!body || !body.node) return;
      got = true;
      onState(c, body);
    };
    es.onerror = function () {
      if (gen !== M.gen || c.es !== es) return;
      // Closed or reconnecting: either way the member is not talking to us now. Ask again
      // with a plain GET first, so a 401 or 404 is seen and explained.
      es.close();
      c.es = null;
      if (!got) {
        // It answered the GET a moment ago: poll it from now on (a dead member shows as
        // down at the first poll that fails).
        c.noStream = true;
        connect(c, gen);
        return;
      }
      markDown(c);
      c.timer = setTimeout(function () { connect(c, gen); }, RETRY_MS);
    };
  }

  function watchdog(gen) {
    if (gen !== M.gen) return;
    var now = performance.now();
    for (var i = 0; i < M.conns.length; i++) {
      var c = M.conns[i];
      if (!c.up) continue;
      var limit = c.es ? STREAM_SILENT_MS : POLL_MS + DOWN_MS;
      if (now - c.seenMs > limit) {
        markDown(c);
        if (c.es) {
          c.es.close();
          c.es = null;
          clearTimeout(c.timer);
          connectLater(c, gen);
        }
      }
    }
  }
  function connectLater(c, gen) {
    c.timer = setTimeout(function () { connect(c, gen); }, RETRY_MS);
  }

  function onState(c, state) {
    c.state = state;
    c.up = true;
    c.seenMs = performance.now();
    c.pageMs = P.combine.now();
    P.combine.discover(state, c);
    P.combine.changed();
  }

  // (The frame is appended only if the picture changed; the status line is refreshed.)
  function markDown(c) {
    c.up = false;
    P.combine.changed();
  }

  function closeConn(c) {
    if (c.es) c.es.close();
    c.es = null;
    if (c.timer) clearTimeout(c.timer);
    c.timer = null;
  }

  // fetch() that gives up after DOWN_MS (a member that does not answer is down).
  function timedFetch(url, opts) {
    var ctl = typeof AbortController === 'function' ? new AbortController() : null;
    if (ctl) opts.signal = ctl.signal;
    var t = setTimeout(function () { if (ctl) ctl.abort(); }, DOWN_MS);
    return fetch(url, opts).then(function (r) {
      clearTimeout(t);
      return r;
    }, function (err) {
      clearTimeout(t);
      throw err;
    });
  }

  function parseJson(text) {
    try { return JSON.parse(text); } catch (e) { return null; }
  }
  // etcd's error bodies: {"error": "...", "code": N, "message": "..."}.
  function errorText(body, text) {
    if (body && (body.error || body.message)) return String(body.error || body.message);
    return String(text || '').slice(0, 160);
  }
})();
