// Starts the page: picks the source, draws the shown frame, runs the animation loop, and
// publishes window.etcdlabView for tests and the console.
//
// Which source, first match wins:
//   window.ETCDLAB_RECORDING (a notebook embed)    -> that recording
//   ?recording=URL                                 -> the recording at URL
//   ?members=URL,URL                               -> those real members
//   file:// or about:srcdoc                        -> nothing yet: "Open recording…" or members
//   a page under /etcdlab/view/ (served by member) -> the members of this member's cluster
//   otherwise (served by python -m etcdlab.view)   -> GET api/info: sim, trace, or real
(function () {
  'use strict';
  var P = (window.etcdlabViewParts = window.etcdlabViewParts || {});
  var T = P.timeline;

  var source = null; // 'sim' | 'trace' | 'real' | 'recording' | null

  var V = (P.view = {});

  V.setSource = function (s) {
    source = s;
    document.getElementById('view').setAttribute('data-source', s || '');
    var messages = s !== 'real';
    // Replaying makes sense for recorded runs; the simulator has Play, members run by themselves.
    var replay = s === 'trace' || s === 'recording';
    var rb = document.querySelectorAll('#replay, .replay-rate');
    for (var i = 0; i < rb.length; i++) rb[i].hidden = !replay;
    document.getElementById('slowmo').parentNode.hidden = !messages;
    if (s !== 'sim' && P.controls.enabled) P.controls.enable(false);
  };

  // Stops every source's loops before another one starts.
  V.stopSources = function () {
    T.stopAll();
    P.members.stop();
    P.server.stop();
    P.controls.enable(false);
    P.panels.replayCommand(null);
  };

  V.redraw = function () {
    draw(T.current());
  };

  function draw(frame) {
    P.cluster.render(frame);
    P.logs.render(frame);
    P.panels.render(frame);
    P.dots.update(frame, T.vt);
  }

  // The animation loop: advance the clock, move the dots.
  var lastTs = null;
  function loop(ts) {
    var dt = lastTs === null ? 0 : ts - lastTs;
    lastTs = ts;
    T.advance(dt);
    P.dots.update(T.current(), T.vt);
    window.requestAnimationFrame(loop);
  }

  function startMembers(urls, user, password) {
    V.stopSources();
    V.setSource('real');
    P.panels.title('real cluster');
    document.getElementById('members-input').value = urls.join(',');
    document.getElementById('source-panel').open = true;
    P.panels.status('connecting to ' + urls.length + ' member' + (urls.length === 1 ? '' : 's') +
                    ' …');
    T.horizon = function () { return Infinity; };
    P.members.start(urls, user, password);
  }

  function splitUrls(text) {
    return String(text || '').split(/[\s,]+/).filter(Boolean);
  }

  function bindSourcePanel() {
    document.getElementById('connect').addEventListener('click', function () {
      var urls = splitUrls(document.getElementById('members-input').value);
      if (!urls.length) {
        P.panels.status('enter one or more member URLs (comma separated)', 'warn');
        return;
      }
      startMembers(urls, document.getElementById('view-user').value,
                   document.getElementById('view-password').value);
    });
    document.getElementById('members-input').addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter') document.getElementById('connect').click();
    });
    var replay = document.getElementById('replay');
    var rate = document.getElementById('replay-rate');
    replay.addEventListener('click', function () {
      if (T.replaying) {
        T.stopAll();
        return;
      }
      if (!T.frames.length) return;
      if (T.cur >= T.frames.length - 1) T.seek(0);
      T.follow = false;
      T.rate = function () { return Number(rate.value) / 1000; };
      T.replaying = true;
      T.start();
      P.text(replay, 'Stop');
    });
    T.onStop.push(function () { P.text(replay, 'Replay'); });
  }

  function idle(why) {
    V.setSource(null);
    document.getElementById('source-panel').open = true;
    P.panels.title('');
    P.panels.status(why + ' \u2014 open a recording (or drop one here), or enter member URLs',
                    'warn');
  }

  // ?frame=K (0-based) opens a recording or trace at frame K (links, screenshots).
  function seekParam(q) {
    var k = q.get('frame');
    if (k !== null && k !== '' && T.frames.length) T.seek(Number(k));
  }

  function choose() {
    var q = new URLSearchParams(location.search);
    if (window.ETCDLAB_RECORDING) {
      P.recording.load(window.ETCDLAB_RECORDING, 'embedded recording');
      seekParam(q);
    } else if (q.get('recording')) {
      V.setSource('recording');
      P.recording.fromUrl(q.get('recording')).then(function () { seekParam(q); });
    } else if (q.get('members')) {
      startMembers(splitUrls(q.get('members')), '', '');
    } else if (location.protocol === 'file:' || location.protocol === 'about:') {
      idle('no source');
    } else if (/\/etcdlab\/view(\/|$)/.test(location.pathname)) {
      startMembers([location.origin], '', '');
    } else {
      P.server.probe().then(function (info) {
        if (info.source === 'real') {
          startMembers(info.members || [], '', '');
          return;
        }
        V.setSource(info.source === 'sim' ? 'sim' : 'trace');
        P.controls.enable(info.source === 'sim' && info.controls !== false);
        P.server.start(info).then(function () { seekParam(q); }, function (err) {
          P.panels.status(err.message, 'error');
        });
      }, function (err) {
        idle('no etcdlab.view server here (' + err.message + ')');
      });
    }
  }

  // Keys: space plays/pauses (the simulator) or replays/stops (a recording); arrows step
  // through frames. Not while typing in a field.
  function bindKeys() {
    document.addEventListener('keydown', function (ev) {
      var tag = ev.target && ev.target.tagName;
      if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || tag === 'BUTTON' ||
          ev.ctrlKey || ev.metaKey || ev.altKey) {
        return;
      }
      if (ev.key === ' ') {
        var b = document.getElementById(P.controls.enabled ? 'play' : 'replay');
        if (!b.hidden && !b.closest('[hidden]')) b.click();
      } else if (ev.key === 'ArrowLeft') {
        document.getElementById('prev-frame').click();
      } else if (ev.key === 'ArrowRight') {
        document.getElementById('next-frame').click();
      } else {
        return;
      }
      ev.preventDefault();
    });
  }

  function boot() {
    P.panels.legend();
    T.bindSlider();
    T.onShow.push(function (frame) { draw(frame); });
    P.recording.bind();
    P.controls.bind();
    bindSourcePanel();
    bindKeys();
    window.addEventListener('resize', function () { P.logs.render(T.current(), true); });
    choose();
    window.requestAnimationFrame(loop);
  }

  // For tests and the console (contract section 5).
  window.etcdlabView = {
    frames: function () { return T.frames; },
    current: function () { return T.current(); },
    index: function () { return T.cur; },
    seek: function (i) { T.stopAll(); T.seek(i); },
    live: function () { return T.follow; },
    load: function (rec) { return P.recording.load(rec, 'recording'); },
    connect: function (urls, user, password) { startMembers(urls, user || '', password || ''); },
  };
  Object.defineProperty(window.etcdlabView, 'source', {
    enumerable: true,
    get: function () { return source; },
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
