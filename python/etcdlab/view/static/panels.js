// The text around the picture: the status line, the title, the event line, the recent client
// requests and the legend (drawn from look.js's tables, so it cannot disagree with the page).
(function () {
  'use strict';
  var P = (window.etcdlabViewParts = window.etcdlabViewParts || {});

  var Pn = (P.panels = {});

  // kind: '' | 'warn' | 'error'
  Pn.status = function (text, kind) {
    var s = document.getElementById('status');
    P.text(s, text);
    s.className = kind || '';
  };

  Pn.title = function (text) {
    P.text(document.getElementById('title'), text || '');
  };

  // One rule for a source's title: its own title, shown as is, when it has one (the python
  // side writes whole titles: "simulated cluster of 5, seed 3", lab 2's "Suite.Test seed 7");
  // else "<fallback> · seed S · N nodes" from what is known.
  Pn.sourceTitle = function (title, seed, nodes, fallback) {
    if (typeof title === 'string' && title.trim()) return title;
    var t = fallback;
    if (seed !== undefined && seed !== null) t += ' \u00b7 seed ' + seed;
    if (nodes) t += ' \u00b7 ' + nodes + ' nodes';
    return t;
  };

  Pn.replayCommand = function (cmd) {
    var e = document.getElementById('replay-command');
    e.hidden = !cmd;
    e.textContent = '';
    if (!cmd) return;
    e.appendChild(P.el('span', {'class': 'sub'}, 'replay this run: '));
    e.appendChild(P.el('code', null, cmd));
  };

  Pn.render = function (frame) {
    var ev = document.getElementById('event');
    var t = frame ? fmtMs(frame.t_ms) : '';
    P.text(ev, frame ? (frame.event || '(no event text)') : '');
    P.attr(ev, 'data-t', t);
    P.attr(ev, 'data-seq', frame && frame.seq !== undefined ? frame.seq : '');
    renderClients(frame);
  };

  function fmtMs(ms) {
    return typeof ms === 'number' ? ms.toFixed(1) + ' ms' : '';
  }

  var clientsKey = '';
  function renderClients(frame) {
    var list = (frame && frame.clients) || [];
    var key = JSON.stringify(list);
    if (key === clientsKey) return;
    clientsKey = key;
    var ul = document.getElementById('clients');
    ul.textContent = '';
    if (!list.length) {
      ul.appendChild(P.el('li', {'class': 'empty'}, 'none yet'));
      return;
    }
    for (var i = list.length - 1; i >= 0; i--) ul.appendChild(clientRow(frame, list[i]));
  }

  function clientRow(frame, c) {
    var cls = P.outcomeClass(c.outcome);
    var li = P.el('li', {'data-op': c.op, 'data-outcome': c.outcome, 'class': 'client ' + cls});
    li.appendChild(P.el('span', {'class': 'chip ' + cls}, c.outcome));
    var what = 'op ' + c.op + ' ' + (c.kind || '') +
               (c.via ? ' via ' + P.idName(frame, c.via) : '');
    li.appendChild(P.el('span', {'class': 'what'}, what));
    var took = '';
    if (typeof c.return_ms === 'number' && typeof c.call_ms === 'number') {
      took = (c.return_ms - c.call_ms).toFixed(1) + ' ms';
    } else if (typeof c.call_ms === 'number') {
      took = 'since ' + c.call_ms.toFixed(0) + ' ms';
    }
    li.appendChild(P.el('span', {'class': 'took'}, took));
    var text = (c.text || '') + (typeof c.revision === 'number' && c.revision ?
                                 (c.text ? ', ' : '') + 'rev ' + c.revision : '');
    if (text) li.appendChild(P.el('span', {'class': 'text'}, text));
    li.title = what + ': ' + c.outcome + (c.text ? ' (' + c.text + ')' : '');
    return li;
  }

  // The legend: role colors, message kinds and shapes, links, log marks, client outcomes.
  Pn.legend = function () {
    var body = document.getElementById('legend-body');
    body.textContent = '';
    var roles = group(body, 'members');
    for (var i = 0; i < P.ROLES.length; i++) {
      var sw = P.el('span', {'class': 'swatch disc-swatch' + (P.ROLES[i][0] === 'down' ?
                             ' down' : ''), style: 'background:' + P.ROLES[i][1]});
      item(roles, sw, P.ROLES[i][2]);
    }
    item(roles, P.el('span', {'class': 'swatch star-swatch'}, '\u2605'), 'leader');

    var kinds = group(body, 'messages (letter = kind)');
    for (var k = 0; k < P.KINDS.length; k++) {
      item(kinds, dotSwatch(P.KINDS[k][1], P.KINDS[k][2], false, false), P.KINDS[k][0]);
    }
    item(kinds, dotSwatch('#1f6fbf', 'A', false, false), 'request: filled');
    item(kinds, dotSwatch('#1f6fbf', 'A', true, false), 'response: ring');
    item(kinds, dotSwatch('#e0620d', 'V', true, true), 'rejected: red ring');
    var lk = group(body, 'links');
    item(lk, lineSwatch(false), 'connected');
    item(lk, lineSwatch(true), 'blocked (red half: that sender cannot send)');

    var logs = group(body, 'logs');
    var tb = P.el('span', {'class': 'term-swatches'});
    for (var t = 1; t <= P.TERM_COLORS.length; t++) {
      tb.appendChild(P.el('span', {'class': 'swatch term-swatch', style: 'background:' +
                                   P.termColor(t) + ';color:' + P.inkOn(P.termColor(t))}, t));
    }
    item(logs, tb, 'entry term (colors repeat after 10)');
    item(logs, P.el('span', {'class': 'swatch uncommitted-swatch'}), 'not committed');
    item(logs, P.el('span', {'class': 'swatch commit-swatch'}), 'commit index');
    item(logs, P.el('span', {'class': 'swatch applied-swatch'}, '\u25b2'), 'applied index');
    item(logs, P.el('span', {'class': 'swatch snapshot-swatch'}), 'in a snapshot');

    var cl = group(body, 'client requests');
    for (var o = 0; o < P.OUTCOMES.length; o++) {
      item(cl, P.el('span', {'class': 'chip ' + P.OUTCOMES[o][0]}, P.OUTCOMES[o][0]),
           P.OUTCOMES[o][2]);
    }
  };

  function group(body, title) {
    var g = P.el('div', {'class': 'legend-group'});
    g.appendChild(P.el('div', {'class': 'legend-title'}, title));
    body.appendChild(g);
    return g;
  }
  function item(g, swatch, text) {
    var it = P.el('span', {'class': 'legend-item'});
    it.appendChild(swatch);
    it.appendChild(P.el('span', null, text));
    g.appendChild(it);
  }
  function dotSwatch(color, letter, response, rejected) {
    var s = P.svg('svg', {width: 18, height: 18, viewBox: '-9 -9 18 18', 'class': 'swatch'});
    var ring = rejected ? '#d32f2f' : color;
    s.appendChild(P.svg('circle', {r: 7.5, fill: response ? '#fff' : color,
                                   stroke: response ? ring : '#fff',
                                   'stroke-width': response ? 2.5 : 1}));
    s.appendChild(P.svg('text', {fill: response ? color : '#fff', dy: '0.35em',
                                 'class': 'dot-letter'}, letter));
    return s;
  }
  function lineSwatch(blocked) {
    var s = P.svg('svg', {width: 28, height: 10, 'class': 'swatch'});
    s.appendChild(P.svg('line', {x1: 1, y1: 5, x2: 27, y2: 5,
                                 'class': blocked ? 'link blocked' : 'link'}));
    return s;
  }
})();
