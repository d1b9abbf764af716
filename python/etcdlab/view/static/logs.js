// The members' logs, one row each, aligned by index (column = log index, as in RaftScope).
//
// A box is an entry colored by its term (its term printed inside when there is room);
// entries not yet committed on that member are pale with a dashed border; a dark bar follows
// the commit index and a small triangle sits under the applied index; entries folded into a
// snapshot are hatched, with a purple line at the snapshot boundary. Only the last 64 entries
// of a member are in a frame, so the columns cover at most the newest 64 indexes.
(function () {
  'use strict';
  var P = (window.etcdlabViewParts = window.etcdlabViewParts || {});

  var LABEL_W = 92, RIGHT_W = 230, RULER_H = 18, ROW_H = 30, BOX_H = 18, MAX_COLS = 64;

  var L = (P.logs = {});
  var lastKey = '';

  L.render = function (frame, force) {
    var svg = document.getElementById('logs');
    var nodes = (frame && frame.nodes) || [];
    var width = Math.max(600, svg.parentNode.clientWidth - 4);
    var key = width + '|' + JSON.stringify(nodes.map(rowKey));
    if (key === lastKey && !force) return;
    lastKey = key;
    svg.textContent = '';
    svg.appendChild(defs());
    var height = RULER_H + Math.max(1, nodes.length) * ROW_H + 4;
    svg.setAttribute('width', width);
    svg.setAttribute('height', height);
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    if (!nodes.length) return;

    var win = columns(nodes);
    var boxW = Math.min(26, (width - LABEL_W - RIGHT_W) / (win.hi - win.lo + 1));
    drawRuler(svg, win, boxW);
    for (var r = 0; r < nodes.length; r++) {
      drawRow(svg, frame, nodes[r], win, boxW, RULER_H + r * ROW_H);
    }
  };

  function rowKey(n) {
    return [n.id, n.up, n.role, n.commit, n.applied, n.first_index, n.last_index,
            n.snapshot_index, n.log_from, (n.log_terms || []).join('.')];
  }

  // The index columns shown: the newest MAX_COLS indexes any member holds.
  function columns(nodes) {
    var hi = 0, lo = Infinity;
    for (var i = 0; i < nodes.length; i++) {
      var n = nodes[i];
      if (!n.last_index) continue; // down (the simulator sends no log then) or empty
      hi = Math.max(hi, n.last_index);
      var from = n.snapshot_index ? Math.min(n.log_from || Infinity, n.snapshot_index) :
                                    (n.log_from || n.first_index || 1);
      lo = Math.min(lo, from);
    }
    if (hi < 1) hi = 1;
    if (lo === Infinity) lo = 1;
    lo = Math.max(1, Math.min(lo, hi), hi - MAX_COLS + 1);
    return {lo: lo, hi: hi};
  }

  function defs() {
    var d = P.svg('defs');
    var pat = P.svg('pattern', {id: 'hatch', width: 6, height: 6,
                                patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)'});
    pat.appendChild(P.svg('rect', {width: 6, height: 6, fill: '#e6e0ef'}));
    pat.appendChild(P.svg('line', {x1: 0, y1: 0, x2: 0, y2: 6, stroke: '#9c89b8',
                                   'stroke-width': 2}));
    d.appendChild(pat);
    return d;
  }

  function drawRuler(svg, win, boxW) {
    var steps = [1, 2, 5, 10, 20];
    var step = 20;
    for (var s = 0; s < steps.length; s++) {
      if (steps[s] * boxW >= 22) { step = steps[s]; break; }
    }
    svg.appendChild(P.svg('text', {x: 2, y: 13, 'class': 'ruler-label'}, 'index'));
    for (var i = win.lo; i <= win.hi; i++) {
      if (i % step !== 0 && i !== win.lo) continue;
      var x = LABEL_W + (i - win.lo) * boxW + boxW / 2;
      svg.appendChild(P.svg('text', {x: x, y: 13, 'class': 'ruler'}, i));
    }
  }

  function drawRow(svg, frame, n, win, boxW, y) {
    var up = n.up !== false;
    var g = P.svg('g', {'class': 'log-row' + (up ? '' : ' down'), 'data-log': n.id,
                        'data-commit': n.commit, 'data-last': n.last_index});
    g.appendChild(P.svg('circle', {cx: 9, cy: y + 9 + BOX_H / 2 - 4, r: 6,
                                   fill: P.roleColor(n.role, up), stroke: '#555'}));
    var name = n.name || 'n' + n.id;
    var label = P.svg('text', {x: 20, y: y + BOX_H, 'class': 'log-name'},
                      name.length > 9 ? name.slice(0, 8) + '\u2026' : name);
    label.appendChild(P.svg('title', null, name));
    g.appendChild(label);
    var top = y + 4;
    var terms = n.log_terms || [];
    var from = n.log_from || 1;
    for (var i = win.lo; i <= Math.min(win.hi, n.last_index || 0); i++) {
      var x = LABEL_W + (i - win.lo) * boxW;
      var committed = i <= (n.commit || 0);
      if (i >= from && i - from < terms.length) {
        var t = terms[i - from];
        var fill = P.termColor(t);
        var box = P.svg('rect', {x: x + 0.5, y: top, width: Math.max(1, boxW - 1), height: BOX_H,
                                 fill: fill, 'class': committed ? 'entry' : 'entry uncommitted'});
        box.appendChild(P.svg('title', null, (n.name || 'n' + n.id) + ' index ' + i + ' term ' +
                              t + (committed ? ', committed' : ', not committed') +
                              (i <= (n.applied || 0) ? ', applied' : '')));
        g.appendChild(box);
        if (boxW >= 13) {
          g.appendChild(P.svg('text', {x: x + boxW / 2, y: top + BOX_H - 5, 'class': 'entry-term',
                                       fill: P.inkOn(fill)}, t));
        }
      } else if (i <= (n.snapshot_index || 0)) {
        var snap = P.svg('rect', {x: x + 0.5, y: top, width: Math.max(1, boxW - 1),
                                  height: BOX_H, fill: 'url(#hatch)', 'class': 'compacted'});
        snap.appendChild(P.svg('title', null, 'index ' + i + ': in the snapshot'));
        g.appendChild(snap);
      } else {
        var unk = P.svg('rect', {x: x + 0.5, y: top, width: Math.max(1, boxW - 1),
                                 height: BOX_H, 'class': 'unsent'});
        unk.appendChild(P.svg('title', null, 'index ' + i + ': older than the entries sent'));
        g.appendChild(unk);
      }
    }
    marks(g, n, win, boxW, top);
    var right = LABEL_W + (win.hi - win.lo + 1) * boxW + 10;
    var info = 'last ' + (n.last_index || 0) + ' \u00b7 commit ' + (n.commit || 0) +
               ' \u00b7 applied ' + (n.applied || 0);
    if (n.snapshot_index) info += ' \u00b7 snap ' + n.snapshot_index;
    if ((n.last_index || 0) < win.lo) info = '\u2190 ' + info;
    if (n.never_seen) info = 'has not answered';
    g.appendChild(P.svg('text', {x: right, y: top + BOX_H - 5, 'class': 'log-info'},
                        up || n.never_seen ? info : 'down \u00b7 ' + info));
    svg.appendChild(g);
  }

  // The commit bar, the applied triangle and the snapshot boundary of one row.
  function marks(g, n, win, boxW, top) {
    var c = n.commit || 0;
    if (c >= win.lo && c <= win.hi) {
      var cx = LABEL_W + (c - win.lo + 1) * boxW;
      var bar = P.svg('rect', {x: cx - 1.5, y: top - 3, width: 3, height: BOX_H + 6,
                               'class': 'commit-mark'});
      bar.appendChild(P.svg('title', null, 'commit ' + c));
      g.appendChild(bar);
    }
    var a = n.applied || 0;
    if (a >= win.lo && a <= win.hi) {
      var ax = LABEL_W + (a - win.lo + 0.5) * boxW;
      var tri = P.svg('path', {d: 'M' + (ax - 5) + ' ' + (top + BOX_H + 8) + ' L' + ax + ' ' +
                                  (top + BOX_H + 2) + ' L' + (ax + 5) + ' ' + (top + BOX_H + 8) +
                                  ' Z', 'class': 'applied-mark'});
      tri.appendChild(P.svg('title', null, 'applied ' + a));
      g.appendChild(tri);
    }
    var s = n.snapshot_index || 0;
    if (s > 0 && s + 1 >= win.lo && s <= win.hi) {
      var sx = LABEL_W + (s - win.lo + 1) * boxW;
      var snap = P.svg('line', {x1: sx, y1: top - 4, x2: sx, y2: top + BOX_H + 4,
                                'class': 'snapshot-mark'});
      snap.appendChild(P.svg('title', null, 'snapshot up to ' + s));
      g.appendChild(snap);
    }
  }
})();
