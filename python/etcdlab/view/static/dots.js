// Messages in flight: one dot per message, moving from the sender's disc to the receiver's.
//
// Its position is (vt - sent) / (due - sent) of the way, redrawn on every animation frame, so
// a dot glides between frames. Requests are filled dots, responses hollow rings of the same
// color (a rejected response has a red ring); the letter names the kind; hovering shows the
// whole message. Without sent_ms a dot starts when a frame first held it; with neither, it
// sits halfway.
(function () {
  'use strict';
  var P = (window.etcdlabViewParts = window.etcdlabViewParts || {});
  var R = 8; // dot radius

  var D = (P.dots = {});
  var els = {}; // message id -> {g, key}

  // Draws the messages of `frame` at virtual time vt.
  D.update = function (frame, vt) {
    var layer = document.getElementById('messages');
    var msgs = (frame && frame.messages) || [];
    var seen = {};
    for (var i = 0; i < msgs.length; i++) {
      var m = msgs[i];
      var pos = position(m, vt);
      if (!pos) continue;
      var id = String(m.id);
      seen[id] = true;
      var e = els[id];
      var key = m.kind + '|' + m.from + '|' + m.to + '|' + (m.reject ? 1 : 0);
      if (!e || e.key !== key) {
        if (e) layer.removeChild(e.g);
        e = els[id] = {g: makeDot(m), key: key};
        layer.appendChild(e.g);
      }
      var tr = 'translate(' + pos.x.toFixed(1) + ',' + pos.y.toFixed(1) + ')';
      if (e.tr !== tr) {
        e.g.setAttribute('transform', tr);
        e.tr = tr;
      }
    }
    for (var k in els) {
      if (!seen[k]) {
        layer.removeChild(els[k].g);
        delete els[k];
      }
    }
  };

  D.clear = function () {
    var layer = document.getElementById('messages');
    layer.textContent = '';
    els = {};
  };

  function position(m, vt) {
    var a = P.cluster.centers[m.from], b = P.cluster.centers[m.to];
    if (!a || !b) return null;
    var sent = P.timeline.sentMs(m), due = m.due_ms;
    var p = 0.5;
    if (sent !== null && typeof due === 'number' && due > sent) {
      p = Math.max(0, Math.min(1, (vt - sent) / (due - sent)));
    }
    // From edge to edge of the discs, so a dot is never hidden under one.
    var dx = b.x - a.x, dy = b.y - a.y;
    var len = Math.sqrt(dx * dx + dy * dy) || 1;
    var edge = P.cluster.discRadius + R - 2;
    var span = Math.max(0, len - 2 * edge);
    // Requests and responses between the same pair use the same line in opposite
    // directions; a small sideways shift keeps two crossing dots apart.
    var side = m.from < m.to ? 1 : -1;
    var nx = (-dy / len) * 5 * side, ny = (dx / len) * 5 * side;
    var d = edge + span * p;
    return {x: a.x + (dx / len) * d + nx, y: a.y + (dy / len) * d + ny};
  }

  function makeDot(m) {
    var info = P.kindInfo(m.kind);
    var cls = 'dot ' + (info.response ? 'response' : 'request') + (m.reject ? ' rejected' : '');
    var g = P.svg('g', {'class': cls, 'data-msg': m.id, 'data-kind': m.kind});
    var ring = m.reject ? '#d32f2f' : info.color;
    if (info.response) {
      g.appendChild(P.svg('circle', {r: R, fill: '#fff', stroke: ring, 'stroke-width': 3}));
      g.appendChild(P.svg('text', {fill: info.color, dy: '0.35em'}, info.letter));
    } else {
      g.appendChild(P.svg('circle', {r: R, fill: info.color, stroke: '#fff', 'stroke-width': 1.5}));
      g.appendChild(P.svg('text', {fill: '#fff', dy: '0.35em'}, info.letter));
    }
    g.appendChild(P.svg('title', null, describe(m)));
    return g;
  }

  function describe(m) {
    var s = m.kind + ' n' + m.from + ' \u2192 n' + m.to + ' term ' + m.term;
    if (m.index !== undefined) s += ', index ' + m.index;
    if (m.log_term !== undefined) s += ', log term ' + m.log_term;
    if (m.commit !== undefined) s += ', commit ' + m.commit;
    if (m.entries) s += ', ' + m.entries + ' entr' + (m.entries === 1 ? 'y' : 'ies');
    if (m.reject) s += ', REJECT';
    if (typeof m.due_ms === 'number') {
      s += '\n' + (typeof m.sent_ms === 'number' ? 'sent ' + m.sent_ms.toFixed(1) + ' ms, ' : '') +
           'due ' + m.due_ms.toFixed(1) + ' ms';
    }
    return s;
  }
})();
