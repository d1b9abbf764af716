// The simulator's controls (shown only when /api/info says controls: true) and the play loop.
//
// The simulator advances only when asked (contract section 4): Play sends {"action": "run",
// "ms": <speed>} every TICK_MS, but only once the picture has caught up with what the last run
// produced, so the simulator never runs far ahead of what is on screen and an action (crash,
// partition...) lands at about the virtual time being watched. Step runs one event.
(function () {
  'use strict';
  var P = (window.etcdlabViewParts = window.etcdlabViewParts || {});
  var T = P.timeline;

  var TICK_MS = 100;

  var Ct = (P.controls = {playing: false, enabled: false});
  var timer = null;

  function $(id) { return document.getElementById(id); }

  function speed() {
    var v = Number($('speed').value);
    return v > 0 ? v : 20;
  }

  // Sends an action; afterwards the newest frame is shown (unless playing, when the clock
  // walks to it).
  function act(body) {
    if (!Ct.enabled) return Promise.resolve();
    T.follow = true;
    return P.server.action(body).then(function (frames) {
      if (!Ct.playing) T.goLive();
      statusLine(body.action === 'step' && !frames ? ' \u2014 that event changed nothing visible'
                                                   : '');
    }, function () {});
  }

  // "simulator: paused at <t> virtual ms": t is the time of the frame on screen (the one
  // #event describes), kept so as frames are shown (see bind), unless a warning or an error
  // holds the line.
  function statusLine(extra) {
    var f = T.current();
    P.panels.status('simulator: ' + (Ct.playing ? 'playing' : 'paused') +
                    (f ? ' at ' + f.t_ms.toFixed(1) + ' virtual ms' : '') + (extra || ''));
  }

  Ct.play = function () {
    if (Ct.playing || !Ct.enabled) return;
    Ct.playing = true;
    P.text($('play'), 'Pause');
    P.attr($('play'), 'aria-pressed', 'true');
    // Go on from the picture shown if it is the newest (just paused); from the newest if the
    // user was looking at the past.
    if (T.horizon() - T.vt > 2 * speed()) T.goLive();
    T.follow = true;
    T.rate = function () { return speed() / TICK_MS; };
    T.start();
    timer = setInterval(tick, TICK_MS);
    statusLine();
  };

  Ct.pause = function () {
    if (!Ct.playing) return;
    Ct.playing = false;
    clearInterval(timer);
    timer = null;
    T.stop();
    // The picture stays where it is, also when a run sent before the pause brings newer
    // frames; "Live" is lit only if it shows the newest frame and none is on its way.
    T.follow = T.cur === T.frames.length - 1 && !P.server.busy;
    T.syncSlider();
    P.text($('play'), 'Play');
    P.attr($('play'), 'aria-pressed', 'false');
    statusLine();
  };

  function tick() {
    if (!Ct.playing || P.server.busy) return;
    // Wait for the picture: vt within one run of the simulator's time.
    if (T.horizon() - T.vt > speed()) return;
    P.server.action({action: 'run', ms: speed()}).then(function () {
      if (Ct.playing) statusLine();
    }, function () { Ct.pause(); });
  }

  function groups(text) {
    var out = [];
    var parts = String(text).split('|');
    for (var i = 0; i < parts.length; i++) {
      var g = parts[i].split(/[\s,]+/).filter(Boolean).map(Number);
      for (var j = 0; j < g.length; j++) {
        if (!(g[j] >= 1) || g[j] % 1) throw new Error('"' + parts[i] + '" is not a list of ids');
      }
      if (g.length) out.push(g);
    }
    if (out.length < 2) throw new Error('give at least two groups, e.g. 1,2|3,4,5');
    return out;
  }

  function leaderId() {
    var f = T.frames.length ? T.frames[T.frames.length - 1] : null;
    var nodes = (f && f.nodes) || [];
    for (var i = 0; i < nodes.length; i++) {
      if (nodes[i].up !== false && nodes[i].role === 'leader') return nodes[i].id;
    }
    return null;
  }

  // Shows or hides the controls; binds them once.
  Ct.enable = function (on) {
    Ct.enabled = on;
    $('controls').hidden = !on;
    P.cluster.showButtons = on;
    P.view.redraw();
  };

  Ct.bind = function () {
    $('play').addEventListener('click', function () {
      if (Ct.playing) Ct.pause(); else Ct.play();
    });
    $('step').addEventListener('click', function () {
      Ct.pause();
      act({action: 'step', events: 1});
    });
    $('heal').addEventListener('click', function () { act({action: 'heal'}); });
    $('partition').addEventListener('click', function () {
      try {
        act({action: 'partition', groups: groups($('partition-groups').value)});
      } catch (e) {
        P.panels.status('partition: ' + e.message, 'error');
      }
    });
    $('isolate-leader').addEventListener('click', function () {
      var id = leaderId();
      if (id === null) P.panels.status('isolate leader: no leader right now', 'warn');
      else act({action: 'isolate', node: id});
    });
    $('drop').addEventListener('click', function () {
      var rate = Number($('drop-rate').value);
      if (!(rate >= 0 && rate <= 1)) P.panels.status('drop rate: a number from 0 to 1', 'error');
      else act({action: 'drop', rate: rate});
    });
    $('propose').addEventListener('click', function () {
      act({action: 'propose', data: $('propose-data').value, via: null});
    });
    P.cluster.onAction = function (action, id) { act({action: action, node: id}); };
    // Dragging the slider (or the frame buttons) stops playing: the past is being watched.
    T.onStop.push(function () { Ct.pause(); });
    T.onShow.push(function () {
      if (Ct.enabled && !$('status').className) statusLine();
    });
  };
})();
