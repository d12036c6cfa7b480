/* tosca-im dashboard: tabs, in-page checks, live state and the elasticity chart. No dependency. */
'use strict';
(function () {
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  /* Tabs: the form's fieldsets become tab panels (arrow keys move between tabs). */
  $$('[data-tabs]').forEach(function (box) {
    var panels = $$('fieldset.tab', box);
    if (panels.length < 2) return;
    var list = document.createElement('div');
    list.setAttribute('role', 'tablist');
    list.className = 'tablist';
    var tabs = panels.map(function (panel, i) {
      var b = document.createElement('button');
      b.type = 'button';
      b.id = panel.id + '-tab';
      b.setAttribute('role', 'tab');
      b.setAttribute('aria-controls', panel.id);
      b.textContent = panel.getAttribute('data-tab-name');
      panel.setAttribute('role', 'tabpanel');
      panel.setAttribute('aria-labelledby', b.id);
      b.addEventListener('click', function () { select(i); });
      b.addEventListener('keydown', function (e) {
        if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
          var j = (i + (e.key === 'ArrowRight' ? 1 : panels.length - 1)) % panels.length;
          select(j); tabs[j].focus(); e.preventDefault();
        }
      });
      list.appendChild(b);
      return b;
    });
    function select(i) {
      panels.forEach(function (p, j) { p.hidden = j !== i; tabs[j].setAttribute('aria-selected', String(j === i)); tabs[j].tabIndex = j === i ? 0 : -1; });
    }
    box.insertBefore(list, box.firstChild);
    box.selectTab = function (panel) { select(panels.indexOf(panel)); };
    select(0);
  });

  /* enabled_by: a field is used only while its switch is on. */
  $$('[data-enabled-by]').forEach(function (field) {
    var sw = document.getElementById(field.getAttribute('data-enabled-by'));
    if (!sw) return;
    function sync() { field.hidden = !sw.checked; $$('input,select', field).forEach(function (i) { i.disabled = !sw.checked; }); }
    sw.addEventListener('change', sync); sync();
  });

  /* In-page checks before the server checks again. */
  $$('form[data-validate]').forEach(function (form) {
    form.addEventListener('input', function (e) {
      var input = e.target, err = document.getElementById(input.id + '-error');
      if (err && input.checkValidity()) { err.textContent = ''; input.removeAttribute('aria-invalid'); }
    });
    form.addEventListener('submit', function (e) {
      var first = null;
      $$('input,select', form).forEach(function (input) {
        var err = document.getElementById(input.id + '-error');
        if (!err || input.disabled) return;
        var ok = input.checkValidity();
        err.textContent = ok ? '' : input.validationMessage;
        input.setAttribute('aria-invalid', String(!ok));
        if (!ok && !first) first = input;
      });
      if (first) {
        e.preventDefault();
        var panel = first.closest('fieldset.tab');
        var box = first.closest('[data-tabs]');
        if (panel && box && box.selectTab) box.selectTab(panel);
        first.focus();
      }
    });
  });

  /* Live facts: poll …/live, quickly while things change, backing off (up to 8 s) while they don't. */
  var live = $('[data-live]');
  if (live) {
    var url = live.getAttribute('data-live');
    var delay = 1000;
    var last = '';
    var poll = function () {
      fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' }).then(function (r) {
        if (r.status === 404 || r.status === 401) return null;
        return r.json();
      }).then(function (v) {
        if (!v) return;
        var text = JSON.stringify([v.state, v.vms, v.contmsg.length, v.elastic && v.elastic.samples.length]);
        if (text !== last) { last = text; delay = 1000; update(v); } else delay = Math.min(delay * 1.5, 8000);
        setTimeout(poll, delay);
      }).catch(function () { delay = Math.min(delay * 2, 8000); setTimeout(poll, delay); });
    };
    setTimeout(poll, delay);
  }

  function cell(tr, text) { var td = document.createElement('td'); td.textContent = text; tr.appendChild(td); return td; }

  function update(v) {
    var st = $('#inf-state');
    st.textContent = v.state; st.className = 'state state-' + v.state;
    var body = $('#vm-rows');
    body.textContent = '';
    v.vms.forEach(function (vm) {
      var tr = document.createElement('tr');
      cell(tr, vm.id); cell(tr, vm.node);
      var s = document.createElement('span'); s.className = 'state state-' + vm.state; s.textContent = vm.state; cell(tr, '').appendChild(s);
      cell(tr, vm.privateIps.join(', ')); cell(tr, vm.publicIps.join(', ')); cell(tr, vm.instanceId);
      body.appendChild(tr);
    });
    var log = $('#contmsg');
    var atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.textContent = v.contmsg;
    if (atEnd) log.scrollTop = log.scrollHeight;
    if (v.elastic) { chart(v.elastic.samples); events(v.elastic.events); }
  }

  function events(list) {
    var ol = $('#elastic-events');
    if (!ol) return;
    ol.textContent = '';
    list.slice().reverse().forEach(function (e) {
      var li = document.createElement('li');
      var t = document.createElement('time'); t.textContent = e.at.slice(11, 19);
      li.appendChild(t); li.appendChild(document.createTextNode(' ' + e.type + ': ' + e.reason));
      ol.appendChild(li);
    });
  }

  var NS = 'http://www.w3.org/2000/svg';
  function svgEl(name, attrs) { var el = document.createElementNS(NS, name); for (var k in attrs) el.setAttribute(k, attrs[k]); return el; }

  /* The chart: one line per series over the samples' time, a tick per decision (its reason as title). */
  function chart(samples) {
    var svg = $('#elastic-chart');
    if (!svg || !samples.length) return;
    $$('.plot', svg).forEach(function (el) { el.remove(); });
    var W = 600, H = 200, P = 24;
    var t0 = samples[0].t, t1 = Math.max(samples[samples.length - 1].t, t0 + 1);
    var top = Math.max(2, Math.max.apply(null, samples.map(function (s) { return Math.max(s.queue, s.running + s.idle + s.booting); })));
    var x = function (t) { return P + (W - 2 * P) * (t - t0) / (t1 - t0); };
    var y = function (n) { return H - P - (H - 2 * P) * n / top; };
    var g = svgEl('g', { 'class': 'plot' });
    g.appendChild(svgEl('line', { x1: P, y1: H - P, x2: W - P, y2: H - P, 'class': 'axis' }));
    var label = svgEl('text', { x: 2, y: P, 'class': 'axis-label' }); label.textContent = String(top); g.appendChild(label);
    ['queue', 'running', 'idle', 'booting'].forEach(function (k) {
      var pts = samples.map(function (s) { return x(s.t).toFixed(1) + ',' + y(s[k]).toFixed(1); }).join(' ');
      g.appendChild(svgEl('polyline', { points: pts, 'class': 'series ' + k, 'data-series': k }));
    });
    samples.forEach(function (s) {
      if (!s.decision) return;
      var tick = svgEl('line', { x1: x(s.t), y1: P, x2: x(s.t), y2: H - P, 'class': 'decision' });
      var title = svgEl('title', {}); title.textContent = s.decision; tick.appendChild(title);
      g.appendChild(tick);
    });
    svg.appendChild(g);
    var last = samples[samples.length - 1];
    svg.setAttribute('data-points', String(samples.length));
    svg.setAttribute('data-nodes', String(last.running + last.idle + last.booting));
    svg.setAttribute('data-max-nodes', String(Math.max.apply(null, samples.map(function (s) { return s.running + s.idle + s.booting; }))));
  }
})();
