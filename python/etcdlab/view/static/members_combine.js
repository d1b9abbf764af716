// Real members: turns the latest state of every watched member into one frame (contract
// section 1) whenever the picture changes, and keeps those frames for the slider.
//
// Ids: a member's own state says its id (its place in the member list sorted by member_id),
// and that is what its vote and leader fields use, so the page uses it too. A member that never
// answered gets its id from another member's member list (matched by client URL), or else its
// place in the list of URLs given. A member down keeps its last known state, greyed.
(function () {
  'use strict';
  var P = (window.etcdlabViewParts = window.etcdlabViewParts || {});
  var T = P.timeline;

  var CAP = 5000; // frames kept (a few minutes of a busy cluster)

  var Cb = (P.combine = {memberList: null});
  var t0 = performance.now();
  var seq = 0, lastKey = '', prevNodes = null, pending = null;

  Cb.now = function () { return performance.now() - t0; };

  Cb.reset = function () {
    t0 = performance.now();
    seq = 0;
    lastKey = '';
    prevNodes = null;
    Cb.memberList = null;
    if (pending) clearTimeout(pending);
    pending = null;
    T.reset();
  };

  // Something changed: build a frame soon (several members often answer together).
  Cb.changed = function () {
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      build();
    }, 30);
  };

  // A member's state carries the member list: learn the ids, and watch members not yet watched.
  Cb.discover = function (state, conn) {
    if (!Array.isArray(state.members) || !state.members.length) return;
    Cb.memberList = state.members.slice().sort(function (a, b) {
      return hexKey(a.member_id) < hexKey(b.member_id) ? -1 : 1;
    });
    for (var i = 0; i < Cb.memberList.length; i++) {
      var m = Cb.memberList[i];
      if (findConn(m)) continue;
      var url = pickUrl(m.client_urls || [], conn.url);
      if (!url) continue;
      var c = P.members.add(url);
      if (c) P.members.connectLate(c);
    }
  };

  function hexKey(h) {
    h = String(h || '').toLowerCase();
    return ('0000000000000000' + h).slice(-Math.max(16, h.length));
  }
  function sameUrl(a, b) {
    function n(u) {
      return String(u).toLowerCase().replace(/\/+$/, '').replace('//localhost:', '//127.0.0.1:');
    }
    return n(a) === n(b);
  }
  function findConn(m) {
    var conns = P.members.conns;
    for (var i = 0; i < conns.length; i++) {
      var c = conns[i];
      if (c.state && c.state.node && c.state.node.member_id === m.member_id) return c;
      var urls = m.client_urls || [];
      for (var j = 0; j < urls.length; j++) if (sameUrl(urls[j], c.url)) return c;
    }
    return null;
  }
  // A member's client URL this page can use: the page's own scheme if it has one, and a
  // wildcard host (0.0.0.0) replaced by the host of the member that told us.
  function pickUrl(urls, via) {
    if (!urls.length) return null;
    var want = location.protocol === 'https:' ? 'https:' : 'http:';
    var url = urls[0];
    for (var i = 0; i < urls.length; i++) if (urls[i].indexOf(want) === 0) { url = urls[i]; break; }
    var host = via.replace(/^https?:\/\//, '').replace(/:\d+$/, '');
    return url.replace(/\/\/(0\.0\.0\.0|\[::\])(:|\/|$)/, '//' + host + '$2');
  }

  function memberIndex(c) {
    var list = Cb.memberList || [];
    for (var i = 0; i < list.length; i++) {
      var urls = list[i].client_urls || [];
      for (var j = 0; j < urls.length; j++) if (sameUrl(urls[j], c.url)) return i;
    }
    return -1;
  }

  function nodesNow() {
    var conns = P.members.conns, used = {}, out = [];
    for (var k = 0; k < conns.length; k++) {
      var c = conns[k];
      var node = c.state && c.state.node ? shallow(c.state.node) : null;
      var mi = memberIndex(c);
      var id = node && node.id ? node.id : (mi >= 0 ? mi + 1 : k + 1);
      if (used[id]) { id = 1; while (used[id]) id++; }
      used[id] = true;
      if (!node) {
        var m = mi >= 0 ? Cb.memberList[mi] : null;
        // Never answered: only a name (from the member list, or the URL's port) is known.
        node = {name: m ? m.name : shortName(c.url), role: 'follower', term: 0, vote: null,
                leader: null, commit: 0, applied: 0, first_index: 0, last_index: 0,
                snapshot_index: 0, log_from: 1, log_terms: [], never_seen: true};
        if (m) node.member_id = m.member_id;
      }
      node.id = id;
      node.up = !!c.up;
      node.url = c.url;
      c.id = id;
      out.push(node);
    }
    out.sort(function (a, b) { return a.id - b.id; });
    return out;
  }

  function shortName(url) {
    var hostPort = url.replace(/^https?:\/\//, '');
    return /^(127\.0\.0\.1|localhost|\[::1\]):/.test(hostPort) ?
        hostPort.replace(/^\[::1\]|^[^:]+/, '') : hostPort;
  }

  function shallow(o) {
    var r = {};
    for (var k in o) r[k] = o[k];
    return r;
  }

  // Each member's recent requests, its uptime ms mapped to page ms; the newest 20, oldest first.
  function clientsNow() {
    var all = [], conns = P.members.conns;
    for (var i = 0; i < conns.length; i++) {
      var c = conns[i], s = c.state;
      if (!s || !Array.isArray(s.clients)) continue;
      var shift = typeof s.t_ms === 'number' ? c.pageMs - s.t_ms : 0;
      for (var j = 0; j < s.clients.length; j++) {
        var r = shallow(s.clients[j]);
        if (typeof r.call_ms === 'number') r.call_ms += shift;
        if (typeof r.return_ms === 'number') r.return_ms += shift;
        if (r.via === null || r.via === undefined) r.via = c.id;
        all.push(r);
      }
    }
    all.sort(function (a, b) { return (a.call_ms || 0) - (b.call_ms || 0); });
    return all.slice(-20);
  }

  function build() {
    var nodes = nodesNow();
    var clients = clientsNow();
    showStatus(nodes);
    var key = JSON.stringify([nodes, clients]);
    if (key === lastKey) return;
    lastKey = key;
    var frame = {t_ms: Cb.now(), seq: ++seq, event: describe(prevNodes, nodes), nodes: nodes,
                 messages: [], blocked: [], clients: clients};
    prevNodes = nodes;
    T.append([frame]);
    T.trim(CAP);
  }

  function showStatus(nodes) {
    var conns = P.members.conns;
    var problem = P.members.problem || '';
    for (var i = 0; i < conns.length && !problem; i++) {
      if (conns[i].problem) problem = conns[i].url + ': ' + conns[i].problem;
    }
    if (problem) {
      P.panels.status(problem, 'error');
      return;
    }
    var up = 0, leader = null;
    for (var j = 0; j < nodes.length; j++) {
      if (nodes[j].up) up++;
      if (nodes[j].up && nodes[j].role === 'leader') leader = nodes[j];
    }
    if (!up) {
      var urls = conns.map(function (c) { return c.url; }).join(', ');
      P.panels.status('no answer from ' + urls + ' (trying again' +
                      (/https:/.test(urls) ? '; over TLS the browser must trust the members\' CA' :
                                             '') + ')', 'warn');
      return;
    }
    P.panels.status('real cluster: ' + up + ' / ' + nodes.length + ' members answering' +
                    (leader ? ' \u00b7 leader ' + leader.name + ' at term ' + leader.term :
                              ' \u00b7 no leader seen'), up < nodes.length ? 'warn' : '');
  }

  // A short text of what changed, for the event line.
  function describe(prev, nodes) {
    if (!prev) return 'watching ' + nodes.length + ' member' + (nodes.length === 1 ? '' : 's');
    var before = {};
    for (var i = 0; i < prev.length; i++) before[prev[i].id] = prev[i];
    var parts = [], commits = [];
    for (var j = 0; j < nodes.length; j++) {
      var n = nodes[j], p = before[n.id], name = n.name || 'n' + n.id;
      if (!p) { parts.push(name + ' appeared'); continue; }
      if (p.up && !n.up) parts.push(name + ' stopped answering');
      if (!p.up && n.up) parts.push(name + ' answers');
      if (!n.up) continue;
      if (n.role !== p.role) parts.push(name + ' became ' + P.roleLabel(n.role) + ' at term ' + n.term);
      else if (n.term !== p.term) parts.push(name + ' at term ' + n.term);
      if (n.commit > p.commit) commits.push(name + ' commit ' + n.commit);
    }
    if (!parts.length) parts = commits;
    if (!parts.length) parts = ['client requests or log changed'];
    return parts.slice(0, 4).join('; ') + (parts.length > 4 ? '; …' : '');
  }
})();
