// Source (a): the page served by `python -m etcdlab.view`, which answers /api/info,
// /api/frames?since=K and (simulator only) POST /api/action.
//
// Frames are fetched in order and appended to the timeline; while the simulator plays, the
// play loop (controls.js) asks it to run a few virtual ms at a time and this file fetches what
// that produced. While paused it still polls now and then, so actions sent by someone else
// (a test, a second tab) show up too.
(function () {
  'use strict';
  var P = (window.etcdlabViewParts = window.etcdlabViewParts || {});
  var T = P.timeline;

  var S = (P.server = {
    info: null,
    next: 0,       // the next frame number to ask for
    simNow: 0,     // our estimate of the simulator's virtual time (>= the last frame's)
    busy: false,   // a request is on its way
    gen: 0,        // bumped by stop(): answers to an older start are dropped
  });
  var pollTimer = null;

  // fetch() with a JSON body either way; rejects with a readable message.
  S.api = function (method, path, body) {
    var opts = {method: method, headers: {}};
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (r) {
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : {}; } catch (e) { data = null; }
        if (!r.ok) {
          var why = data && data.error ? data.error : text.slice(0, 200) || r.statusText;
          throw new Error(method + ' ' + path + ': HTTP ' + r.status + ' ' + why);
        }
        if (data === null) throw new Error(method + ' ' + path + ': not JSON');
        return data;
      });
    });
  };

  // Asks /api/info; resolves with it, or rejects when this is not an etcdlab.view server.
  S.probe = function () {
    return S.api('GET', 'api/info').then(function (info) {
      if (!info || !info.source) throw new Error('api/info: no "source"');
      return info;
    });
  };

  // Starts showing the server's frames (info from probe()).
  S.start = function (info) {
    S.stop();
    S.info = info;
    S.next = 0;
    T.reset();
    P.panels.title(P.panels.sourceTitle(info.title, info.seed, info.nodes,
                                        info.source === 'sim' ? 'simulated cluster' : 'recording'));
    T.horizon = function () {
      var last = T.frames.length ? T.frames[T.frames.length - 1].t_ms : 0;
      return Math.max(last, S.simNow);
    };
    return S.fetchNew().then(function () {
      P.panels.status(info.source === 'sim' ?
                      'simulator: paused (' + T.frames.length + ' frames)' :
                      'trace: ' + T.frames.length + ' frames');
      if (info.source === 'sim') pollTimer = setInterval(pollWhilePaused, 500);
    });
  };

  // Stops polling (another source was opened).
  S.stop = function () {
    S.gen++;
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  };

  // Fetches the frames made since the last fetch and appends them. Fetches run one after
  // another (a poll and an action's fetch must not both append frames since the same K).
  var chain = Promise.resolve();
  S.fetchNew = function () {
    var p = chain.then(fetchOnce);
    chain = p.catch(function () {});
    return p;
  };
  function fetchOnce() {
    var gen = S.gen;
    return S.api('GET', 'api/frames?since=' + S.next).then(function (r) {
      if (gen !== S.gen) return 0;
      var frames = r.frames || [];
      if (typeof r.next === 'number') S.next = r.next;
      else S.next += frames.length;
      T.append(frames);
      if (T.frames.length) S.simNow = Math.max(S.simNow, T.frames[T.frames.length - 1].t_ms);
      return frames.length;
    });
  }

  // POSTs an action, then fetches what it produced. Rejects (and shows why) on an error.
  S.action = function (body) {
    S.busy = true;
    return S.api('POST', 'api/action', body).then(function () {
      if (body.action === 'run') S.simNow += Number(body.ms) || 0;
      return S.fetchNew();
    }).then(function (n) {
      S.busy = false;
      return n;
    }, function (err) {
      S.busy = false;
      P.panels.status(err.message, 'error');
      throw err;
    });
  };

  var polling = false;
  function pollWhilePaused() {
    if (P.controls && P.controls.playing) return;
    if (S.busy || polling) return;
    polling = true;
    S.fetchNew().then(function () { polling = false; }, function (err) {
      polling = false;
      P.panels.status('lost the server: ' + err.message, 'error');
    });
  }
})();
