// The frames seen so far and the clock that walks through them, with the slider that shows it.
//
// Two numbers say what is on screen: `cur`, the frame drawn (its nodes, logs, clients), and
// `vt`, the virtual time the message dots are drawn at (vt >= frames[cur].t_ms). While the
// clock runs (the simulator plays, or a recording replays) vt grows with real time and cur
// follows it through EVERY frame in order (a frame is never jumped over while a message is in
// the air), so every message crosses the screen instead of blinking or being skipped. When
// the clock stops, vt sits at the shown frame's time. `follow` means "stay at the newest frame"
// (the slider's right end): new frames are then shown as they arrive.
(function () {
  'use strict';
  var P = (window.etcdlabViewParts = window.etcdlabViewParts || {});

  // Slow motion (#slowmo): while a message is in flight the clock runs at most SLOW_RATE
  // virtual ms per real ms (a 3 ms flight takes 150 ms on screen), or at 1/SLOW_MAX of the
  // chosen speed when that is faster, so a high speed still fast-forwards. Messages fly only
  // a small part of the time (a heartbeat round every ~100 ms), so the quiet stretches between
  // them pass at the chosen speed. A frame that brings a new message ends the animation frame
  // (it is drawn before the clock goes on). Flights longer than SLOW_FLIGHT_MAX_MS (messages
  // the network delays on purpose) do not slow the clock, or one of them would stall it.
  var SLOW_RATE = 1 / 50;
  var SLOW_MAX = 50;
  var SLOW_FLIGHT_MAX_MS = 50;

  var T = (P.timeline = {
    frames: [],
    cur: -1,
    vt: 0,
    follow: true,
    running: false, // the clock advances vt (sim play or replay)
    firstSeen: Object.create(null), // message id -> t_ms of the first frame holding it
    // Set by the source: virtual ms per real ms while running, and how far vt may go.
    rate: function () { return 0.1; },
    horizon: function () { return T.frames.length ? T.frames[T.frames.length - 1].t_ms : 0; },
    onShow: [], // callbacks (frame, index) when cur changes or the frame is replaced
    onStop: [], // callbacks when the clock stops by itself (a replay reached the end)
  });

  T.current = function () { return T.cur >= 0 ? T.frames[T.cur] : null; };

  T.reset = function () {
    T.frames = [];
    T.cur = -1;
    T.vt = 0;
    T.follow = true;
    T.running = false;
    T.firstSeen = Object.create(null);
    syncSlider();
    fire(T.onShow, null, -1);
  };

  // Adds frames (oldest first). Shown at once when following with the clock stopped; else
  // the running clock reaches them, or the user drags to them.
  T.append = function (list) {
    if (!list || !list.length) return;
    for (var i = 0; i < list.length; i++) {
      var f = list[i];
      T.frames.push(f);
      var msgs = f.messages || [];
      for (var j = 0; j < msgs.length; j++) {
        if (!(msgs[j].id in T.firstSeen)) T.firstSeen[msgs[j].id] = f.t_ms;
      }
    }
    if (T.cur < 0) show(T.running ? 0 : T.frames.length - 1, true);
    else if (T.follow && !T.running) show(T.frames.length - 1, true);
    syncSlider();
  };

  // Keeps at most `cap` frames (real mode runs for hours); drops the oldest.
  T.trim = function (cap) {
    var extra = T.frames.length - cap;
    if (extra <= 0) return;
    T.frames.splice(0, extra);
    T.cur = Math.max(0, T.cur - extra);
    syncSlider();
  };

  // Shows frame i with the clock stopped there (slider, step buttons).
  T.seek = function (i) {
    if (!T.frames.length) return;
    i = Math.max(0, Math.min(T.frames.length - 1, i | 0));
    T.follow = i === T.frames.length - 1;
    show(i, true);
    syncSlider();
  };

  T.goLive = function () {
    T.follow = true;
    if (T.frames.length) show(T.frames.length - 1, true);
    syncSlider();
  };

  T.start = function () { T.running = true; };
  T.stop = function () { T.running = false; };

  // Called once per animation frame with the real ms since the previous one. The clock
  // walks frame by frame: each piece of the way (up to the next frame, or to the landing of
  // the first message in the air) goes at its own rate.
  T.advance = function (dtMs) {
    if (!T.running || !T.frames.length) return;
    var budget = Math.min(dtMs, 100); // a background tab must not jump the clock
    var h = T.horizon();
    var i = T.cur;
    while (budget > 0 && T.vt < h) {
      var rate = T.rate();
      if (!(rate > 0)) break;
      var end = i + 1 < T.frames.length ? Math.min(T.frames[i + 1].t_ms, h) : h;
      var landing = T.slowmo ? firstLanding(T.frames[i], T.vt) : null;
      if (landing !== null) {
        rate = Math.min(rate, Math.max(SLOW_RATE, rate / SLOW_MAX));
        end = Math.min(end, landing);
      }
      var need = Math.max(0, end - T.vt) / rate;
      if (need > budget) {
        T.vt += budget * rate;
        break;
      }
      budget -= need;
      T.vt = Math.max(T.vt, end);
      if (i + 1 < T.frames.length && T.frames[i + 1].t_ms <= T.vt) {
        i++;
        if (T.slowmo && newMessage(T.frames[i - 1], T.frames[i])) break;
      }
    }
    if (i !== T.cur) {
      show(i, false);
      syncSlider();
    }
    var last = T.frames.length - 1;
    if (T.replaying && T.cur === last && T.vt >= T.frames[last].t_ms) {
      T.running = false;
      T.replaying = false;
      T.follow = true;
      fire(T.onStop);
    }
  };

  // The dots' start time: the message's sent_ms, else when a frame first held it.
  T.sentMs = function (m) {
    if (typeof m.sent_ms === 'number') return m.sent_ms;
    return m.id in T.firstSeen ? T.firstSeen[m.id] : null;
  };

  // The earliest due_ms of a (short) flight in the air at vt in `frame`, or null.
  function firstLanding(frame, vt) {
    var msgs = (frame && frame.messages) || [];
    var first = null;
    for (var i = 0; i < msgs.length; i++) {
      var sent = T.sentMs(msgs[i]);
      var due = msgs[i].due_ms;
      if (sent === null || typeof due !== 'number') continue;
      if (due - sent <= SLOW_FLIGHT_MAX_MS && vt >= sent && vt < due &&
          (first === null || due < first)) {
        first = due;
      }
    }
    return first;
  }

  // Whether `frame` holds a message `prev` did not.
  function newMessage(prev, frame) {
    var had = {};
    var before = (prev && prev.messages) || [];
    for (var i = 0; i < before.length; i++) had[before[i].id] = true;
    var now = (frame && frame.messages) || [];
    for (var j = 0; j < now.length; j++) if (!had[now[j].id]) return true;
    return false;
  }

  function show(i, setClock) {
    T.cur = i;
    var f = T.frames[i];
    if (setClock && f) T.vt = f.t_ms;
    if (f && T.vt < f.t_ms) T.vt = f.t_ms;
    fire(T.onShow, f, i);
  }

  function fire(list, a, b) {
    for (var i = 0; i < list.length; i++) list[i](a, b);
  }

  // The slider: its value is the 0-based frame index; "#frame-index" reads "k / n" with k
  // 1-based (the first frame is "1 / n"; "0 / 0" when there is none).
  var slider, label;
  function syncSlider() {
    if (!slider) return;
    var n = T.frames.length;
    P.attr(slider, 'max', Math.max(0, n - 1));
    if (String(slider.value) !== String(Math.max(0, T.cur))) slider.value = Math.max(0, T.cur);
    P.text(label, (T.cur + 1) + ' / ' + n);
    document.getElementById('live').classList.toggle('on', T.follow);
  }
  T.syncSlider = syncSlider;

  T.bindSlider = function () {
    slider = document.getElementById('slider');
    label = document.getElementById('frame-index');
    var slow = document.getElementById('slowmo');
    T.slowmo = slow.checked;
    slow.addEventListener('change', function () { T.slowmo = slow.checked; });
    slider.addEventListener('input', function () {
      T.stopAll();
      T.seek(Number(slider.value));
    });
    document.getElementById('prev-frame').addEventListener('click', function () {
      T.stopAll();
      T.seek(T.cur - 1);
    });
    document.getElementById('next-frame').addEventListener('click', function () {
      T.stopAll();
      T.seek(T.cur + 1);
    });
    document.getElementById('live').addEventListener('click', function () {
      T.stopAll();
      T.goLive();
    });
    syncSlider();
  };

  // Stops whatever drives the clock; the source sets this (the sim pauses its play loop too).
  T.stopAll = function () {
    T.running = false;
    T.replaying = false;
    fire(T.onStop);
  };
})();
