// Source (b): a recording ({"format": "etcdlab-view/1", "frames": [...]}) given inline
// (window.ETCDLAB_RECORDING, as a notebook embed does), by URL (?recording=URL), or opened by
// the user (the file input or a file dropped on the page, which also works over file://).
(function () {
  'use strict';
  var P = (window.etcdlabViewParts = window.etcdlabViewParts || {});
  var T = P.timeline;

  var Rc = (P.recording = {current: null});

  // Shows a recording (an object or its JSON text). Returns false (and says why) if it is not.
  Rc.load = function (rec, where) {
    if (typeof rec === 'string') {
      try { rec = JSON.parse(rec); } catch (e) {
        P.panels.status(where + ': not JSON (' + e.message + ')', 'error');
        return false;
      }
    }
    if (!rec || !Array.isArray(rec.frames)) {
      P.panels.status(where + ': not an etcdlab view recording (no "frames" list)', 'error');
      return false;
    }
    if (rec.format && rec.format !== 'etcdlab-view/1') {
      P.panels.status(where + ': unknown format ' + rec.format + ' (showing it anyway)', 'warn');
    }
    P.view.stopSources();
    Rc.current = rec;
    P.view.setSource('recording');
    T.reset();
    T.horizon = function () {
      return T.frames.length ? T.frames[T.frames.length - 1].t_ms : 0;
    };
    T.append(rec.frames);
    // A recording opens at its last frame (for a failed test, where it failed); Replay starts
    // over from the first.
    P.panels.title(P.panels.sourceTitle(rec.title, rec.seed, rec.nodes, where));
    P.panels.replayCommand(rec.replay || null);
    if (!rec.format || rec.format === 'etcdlab-view/1') {
      P.panels.status('recording (' + (rec.source || '?') + '): ' + rec.frames.length +
                      ' frames' + (rec.frames.length ? '' : ' \u2014 nothing to show'));
    }
    return true;
  };

  Rc.fromUrl = function (url) {
    P.panels.status('loading ' + url + ' …');
    return fetch(url).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.text();
    }).then(function (text) { Rc.load(text, url); }, function (err) {
      document.getElementById('source-panel').open = true;
      P.panels.status('cannot load ' + url + ': ' + err.message +
                      (location.protocol === 'file:' ? ' (a file:// page cannot fetch; use ' +
                       '"Open recording…")' : ''), 'error');
    });
  };

  function readFile(file) {
    if (!file) return;
    var reader = new FileReader();
    reader.onload = function () { Rc.load(String(reader.result), file.name); };
    reader.onerror = function () {
      P.panels.status('cannot read ' + file.name + ': ' + reader.error, 'error');
    };
    reader.readAsText(file);
  }

  // The file input and drag and drop; called once at start.
  Rc.bind = function () {
    var input = document.getElementById('open-recording');
    input.addEventListener('change', function () {
      readFile(input.files && input.files[0]);
      input.value = '';
    });
    var overlay = document.getElementById('drop-overlay');
    var depth = 0;
    function hasFiles(ev) {
      var types = ev.dataTransfer && ev.dataTransfer.types;
      return types && Array.prototype.indexOf.call(types, 'Files') >= 0;
    }
    document.addEventListener('dragenter', function (ev) {
      if (!hasFiles(ev)) return;
      ev.preventDefault();
      depth++;
      overlay.hidden = false;
    });
    document.addEventListener('dragover', function (ev) {
      if (!hasFiles(ev)) return;
      ev.preventDefault();
      ev.dataTransfer.dropEffect = 'copy';
    });
    document.addEventListener('dragleave', function () {
      depth = Math.max(0, depth - 1);
      if (!depth) overlay.hidden = true;
    });
    document.addEventListener('drop', function (ev) {
      if (!hasFiles(ev)) return;
      ev.preventDefault();
      depth = 0;
      overlay.hidden = true;
      readFile(ev.dataTransfer.files[0]);
    });
  };
})();
