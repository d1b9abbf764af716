// How the view names and colors things (roles, message kinds, terms, client outcomes), plus
// two tiny DOM helpers. Every other script reads its colors from here, and the legend is
// drawn from the same tables, so a color means one thing on the whole page.
(function () {
  'use strict';
  var P = (window.etcdlabViewParts = window.etcdlabViewParts || {});
  var SVG_NS = 'http://www.w3.org/2000/svg';

  // el('div', {class: 'x', 'data-id': 3}, 'text') -> an HTML element.
  P.el = function (tag, attrs, text) {
    var e = document.createElement(tag);
    setAttrs(e, attrs);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };
  // svg('circle', {r: 4}) -> an SVG element.
  P.svg = function (tag, attrs, text) {
    var e = document.createElementNS(SVG_NS, tag);
    setAttrs(e, attrs);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };
  function setAttrs(e, attrs) {
    if (!attrs) return;
    for (var k in attrs) {
      if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, String(attrs[k]));
    }
  }
  // Sets an attribute only when it changes (attribute writes restyle; most frames change little).
  P.attr = function (e, name, value) {
    value = String(value);
    if (e.getAttribute(name) !== value) e.setAttribute(name, value);
  };
  P.text = function (e, value) {
    value = String(value);
    if (e.textContent !== value) e.textContent = value;
  };

  // Roles: the disc's fill. A down member is grey whatever its last role was.
  P.ROLES = [
    ['leader', '#3f9d4a', 'leader'],
    ['candidate', '#f08c2e', 'candidate'],
    ['pre_candidate', '#f6cf6b', 'pre-candidate'],
    ['follower', '#9fb3c3', 'follower'],
    ['down', '#cfcfcf', 'down (crashed or unreachable)'],
  ];
  P.roleColor = function (role, up) {
    if (up === false) role = 'down';
    for (var i = 0; i < P.ROLES.length; i++) if (P.ROLES[i][0] === role) return P.ROLES[i][1];
    return '#9fb3c3';
  };
  P.roleLabel = function (role) {
    return role === 'pre_candidate' ? 'pre-candidate' : role || '?';
  };

  // Message kinds. Trace lines spell them "Append", "AppendResponse", ...; etcd's raft spells
  // them "MsgApp", "MsgAppResp", ...: both are understood, and a response is drawn hollow.
  P.KINDS = [
    ['Append', '#1f6fbf', 'A'],
    ['Heartbeat', '#c2358b', 'H'],
    ['PreVote', '#b38f00', 'P'],
    ['Vote', '#e0620d', 'V'],
    ['Snapshot', '#7b3fb5', 'S'],
    ['TimeoutNow', '#c62828', 'T'],
    ['ReadIndex', '#138a7e', 'R'],
    ['Propose', '#6d4c2f', '+'],
    ['TransferLeader', '#455a64', 'L'],
  ];
  var ETCD_NAMES = {
    App: 'Append', Snap: 'Snapshot', Prop: 'Propose', Heartbeat: 'Heartbeat', Vote: 'Vote',
    PreVote: 'PreVote', TimeoutNow: 'TimeoutNow', ReadIndex: 'ReadIndex',
    TransferLeader: 'TransferLeader',
  };
  var kindCache = Object.create(null);
  // kindInfo('MsgAppResp') -> {base: 'Append', response: true, color, letter}
  P.kindInfo = function (kind) {
    kind = String(kind || '?');
    if (kindCache[kind]) return kindCache[kind];
    var k = kind, response = false;
    if (/Response$/.test(k)) { response = true; k = k.slice(0, -8); }
    else if (/Resp$/.test(k)) { response = true; k = k.slice(0, -4); }
    if (k.indexOf('Msg') === 0) k = ETCD_NAMES[k.slice(3)] || k.slice(3);
    var info = {base: k, response: response, color: '#616161', letter: '?'};
    for (var i = 0; i < P.KINDS.length; i++) {
      if (P.KINDS[i][0] === k) { info.color = P.KINDS[i][1]; info.letter = P.KINDS[i][2]; }
    }
    kindCache[kind] = info;
    return info;
  };

  // Log entries are colored by term; ten colors cycle (term 11 looks like term 1, but the
  // box also prints its term when there is room).
  P.TERM_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f',
                   '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
  P.termColor = function (term) {
    if (!term) return '#e0e0e0';
    return P.TERM_COLORS[(term - 1) % P.TERM_COLORS.length];
  };
  // Black or white text, whichever reads better on the given background.
  P.inkOn = function (hex) {
    var n = parseInt(hex.slice(1), 16);
    var lum = 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
    return lum > 150 ? '#111' : '#fff';
  };

  // Client outcomes: the sim's four words, or (real members) etcd's error text = failed.
  P.OUTCOMES = [
    ['ok', '#2e7d32', 'ok'],
    ['pending', '#b26a00', 'pending'],
    ['failed', '#c62828', 'failed / error'],
    ['unknown', '#6a1b9a', 'unknown (may or may not have happened)'],
  ];
  P.outcomeClass = function (outcome) {
    if (outcome === 'ok' || outcome === 'pending' || outcome === 'unknown') return outcome;
    return 'failed';
  };

  // Member names for ids in text: "n2", or "-" for none.
  P.idName = function (frame, id) {
    if (id === null || id === undefined || id === 0) return '-';
    if (frame && frame.nodes) {
      for (var i = 0; i < frame.nodes.length; i++) {
        if (frame.nodes[i].id === id) return frame.nodes[i].name || 'n' + id;
      }
    }
    return 'n' + id;
  };
})();
