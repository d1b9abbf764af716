// The members on a circle (as in RaftScope) and the links between them.
//
// Each member is an HTML block laid over the SVG (so its crash/restart buttons are real
// buttons): a disc filled with its role's color showing name, term, role and vote, a star on
// the leader, a grey crossed disc when down. The SVG under them holds one line per pair of
// members: grey when both directions work, dashed red where a direction is blocked (a one-way
// cut is drawn red on the half next to the sender that cannot send).
(function () {
  'use strict';
  var P = (window.etcdlabViewParts = window.etcdlabViewParts || {});

  var W = 540, H = 470;           // the #cluster-svg box
  var CX = W / 2, CY = H / 2 - 8; // the circle's center
  var DISC = 92;                  // a member disc's diameter (px)

  var C = (P.cluster = {
    centers: {}, // id -> {x, y}: the dots fly between these
    discRadius: DISC / 2,
    onAction: null, // (action, id) when a member's button is clicked; set by controls.js
    showButtons: false,
  });

  var layoutKey = '';
  var cards = {}; // id -> {root, disc, name, term, role, vote, crash, restart}

  // Draws `frame` (or clears when null).
  C.render = function (frame) {
    var nodes = (frame && frame.nodes) || [];
    var key = nodes.map(function (n) { return n.id; }).join(',');
    if (key !== layoutKey) relayout(nodes, key);
    document.getElementById('empty-hint').hidden = nodes.length > 0;
    for (var i = 0; i < nodes.length; i++) updateCard(frame, nodes[i]);
    drawLinks(nodes, (frame && frame.blocked) || []);
  };

  function relayout(nodes, key) {
    layoutKey = key;
    var box = document.getElementById('members');
    box.textContent = '';
    cards = {};
    C.centers = {};
    var n = nodes.length;
    var r = n <= 1 ? 0 : Math.min(W, H) / 2 - DISC / 2 - 32;
    for (var i = 0; i < n; i++) {
      // n1 at the top, then clockwise, as in RaftScope.
      var a = -Math.PI / 2 + (2 * Math.PI * i) / n;
      var x = CX + r * Math.cos(a), y = CY + r * Math.sin(a);
      C.centers[nodes[i].id] = {x: x, y: y};
      var card = makeCard(nodes[i].id);
      card.root.style.left = (x - 60) + 'px';
      card.root.style.top = (y - DISC / 2) + 'px';
      box.appendChild(card.root);
      cards[nodes[i].id] = card;
    }
  }

  function makeCard(id) {
    var root = P.el('div', {'class': 'member', 'data-member': id});
    var disc = P.el('div', {'class': 'disc'});
    var star = P.el('span', {'class': 'star', title: 'leader', 'aria-hidden': 'true'}, '\u2605');
    var name = P.el('div', {'class': 'name'});
    var term = P.el('div', {'class': 'term'});
    var role = P.el('div', {'class': 'role'});
    var vote = P.el('div', {'class': 'vote'});
    var cross = P.el('div', {'class': 'cross', 'aria-hidden': 'true'});
    disc.appendChild(star);
    disc.appendChild(name);
    disc.appendChild(term);
    disc.appendChild(role);
    disc.appendChild(vote);
    disc.appendChild(cross);
    var buttons = P.el('div', {'class': 'member-buttons'});
    var crash = P.el('button', {type: 'button', 'data-action': 'crash'}, 'crash');
    var restart = P.el('button', {type: 'button', 'data-action': 'restart'}, 'restart');
    crash.addEventListener('click', function () { if (C.onAction) C.onAction('crash', id); });
    restart.addEventListener('click', function () { if (C.onAction) C.onAction('restart', id); });
    buttons.appendChild(crash);
    buttons.appendChild(restart);
    root.appendChild(disc);
    root.appendChild(buttons);
    return {root: root, disc: disc, name: name, term: term, role: role, vote: vote,
            buttons: buttons, crash: crash, restart: restart};
  }

  function updateCard(frame, n) {
    var c = cards[n.id];
    if (!c) return;
    var up = n.up !== false;
    var leader = up && n.role === 'leader';
    P.attr(c.root, 'data-role', n.role || 'follower');
    P.attr(c.root, 'data-term', n.term === undefined ? 0 : n.term);
    P.attr(c.root, 'data-up', up ? 'true' : 'false');
    P.attr(c.root, 'data-leader', leader ? 'true' : 'false');
    P.attr(c.root, 'data-member-of', n.member === false ? 'false' : 'true');
    P.attr(c.disc, 'style', 'background:' + P.roleColor(n.role, up));
    P.text(c.name, n.name || 'n' + n.id);
    P.text(c.term, n.never_seen ? 'no answer' : n.term === undefined ? '' : 'term ' + n.term);
    var role = up ? P.roleLabel(n.role) : 'down';
    if (n.member === false) role += ' (removed)';
    else if (n.learners && n.learners.indexOf(n.id) >= 0) role += ' (learner)';
    P.text(c.role, role);
    P.text(c.vote, n.never_seen ? '' : n.vote ? 'vote ' + P.idName(frame, n.vote) : 'no vote');
    P.attr(c.root, 'title', describe(frame, n, up));
    c.buttons.hidden = !C.showButtons;
    c.crash.disabled = !up;
    c.restart.disabled = up;
  }

  function describe(frame, n, up) {
    var lines = [(n.name || 'n' + n.id) + (n.member_id ? ' (' + n.member_id + ')' : '') +
                 ' id ' + n.id + (up ? '' : ' DOWN') + (n.url ? ' ' + n.url : '')];
    if (n.never_seen) return lines[0] + '\nhas not answered yet';
    lines.push(P.roleLabel(n.role) + ', term ' + n.term + ', vote ' + P.idName(frame, n.vote) +
               ', leader ' + P.idName(frame, n.leader));
    lines.push('log ' + n.first_index + '..' + n.last_index + ', commit ' + n.commit +
               ', applied ' + n.applied + ', snapshot ' + n.snapshot_index);
    if (n.voters) lines.push('voters ' + n.voters.join(' ') +
                             (n.learners && n.learners.length ? ', learners ' +
                              n.learners.join(' ') : ''));
    return lines.join('\n');
  }

  function drawLinks(nodes, blocked) {
    var g = document.getElementById('links');
    var cut = {};
    for (var b = 0; b < blocked.length; b++) cut[blocked[b][0] + '>' + blocked[b][1]] = true;
    var want = [];
    for (var i = 0; i < nodes.length; i++) {
      for (var j = i + 1; j < nodes.length; j++) {
        var a = nodes[i].id, z = nodes[j].id;
        want.push([a, z, !!cut[a + '>' + z], !!cut[z + '>' + a]]);
      }
    }
    var key = JSON.stringify(want);
    if (g.getAttribute('data-key') === key) return;
    g.setAttribute('data-key', key);
    g.textContent = '';
    for (var k = 0; k < want.length; k++) drawLink(g, want[k]);
  }

  function drawLink(g, w) {
    var p = C.centers[w[0]], q = C.centers[w[1]];
    if (!p || !q) return;
    var name = 'n' + w[0] + ' \u2194 n' + w[1];
    if (!w[2] && !w[3]) {
      g.appendChild(line(p, q, 'link', name));
      return;
    }
    var mid = {x: (p.x + q.x) / 2, y: (p.y + q.y) / 2};
    if (w[2] && w[3]) {
      g.appendChild(line(p, q, 'link blocked', name + ': blocked both ways'));
      return;
    }
    // One way: the sender's half is red, the other half works.
    var from = w[2] ? p : q, to = w[2] ? q : p;
    var txt = w[2] ? 'n' + w[0] + ' \u2192 n' + w[1] : 'n' + w[1] + ' \u2192 n' + w[0];
    g.appendChild(line(from, mid, 'link blocked', txt + ' blocked'));
    g.appendChild(line(mid, to, 'link', name + ' (other way works)'));
  }

  function line(p, q, cls, title) {
    var l = P.svg('line', {x1: p.x, y1: p.y, x2: q.x, y2: q.y, 'class': cls});
    l.appendChild(P.svg('title', null, title));
    return l;
  }
})();
