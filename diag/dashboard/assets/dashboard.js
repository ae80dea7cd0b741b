// diagkit dashboard. No dependencies. Live, it fetches "history" and "doctor"
// relative to the page's own URL; as a snapshot, it reads the data inlined in
// #diag-data and makes no request at all. Data is untrusted: it reaches the
// DOM through textContent and plain attributes only, never as HTML.
(function () {
  'use strict';

  var SVGNS = 'http://www.w3.org/2000/svg';
  var WINDOW_SCHEMA = 'diagkit.window/v1';
  var DOCTOR_SCHEMA = 'diagkit.doctor/v1';
  var DOCTOR_EVERY_MS = 10000; // the agent caches its doctor report for 10 s
  var FETCH_TIMEOUT_MS = 15000;
  var MARGIN = { left: 58, right: 16, top: 10, bottom: 22 };
  var LABEL_H = 13; // a threshold label's line height, in px
  var STRIP_ROW = 20; // the height of a row of the warnings strip, in px

  // Warning kinds, in the order the agent checks them (api.WarningKinds).
  var KINDS = {
    cpu_throttling: { label: 'CPU throttling', unit: 'pct', sw: 's-throttle', line: 'throttling' },
    cpu_contention: { label: 'CPU contention', unit: 'ratio', sw: 's-rqwait', line: 'contention' },
    async_preempt_share: { label: 'Async preemption share', unit: 'pct', sw: 's-async' },
    sched_latency_p99: { label: 'Scheduling latency p99', unit: 'dur', sw: 's-p99' },
    cgo_share: { label: 'cgo share', unit: 'pct', sw: 's-cgo' },
    cgo_call_rate: { label: 'cgo call rate', unit: 'rate', sw: 's-rate' }
  };
  var KIND_ORDER = Object.keys(KINDS);

  // Warning.lead_cause IDs (api.Cause*). The agent's own sentence for the
  // cause is causes[0]; this names the ID.
  var CAUSES = {
    cpu_throttling: 'cgroup CPU quota throttling',
    host_contention: 'other processes take the CPUs',
    gomaxprocs_above_cpus: 'GOMAXPROCS above the CPUs',
    long_runs: 'long runs without a function call',
    gc: 'garbage collector',
    cgo_calls: 'many small cgo calls',
    cgo_c_code: 'time in C code',
    unknown: 'no cause found'
  };

  // Warning.functions_from (api.From*).
  var FUNCTIONS_FROM = {
    execution_trace: 'goroutines an execution trace saw run 10 ms or more before async preemption',
    cpu_profile: 'samples in runtime.asyncPreempt (CPU profile; weaker evidence)',
    cgo_call_sites: 'cgo call sites (CPU profile)'
  };

  var CHARTS = [
    {
      id: 'chart-shares', unit: 'pct', floor: 0.02, area: 'async', thresholds: ['async_preempt_share', 'cgo_share'],
      label: 'CPU shares per window',
      series: [
        { key: 'async', label: 'async preemption', get: function (w) { return share(w, 'async_preempt'); } },
        { key: 'cgo', label: 'cgo', get: function (w) { return share(w, 'cgo'); } },
        { key: 'external', label: 'external threads', get: function (w) { return share(w, 'external'); } }
      ]
    },
    {
      id: 'chart-latency', unit: 'dur', floor: 0.001, area: 'p99', thresholds: ['sched_latency_p99'],
      label: 'Scheduling latency per window',
      series: [
        { key: 'p50', label: 'p50', get: function (w) { return latency(w, 'p50'); } },
        { key: 'p99', label: 'p99', get: function (w) { return latency(w, 'p99'); } }
      ]
    },
    {
      // Shown when some window has the figure (Linux schedstat).
      id: 'chart-rqwait', unit: 'ratio', floor: 0.1, area: 'rqwait', thresholds: ['cpu_contention'],
      block: 'block-rqwait', shown: isNum, legend: 'run-queue wait',
      label: 'Run-queue wait per second of CPU per window',
      series: [
        { key: 'rqwait', label: 'run-queue wait', get: function (w) { return num(ctx(w).run_queue_wait_ratio); } }
      ]
    },
    {
      // Shown when some window has the figure (a cgroup CPU controller).
      id: 'chart-throttle', unit: 'pct', floor: 0.02, area: 'throttle', thresholds: ['cpu_throttling'],
      block: 'block-throttle', shown: isNum, legend: 'throttled periods',
      label: 'Share of cgroup periods throttled per window',
      series: [
        { key: 'throttle', label: 'throttled periods', get: function (w) { return num(ctx(w).cgroup_throttled_share); } }
      ]
    },
    {
      // Shown when the process makes cgo calls at all.
      id: 'chart-cgorate', unit: 'rate', floor: 10, area: 'rate', thresholds: ['cgo_call_rate'],
      block: 'block-cgorate', shown: function (v) { return v > 0; }, legend: 'cgo calls/s',
      label: 'cgo calls per second per window',
      series: [
        { key: 'rate', label: 'cgo calls/s', get: function (w) { return ctx(w).cgo_calls_per_second; } }
      ]
    }
  ];

  var state = {
    cfg: null,
    live: false,
    windows: [],
    bySeq: new Map(),
    episodes: [], // oldest first (episodes())
    episodeState: false, // the history has active lists (a newer agent)
    selected: null, // seq of the selected window
    follow: true, // the selection follows the latest window
    doctor: null,
    doctorState: 'loading', // loading | ok | unavailable | error
    doctorNote: '',
    doctorAt: 0,
    error: '',
    authError: false,
    lastOK: 0,
    dataKey: ''
  };

  // ---- DOM helpers: text only ----

  var ATTRS = { title: 1, role: 1, type: 1, colspan: 1, tabindex: 1 };

  function h(tag, props) {
    var e = document.createElement(tag);
    setProps(e, props);
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }

  function s(tag, props) {
    var e = document.createElementNS(SVGNS, tag);
    setProps(e, props);
    return e;
  }

  function setProps(e, props) {
    if (!props) return;
    Object.keys(props).forEach(function (k) {
      var v = props[k];
      if (v === null || v === undefined || v === false) return;
      if (k === 'text') e.textContent = String(v);
      else if (k === 'class') e.setAttribute('class', v);
      else if (ATTRS[k] || k.indexOf('data-') === 0 || k.indexOf('aria-') === 0 ||
        (e.namespaceURI === SVGNS && /^(x|y|x1|x2|y1|y2|cx|cy|r|width|height|d|points|viewBox|text-anchor|dominant-baseline|transform)$/.test(k))) {
        e.setAttribute(k, String(v));
      } else {
        throw new Error('dashboard: attribute ' + k + ' is not allowed');
      }
    });
  }

  function add(parent, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { add(parent, c); }); return; }
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }

  function $(id) { return document.getElementById(id); }

  function fill(id) {
    var e = $(id);
    e.replaceChildren();
    for (var i = 1; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }

  // ---- figures ----

  function isNum(v) { return typeof v === 'number' && isFinite(v); }
  function num(v) { return isNum(v) ? v : null; } // null (unavailable) stays null, never 0
  function ctx(w) { return (w && w.context) || {}; }
  function share(w, k) { return w && w.shares && isNum(w.shares[k]) ? w.shares[k] : null; }
  function latency(w, q) { var l = ctx(w).sched_latency; return l && isNum(l[q]) ? l[q] : null; }

  function pct(v) {
    if (!isNum(v)) return 'n/a';
    var p = v * 100;
    if (p === 0) return '0%';
    if (Math.abs(p) >= 10) return p.toFixed(1) + '%';
    if (Math.abs(p) >= 0.01) return p.toFixed(2) + '%';
    return '<0.01%';
  }
  function dur(v) {
    if (!isNum(v)) return 'n/a';
    if (v === 0) return '0';
    if (v >= 1) return v.toFixed(2) + ' s';
    var ms = v * 1e3;
    if (ms >= 1) return ms.toFixed(ms >= 100 ? 0 : ms >= 10 ? 1 : 2) + ' ms';
    var us = v * 1e6;
    if (us >= 1) return us.toFixed(us >= 100 ? 0 : 1) + ' µs';
    return (v * 1e9).toFixed(0) + ' ns';
  }
  function rate(v) {
    if (!isNum(v)) return 'n/a';
    if (v >= 1e6) return (v / 1e6).toFixed(2) + 'M/s';
    if (v >= 1e4) return (v / 1e3).toFixed(1) + 'k/s';
    return int(Math.round(v)) + '/s';
  }
  // ratio formats seconds waited per second of CPU.
  function ratio(v) {
    if (!isNum(v)) return 'n/a';
    if (v === 0) return '0';
    return v >= 10 ? v.toFixed(1) : v >= 0.01 ? v.toFixed(2) : '<0.01';
  }
  function cpus(v) { return isNum(v) ? (Math.round(v * 100) / 100) + ' CPUs' : 'n/a'; }
  function int(v) { return isNum(v) ? Math.round(v).toLocaleString('en-US') : 'n/a'; }
  function secs(v) { return isNum(v) ? (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) + ' s' : 'n/a'; }
  function fmt(unit, v) {
    switch (unit) {
      case 'pct': return pct(v);
      case 'dur': return dur(v);
      case 'rate': return rate(v);
      case 'ratio': return ratio(v);
    }
    return isNum(v) ? String(Math.round(v * 1000) / 1000) : 'n/a';
  }
  function kindOf(k) { return KINDS[k] || { label: String(k), unit: '', sw: 's-warn' }; }
  function causeOf(id) { return CAUSES[id] || String(id); }

  // Time: RFC 3339 with up to nanoseconds; Date.parse wants milliseconds.
  function tms(t) { return typeof t === 'string' ? Date.parse(t.replace(/(\.\d{3})\d+/, '$1')) : NaN; }
  function pad(n) { return n < 10 ? '0' + n : String(n); }
  function clock(ms) {
    if (!isFinite(ms)) return '?';
    var d = new Date(ms);
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }
  function day(ms) {
    if (!isFinite(ms)) return '?';
    var d = new Date(ms);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate());
  }
  function span(w) { return clock(tms(w.start)) + '–' + clock(tms(w.end)); }
  function windowSeconds(w) { var d = (tms(w.end) - tms(w.start)) / 1000; return isFinite(d) ? d : null; }
  function baseName(p) { var i = String(p).lastIndexOf('/'); return i >= 0 ? p.slice(i + 1) : p; }
  function where(f) {
    if (!f.file) return '';
    return f.line ? f.file + ':' + f.line : f.file;
  }

  // ---- data ----

  function readConfig() {
    var el = $('diag-data');
    var cfg = JSON.parse(el ? el.textContent : 'null');
    if (!cfg || (cfg.mode !== 'live' && cfg.mode !== 'snapshot')) throw new Error('dashboard: no configuration');
    return cfg;
  }

  function setWindows(ws) {
    ws = (Array.isArray(ws) ? ws : []).filter(function (w) { return w && isNum(w.seq); });
    state.windows = ws;
    state.bySeq = new Map();
    ws.forEach(function (w, i) { state.bySeq.set(w.seq, i); });
    state.episodes = episodes(ws);
    var last = ws.length ? ws[ws.length - 1].seq : null;
    if (state.follow || !state.bySeq.has(state.selected)) {
      state.selected = last;
      state.follow = true;
    }
  }

  function selectedWindow() {
    var i = state.bySeq.get(state.selected);
    return i === undefined ? null : state.windows[i];
  }

  function latestWindow() { return state.windows.length ? state.windows[state.windows.length - 1] : null; }

  function select(seq) {
    if (!state.bySeq.has(seq)) return;
    state.selected = seq;
    var last = latestWindow();
    state.follow = !!last && last.seq === seq;
    renderSelection();
  }

  function step(d) {
    var i = state.bySeq.get(state.selected);
    if (i === undefined) return;
    var j = Math.max(0, Math.min(state.windows.length - 1, i + d));
    if (j !== i) select(state.windows[j].seq);
  }

  // ---- fetching (live mode) ----

  function describe(e) {
    if (e && e.name === 'AbortError') return 'no answer within ' + FETCH_TIMEOUT_MS / 1000 + ' s';
    return (e && e.message) || String(e);
  }

  async function getJSON(path) {
    var ctl = new AbortController();
    var timer = setTimeout(function () { ctl.abort(); }, FETCH_TIMEOUT_MS);
    try {
      var r = await fetch(path, {
        cache: 'no-store', credentials: 'same-origin', redirect: 'error',
        headers: { Accept: 'application/json' }, signal: ctl.signal
      });
      if (!r.ok) {
        var text = '';
        try { text = (await r.text()).trim().slice(0, 200); } catch (_) { /* the status says enough */ }
        var err = new Error(path.split('?')[0] + ': ' + r.status + (text ? ' ' + text : ''));
        err.status = r.status;
        throw err;
      }
      return await r.json();
    } finally {
      clearTimeout(timer);
    }
  }

  async function getHistory(n) {
    var hist = await getJSON('history?n=' + encodeURIComponent(n));
    if (!hist || hist.window_schema !== WINDOW_SCHEMA || !Array.isArray(hist.windows)) {
      throw new Error('history: not a ' + WINDOW_SCHEMA + ' document');
    }
    return hist;
  }

  var pollTimer = 0;
  var polling = false;

  async function poll() {
    pollTimer = 0;
    if (document.hidden) { renderStatus(); return; } // visibilitychange resumes
    polling = true;
    try {
      // The latest window alone says whether there is anything new: the
      // whole history is fetched only when there is.
      var probe = await getHistory(1);
      var newest = probe.windows.length ? probe.windows[probe.windows.length - 1].seq : null;
      var cur = latestWindow();
      if (newest === null) setWindows([]);
      else if (!cur || cur.seq !== newest) setWindows((await getHistory(state.cfg.history_n)).windows);
      state.error = '';
      state.authError = false;
      state.lastOK = Date.now();
      if (Date.now() - state.doctorAt >= DOCTOR_EVERY_MS) await pollDoctor();
    } catch (e) {
      state.error = describe(e);
      state.authError = e && (e.status === 401 || e.status === 403);
    } finally {
      polling = false;
    }
    render();
    schedule();
  }

  function schedule() {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, state.cfg.refresh_ms || 5000);
  }

  async function pollDoctor() {
    try {
      var d = await getJSON('doctor');
      if (!d || d.schema !== DOCTOR_SCHEMA || !Array.isArray(d.checks)) throw new Error('doctor: not a ' + DOCTOR_SCHEMA + ' document');
      state.doctor = d;
      state.doctorState = 'ok';
      state.doctorNote = '';
      state.doctorAt = Date.now();
    } catch (e) {
      if (e && e.status === 404) {
        state.doctorState = 'unavailable';
        state.doctorNote = 'This agent serves no doctor report (doctor answered 404).';
        state.doctorAt = Infinity; // it will not appear without a restart
      } else {
        state.doctorState = state.doctor ? 'ok' : 'error';
        state.doctorNote = describe(e);
        state.doctorAt = Date.now();
      }
    }
  }

  // ---- rendering ----

  function render() {
    var key = state.windows.length + ':' + (state.windows.length ? state.windows[0].seq + '-' + latestWindow().seq : '');
    var changed = key !== state.dataKey;
    state.dataKey = key;
    renderStatus();
    renderHeader();
    renderBanner();
    if (changed) renderEpisodes();
    renderSelection();
    renderDoctor();
    renderFooter();
    var root = document.documentElement;
    root.setAttribute('data-windows', String(state.windows.length));
    root.setAttribute('data-doctor', state.doctorState);
    root.setAttribute('data-state', state.windows.length ? 'ready' : (state.error ? 'error' : 'empty'));
    var lw = latestWindow();
    var warned = lw && ((lw.warnings && lw.warnings.length) || activeKinds(lw).length);
    document.title = (warned ? '⚠ ' : '') + 'diagkit · ' + targetName();
  }

  function renderSelection() {
    renderCharts();
    renderKPIs();
    renderWindow();
    highlightEpisodes();
  }

  function targetName() {
    if (!state.live) return state.cfg.target || 'snapshot';
    var prefix = window.location.pathname.replace(/\/?debug\/diag\/?$/, '');
    return window.location.host + prefix;
  }

  function renderStatus() {
    var el = $('hdr-status');
    var cls = 'status', text;
    if (!state.live) {
      cls += ' snapshot';
      var saved = tms(state.cfg.saved);
      text = 'snapshot · saved ' + day(saved) + ' ' + clock(saved);
    } else if (state.authError) {
      cls += ' error';
      text = 'not authorized';
    } else if (state.error) {
      cls += ' error';
      text = 'agent unreachable' + (state.lastOK ? ' · data of ' + clock(state.lastOK) : '');
    } else if (document.hidden) {
      cls += ' paused';
      text = 'paused while hidden';
    } else if (state.lastOK) {
      cls += ' live';
      text = 'live · updated ' + clock(state.lastOK);
    } else {
      text = 'loading…';
    }
    el.className = cls;
    fill('hdr-status', h('span', { 'class': 'dot', 'aria-hidden': 'true' }), h('span', { text: text }));
  }

  function renderHeader() {
    $('hdr-target').textContent = targetName();
    var w = latestWindow();
    var chips = [];
    function chip(label, value, bad, title) {
      chips.push(h('span', { 'class': 'chip' + (bad ? ' bad' : ''), title: title || null }, label + ' ', h('b', { text: value })));
    }
    if (w) {
      var c = ctx(w);
      var cpus = isNum(c.cgroup_cpu_limit) ? c.cgroup_cpu_limit : c.num_cpu;
      if (c.go_version) chip('Go', String(c.go_version).replace(/^go/, ''));
      if (isNum(c.gomaxprocs)) chip('GOMAXPROCS', String(c.gomaxprocs), isNum(cpus) && c.gomaxprocs > Math.ceil(cpus), 'GOMAXPROCS above the CPUs the process may use');
      if (isNum(c.num_cpu)) chip('CPUs', String(c.num_cpu));
      if (isNum(c.cgroup_cpu_limit)) chip('cgroup limit', String(Math.round(c.cgroup_cpu_limit * 100) / 100) + ' CPUs');
      if (c.async_preempt_off) chip('asyncpreemptoff', '1', true);
      var ws = windowSeconds(w);
      if (isNum(ws)) chip('window', secs(ws));
    }
    chip('history', state.windows.length + ' window' + (state.windows.length === 1 ? '' : 's'));
    fill('hdr-chips', chips);
  }

  function renderBanner() {
    var el = $('banner');
    var msg = '';
    var info = false;
    if (state.live && state.authError) {
      msg = 'Not authorized: ' + state.error + '. Reload the page to sign in: any user name, the agent\'s token as the password.';
    } else if (state.live && state.error) {
      msg = 'Cannot read the agent: ' + state.error + (state.lastOK ? '. Showing the data of ' + clock(state.lastOK) + '; retrying.' : '; retrying.');
    } else if (!state.windows.length && (state.lastOK || !state.live)) {
      info = true;
      msg = state.live ? 'No window analyzed yet: the first completes one window (Config.Window) after the agent starts. This page refreshes by itself.'
        : 'This snapshot holds no window.';
    }
    el.hidden = !msg;
    el.className = 'banner' + (info ? ' info' : '');
    el.textContent = msg;
  }

  function renderFooter() {
    var parts;
    if (state.live) {
      parts = ['diagkit dashboard · live from the agent\'s history and doctor endpoints · refreshes every ' +
        Math.round((state.cfg.refresh_ms || 5000) / 1000) + ' s while visible'];
    } else {
      var saved = tms(state.cfg.saved);
      parts = ['diagkit snapshot of ' + (state.cfg.target || 'an agent') + ' · saved ' + day(saved) + ' ' + clock(saved) + ' (your time)' +
        (state.cfg.generator ? ' by ' + state.cfg.generator : '') + ' · self-contained: this file makes no network request'];
    }
    fill('footer', parts);
  }

  // ---- KPIs ----

  function renderKPIs() {
    var w = selectedWindow();
    var c = ctx(w);
    var warns = {};
    ((w && w.warnings) || []).forEach(function (x) { warns[x.kind] = x; });
    kpi('kpi-async', w && pct(share(w, 'async_preempt')), warns.async_preempt_share, 'share of CPU');
    kpi('kpi-cgo', w && pct(share(w, 'cgo')), warns.cgo_share, 'share of CPU');
    kpi('kpi-external', w && pct(share(w, 'external')), null, 'share of CPU');
    kpi('kpi-p99', w && dur(latency(w, 'p99')), warns.sched_latency_p99, 'runnable → running');
    kpi('kpi-cgorate', w && rate(c.cgo_calls_per_second), warns.cgo_call_rate, 'per second');
    $('kpis').setAttribute('aria-label', w ? 'Window #' + w.seq : 'No window');
  }

  function kpi(id, value, warn, sub) {
    var el = $(id);
    var v = value || '–';
    el.querySelector('.kpi-value').textContent = v;
    el.querySelector('.kpi-sub').textContent = warn ? 'above the ' + fmt(kindOf(warn.kind).unit, warn.threshold) + ' threshold' : sub;
    el.classList.toggle('alert', !!warn);
    el.classList.toggle('na', v === 'n/a' || v === '–');
  }

  // ---- charts ----

  function niceStep(raw) {
    if (!(raw > 0)) return 1;
    var e = Math.pow(10, Math.floor(Math.log10(raw)));
    var f = raw / e;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e;
  }

  // tick formats an axis value: no more decimals than the step needs.
  function tick(unit, v, stepY) {
    if (v === 0) return unit === 'rate' ? '0/s' : unit === 'pct' ? '0%' : '0';
    var dec = function (x) { return Math.max(0, Math.min(3, -Math.floor(Math.log10(x) + 1e-9))); };
    switch (unit) {
      case 'pct': return (v * 100).toFixed(dec(stepY * 100)) + '%';
      case 'dur':
        if (stepY >= 1) return v.toFixed(dec(stepY)) + ' s';
        if (stepY >= 1e-3) return (v * 1e3).toFixed(dec(stepY * 1e3)) + ' ms';
        return (v * 1e6).toFixed(dec(stepY * 1e6)) + ' µs';
      case 'rate':
        if (stepY >= 1e3) return (v / 1e3).toFixed(dec(stepY / 1e3)) + 'k/s';
        return v.toFixed(dec(stepY)) + '/s';
      case 'ratio': return v.toFixed(dec(stepY));
    }
    return String(v);
  }

  var TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map(function (x) { return x * 1000; });

  function timeDomain() {
    var ws = state.windows;
    if (!ws.length) return null;
    var t0 = Infinity, t1 = -Infinity;
    ws.forEach(function (w) {
      var a = tms(w.start), b = tms(w.end);
      if (isFinite(a)) t0 = Math.min(t0, a);
      if (isFinite(b)) t1 = Math.max(t1, b);
    });
    if (!isFinite(t0) || !isFinite(t1)) return null;
    if (t1 - t0 < 1000) { t0 -= 500; t1 += 500; }
    return [t0, t1];
  }

  function mid(w) { return (tms(w.start) + tms(w.end)) / 2; }

  function frame(el) {
    var W = Math.max(240, Math.floor(el.clientWidth || 800));
    var H = Math.max(30, Math.floor(el.clientHeight || Number(el.getAttribute('data-height')) || 160));
    var dom = timeDomain();
    var iw = W - MARGIN.left - MARGIN.right;
    var x = dom ? function (t) { return MARGIN.left + (t - dom[0]) / (dom[1] - dom[0]) * iw; } : null;
    return { W: W, H: H, dom: dom, x: x };
  }

  function latestThreshold(kind) {
    for (var i = state.windows.length - 1; i >= 0; i--) {
      var ws = state.windows[i].warnings || [];
      for (var j = 0; j < ws.length; j++) if (ws[j].kind === kind && isNum(ws[j].threshold)) return ws[j].threshold;
    }
    return null;
  }

  function renderCharts() {
    CHARTS.forEach(function (spec) {
      if (spec.block) {
        var any = state.windows.some(function (w) { return spec.shown(spec.series[0].get(w)); });
        $(spec.block).hidden = !any;
        if (!any) { $(spec.id).replaceChildren(); return; }
      }
      drawChart($(spec.id), spec);
    });
    drawStrip($('chart-warnings'));
    renderLegend();
  }

  function renderLegend() {
    var items = [
      ['s-async', 'async preemption'], ['s-cgo', 'cgo'], ['s-external', 'external threads'],
      ['s-p50', 'latency p50'], ['s-p99', 'latency p99']
    ];
    CHARTS.forEach(function (spec) {
      if (spec.block && !$(spec.block).hidden) items.push(['s-' + spec.series[0].key, spec.legend]);
    });
    items.push(['s-warn', 'warning (the number of them when several)']);
    fill('tl-legend', items.map(function (it) { return h('span', null, h('i', { 'class': 'sw ' + it[0] }), it[1]); }));
  }

  function drawChart(el, spec) {
    var f = frame(el);
    var svg = s('svg', { viewBox: '0 0 ' + f.W + ' ' + f.H, role: 'img', 'aria-label': spec.label });
    var top = MARGIN.top, bottom = f.H - MARGIN.bottom, left = MARGIN.left, right = f.W - MARGIN.right;
    if (!f.dom) {
      svg.appendChild(s('text', { 'class': 'empty-text', x: f.W / 2, y: f.H / 2, 'text-anchor': 'middle', text: 'no window yet' }));
      el.replaceChildren(svg);
      return;
    }
    var ws = state.windows;
    var thresholds = [];
    spec.thresholds.forEach(function (k) {
      var t = latestThreshold(k);
      if (t !== null) thresholds.push({ kind: k, value: t });
    });
    var max = spec.floor;
    ws.forEach(function (w) {
      spec.series.forEach(function (sr) { var v = sr.get(w); if (isNum(v)) max = Math.max(max, v); });
    });
    thresholds.forEach(function (t) { max = Math.max(max, t.value * 1.15); });
    var stepY = niceStep(max / 4);
    if (spec.unit === 'rate') stepY = Math.max(1, stepY);
    var ymax = Math.ceil(max / stepY - 1e-9) * stepY;
    var y = function (v) { return bottom - (v / ymax) * (bottom - top); };

    // Grid and y axis.
    var grid = s('g', { 'class': 'grid' });
    var axis = s('g', { 'class': 'axis' });
    for (var i = 0; i * stepY <= ymax + stepY / 2; i++) {
      var v = i * stepY;
      var yy = Math.round(y(v)) + 0.5;
      grid.appendChild(s('line', { x1: left, x2: right, y1: yy, y2: yy }));
      axis.appendChild(s('text', { x: left - 8, y: yy + 4, 'text-anchor': 'end', text: tick(spec.unit, v, stepY) }));
    }
    axis.appendChild(s('line', { 'class': 'base', x1: left, x2: right, y1: bottom + 0.5, y2: bottom + 0.5 }));
    timeTicks(f).forEach(function (t) {
      axis.appendChild(s('text', { x: f.x(t), y: f.H - 6, 'text-anchor': 'middle', text: clock(t) }));
    });
    svg.appendChild(grid);

    // Windows with warnings, shaded.
    var bands = s('g', { 'class': 'bands' });
    ws.forEach(function (w) {
      if (!w.warnings || !w.warnings.length) return;
      var a = f.x(tms(w.start)), b = f.x(tms(w.end));
      bands.appendChild(s('rect', { 'class': 'warn-band', x: a, y: top, width: Math.max(1, b - a), height: bottom - top, 'data-seq': w.seq }));
    });
    svg.appendChild(bands);
    svg.appendChild(axis);

    thresholds.forEach(function (t) {
      t.y = Math.round(y(t.value)) + 0.5;
      svg.appendChild(s('line', { 'class': 'threshold', x1: left, x2: right, y1: t.y, y2: t.y }));
    });

    // Series: an area under the main one, lines broken where a figure is
    // unavailable, and a point per window.
    spec.series.forEach(function (sr) {
      var pts = ws.map(function (w) { var v = sr.get(w); return isNum(v) ? [f.x(mid(w)), y(v), w.seq] : null; });
      var d = '', area = '', run = [];
      var flush = function () {
        if (run.length && sr.key === spec.area) {
          area += 'M' + run[0][0].toFixed(1) + ',' + bottom + run.map(function (p) { return 'L' + p[0].toFixed(1) + ',' + p[1].toFixed(1); }).join('') +
            'L' + run[run.length - 1][0].toFixed(1) + ',' + bottom + 'Z';
        }
        run = [];
      };
      pts.forEach(function (p) {
        if (!p) { flush(); return; }
        d += (run.length ? 'L' : 'M') + p[0].toFixed(1) + ',' + p[1].toFixed(1);
        run.push(p);
      });
      flush();
      if (area) svg.appendChild(s('path', { 'class': 'area s-' + sr.key, d: area }));
      if (d) svg.appendChild(s('path', { 'class': 'line s-' + sr.key, d: d, 'data-series': sr.key }));
      var g = s('g', { 'class': 'points', 'data-series': sr.key });
      var r = ws.length > 150 ? 1.6 : ws.length > 60 ? 2.2 : 3;
      pts.forEach(function (p) {
        if (!p) return;
        var sel = p[2] === state.selected;
        g.appendChild(s('circle', { 'class': 'pt s-' + sr.key + (sel ? ' sel' : ''), cx: p[0].toFixed(1), cy: p[1].toFixed(1), r: sel ? r + 1.8 : r, 'data-seq': p[2] }));
      });
      svg.appendChild(g);
    });

    // The thresholds' labels, above the data lines so that a line does not
    // run through them, and clear of each other: a label goes above its
    // line, or below it where another label or the top is in the way.
    var labels = s('g', { 'class': 'threshold-labels' });
    var placed = [];
    thresholds.slice().sort(function (a, b) { return a.y - b.y; }).forEach(function (t) {
      var ly = t.y - 4;
      var clash = function (v) { return v - LABEL_H < top || placed.some(function (p) { return Math.abs(p - v) < LABEL_H; }); };
      if (clash(ly)) ly = t.y + LABEL_H;
      while (clash(ly) && ly < bottom) ly += LABEL_H;
      placed.push(ly);
      labels.appendChild(s('text', { 'class': 'threshold-label', x: right - 4, y: ly, 'text-anchor': 'end', 'data-kind': t.kind,
        text: (kindOf(t.kind).line || kindOf(t.kind).label.toLowerCase()) + ' threshold ' + fmt(spec.unit, t.value) }));
    });
    svg.appendChild(labels);

    selectionLine(svg, f, top, bottom);
    interact(svg, f, top, bottom, function (w) {
      return spec.series.map(function (sr) { return { sw: 's-' + sr.key, label: sr.label, value: fmt(spec.unit, sr.get(w)) }; });
    });
    el.replaceChildren(svg);
  }

  function timeTicks(f) {
    var span = f.dom[1] - f.dom[0];
    var want = Math.max(2, Math.floor((f.W - MARGIN.left - MARGIN.right) / 110));
    var stepT = TIME_STEPS[TIME_STEPS.length - 1];
    for (var i = 0; i < TIME_STEPS.length; i++) if (span / TIME_STEPS[i] <= want) { stepT = TIME_STEPS[i]; break; }
    var off = new Date(f.dom[0]).getTimezoneOffset() * 60000; // align to local minutes and hours
    var t = Math.ceil((f.dom[0] - off) / stepT) * stepT + off;
    var out = [];
    for (; t <= f.dom[1]; t += stepT) out.push(t);
    return out;
  }

  function selectionLine(svg, f, top, bottom) {
    var w = selectedWindow();
    if (!w) return;
    var x = Math.round(f.x(mid(w))) + 0.5;
    svg.appendChild(s('line', { 'class': 'sel-line', x1: x, x2: x, y1: top, y2: bottom }));
  }

  // interact adds the hover line, the tooltip and click-to-select.
  function interact(svg, f, top, bottom, rows) {
    var hover = s('line', { 'class': 'hover-line', x1: 0, x2: 0, y1: top, y2: bottom });
    hover.style.visibility = 'hidden';
    var overlay = s('rect', { 'class': 'overlay', x: MARGIN.left, y: 0, width: f.W - MARGIN.left - MARGIN.right, height: bottom });
    svg.appendChild(hover);
    svg.appendChild(overlay);
    var nearest = function (ev) {
      var box = svg.getBoundingClientRect();
      var px = (ev.clientX - box.left) * (f.W / box.width);
      var best = null, bd = Infinity;
      state.windows.forEach(function (w) { var d = Math.abs(f.x(mid(w)) - px); if (d < bd) { bd = d; best = w; } });
      return best;
    };
    overlay.addEventListener('mousemove', function (ev) {
      var w = nearest(ev);
      if (!w) return;
      var x = f.x(mid(w));
      hover.setAttribute('x1', x);
      hover.setAttribute('x2', x);
      hover.style.visibility = 'visible';
      showTooltip(ev, w, rows(w));
    });
    overlay.addEventListener('mouseleave', function () { hover.style.visibility = 'hidden'; hideTooltip(); });
    overlay.addEventListener('click', function (ev) { var w = nearest(ev); if (w) select(w.seq); });
  }

  // stripRows gives each window a row of the warnings strip: the first row
  // where it overlaps no window already placed, so that a window inside
  // others (a scrape the agent analyzed during its periodic windows) is
  // drawn apart from them. It returns the rows by seq and their number.
  function stripRows(windows) {
    var ends = [], row = {};
    windows.slice().sort(function (a, b) { return tms(a.start) - tms(b.start) || a.seq - b.seq; }).forEach(function (w) {
      var i = 0;
      while (i < ends.length && ends[i] > tms(w.start)) i++;
      ends[i] = tms(w.end);
      row[w.seq] = i;
    });
    return { row: row, n: Math.max(1, ends.length) };
  }

  // drawStrip draws a cell per window, a marker on each window that warned,
  // and under the cells a bar per episode, a lane per kind. Overlapping
  // windows take rows of their own.
  function drawStrip(el) {
    var eps = state.episodes || [];
    var lanes = [];
    eps.forEach(function (e) { if (lanes.indexOf(e.kind) < 0) lanes.push(e.kind); });
    lanes.sort(kindCompare);
    var rows = stripRows(state.windows);
    var extra = STRIP_ROW * (rows.n - 1);
    el.style.height = Math.max(44, 36 + extra + 5 * lanes.length) + 'px';
    var f = frame(el);
    var svg = s('svg', { viewBox: '0 0 ' + f.W + ' ' + f.H, role: 'img', 'aria-label': 'Warnings per window' });
    if (!f.dom) { el.replaceChildren(svg); return; }
    var cy0 = 22;
    var bars = s('g', { 'class': 'episode-bars' });
    eps.forEach(function (e) {
      var a = f.x(tms(e.first.start)), b = f.x(tms(e.last.end));
      bars.appendChild(s('rect', { 'class': 'episode-bar ' + kindOf(e.kind).sw, x: a + 0.5, y: cy0 + extra + 12 + 5 * lanes.indexOf(e.kind),
        width: Math.max(1, b - a - 1), height: 3, 'data-kind': e.kind, 'data-first': e.first.seq, 'data-last': e.last.seq }));
    });
    svg.appendChild(bars);
    var cells = s('g', { 'class': 'cells' });
    var markers = s('g', { 'class': 'markers' });
    state.windows.forEach(function (w) {
      var a = f.x(tms(w.start)), b = f.x(tms(w.end));
      var wd = Math.max(1, b - a - 1);
      var row = rows.row[w.seq] || 0;
      var cy = cy0 + STRIP_ROW * row;
      cells.appendChild(s('rect', { 'class': 'cell' + (row ? ' inner' : '') + (w.seq === state.selected ? ' sel' : ''), x: a + 0.5, y: cy - 9, width: wd, height: 18,
        'data-seq': w.seq, 'data-row': row }));
      var n = (w.warnings || []).length;
      if (!n) return;
      var x = f.x(mid(w));
      var g = s('g', { 'class': 'warn', 'data-seq': w.seq, role: 'button', tabindex: 0, 'aria-label': 'Window #' + w.seq + ': ' + n + ' warning' + (n > 1 ? 's' : '') });
      g.appendChild(s('path', { 'class': 'warn-marker' + (n > 1 ? ' multi' : ''), d: 'M' + x + ',' + (cy - 8) + 'l8,8l-8,8l-8,-8z', 'data-seq': w.seq, 'data-row': row }));
      if (n > 1) g.appendChild(s('text', { 'class': 'warn-count', x: x, y: cy + 3.2, 'text-anchor': 'middle', text: String(n) }));
      g.addEventListener('click', function () { select(w.seq); });
      g.addEventListener('keydown', function (ev) { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); select(w.seq); } });
      g.addEventListener('mousemove', function (ev) { showTooltip(ev, w, []); });
      g.addEventListener('mouseleave', hideTooltip);
      markers.appendChild(g);
    });
    svg.appendChild(cells);
    // Clicking between markers selects the nearest window too.
    interact(svg, f, 0, f.H, function () { return []; });
    svg.appendChild(markers);
    el.replaceChildren(svg);
  }

  // ---- tooltip ----

  function showTooltip(ev, w, rows) {
    var tt = $('tooltip');
    var parts = [h('div', { 'class': 'tt-title', text: 'Window #' + w.seq + ' · ' + span(w) })];
    rows.forEach(function (r) {
      parts.push(h('div', { 'class': 'tt-row' }, h('i', { 'class': 'sw ' + r.sw }), h('span', { text: r.label }), h('span', { 'class': 'v', text: r.value })));
    });
    (w.warnings || []).forEach(function (x) {
      var k = kindOf(x.kind);
      parts.push(h('div', { 'class': 'tt-warn', text: '⚠ ' + k.label + ' ' + fmt(k.unit, x.value) + ' (threshold ' + fmt(k.unit, x.threshold) + ')' }));
      if (x.causes && x.causes.length) parts.push(h('div', { 'class': 'tt-cause', text: String(x.causes[0]) }));
    });
    var held = heldKinds(w);
    if (held.length) parts.push(h('div', { 'class': 'tt-cause', text: 'ongoing, not resolved yet: ' + held.map(function (k) { return kindOf(k).label; }).join(', ') }));
    if (!(w.warnings || []).length && !held.length && !rows.length) parts.push(h('div', { 'class': 'tt-cause', text: 'no warning' }));
    tt.replaceChildren.apply(tt, parts);
    tt.hidden = false;
    var bw = tt.offsetWidth, bh = tt.offsetHeight;
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + bw > window.innerWidth - 8) x = ev.clientX - bw - 14;
    if (y + bh > window.innerHeight - 8) y = ev.clientY - bh - 14;
    tt.style.left = Math.max(4, x) + 'px';
    tt.style.top = Math.max(4, y) + 'px';
  }

  function hideTooltip() { $('tooltip').hidden = true; }

  // ---- the selected window ----

  function renderWindow() {
    var w = selectedWindow();
    var latest = latestWindow();
    $('btn-prev').disabled = !w || state.bySeq.get(w.seq) === 0;
    $('btn-next').disabled = !w || w === latest;
    var lb = $('btn-latest');
    lb.disabled = !latest;
    lb.classList.toggle('on', state.follow && !!latest);
    if (!w) {
      $('win-title').textContent = 'Window';
      fill('win-meta', h('span', { text: 'No window to show.' }));
      ['win-bar', 'win-barlegend', 'win-warnings', 'win-context', 'win-notes'].forEach(function (id) { fill(id); });
      $('win-interp').textContent = '';
      fill('tbl-preempted', h('div', { 'class': 'empty', text: '–' }));
      fill('tbl-cgo', h('div', { 'class': 'empty', text: '–' }));
      return;
    }
    $('win-title').textContent = 'Window #' + w.seq + (w === latest ? ' · latest' : '');
    var start = tms(w.start);
    var meta = [
      h('span', { text: day(start) + ' ' + span(w) + (isNum(windowSeconds(w)) ? ' (' + secs(windowSeconds(w)) + ')' : '') }),
      h('span', { text: w.source === 'http' ? 'from a /debug/pprof/profile scrape' : String(w.source || '') }),
      h('span', { text: int(w.samples) + ' samples' }),
      h('span', { text: secs(w.cpu_seconds) + ' of CPU' })
    ];
    if (w !== latest && latest) {
      var n = state.windows.length - 1 - state.bySeq.get(w.seq);
      meta.push(h('span', { text: n + ' window' + (n === 1 ? '' : 's') + ' before the latest' }));
    }
    fill('win-meta', meta);

    var sh = w.shares || {};
    var parts = [
      ['s-go', 'Go', sh.go], ['s-async', 'async preemption', sh.async_preempt], ['s-sched', 'preempt scheduling', sh.preempt_sched],
      ['s-cgo', 'cgo', sh.cgo], ['s-external', 'external', sh.external], ['s-rtns', 'runtime, no stack', sh.runtime_no_stack]
    ];
    fill('win-bar', parts.filter(function (p) { return isNum(p[2]) && p[2] > 0; }).map(function (p) {
      var seg = h('span', { 'class': p[0], title: p[1] + ' ' + pct(p[2]) });
      seg.style.width = (Math.min(1, p[2]) * 100).toFixed(3) + '%';
      return seg;
    }));
    fill('win-barlegend', parts.map(function (p) { return h('span', null, h('i', { 'class': 'sw ' + p[0] }), p[1] + ' ' + pct(p[2])); }));
    $('win-interp').textContent = w.interpretation ? String(w.interpretation) : '';

    var held = heldKinds(w);
    fill('win-warnings', (w.warnings || []).map(warningCard),
      held.length ? h('div', { 'class': 'wcard held' }, h('span', { 'class': 'wk', text: 'Ongoing' }),
        h('span', { 'class': 'muted', text: ' ' + held.map(function (k) { return kindOf(k).label; }).join(', ') +
          ': raised before, not resolved yet (the agent resolves a kind after a run of clean windows)' })) : null,
      unjudged(w).length ? h('div', { 'class': 'unjudged muted small', text: 'Not judged in this window (too few samples or a figure unavailable): ' +
        unjudged(w).map(function (k) { return kindOf(k).label; }).join(', ') }) : null);

    fill('tbl-preempted', funcTable(w.top_preempted, 's-async', false, 'No function was interrupted by async preemption in this window.'));
    fill('tbl-cgo', funcTable(w.top_cgo_calls, 's-cgo', true, 'No cgo call in this window.'));
    renderContext(w);
    fill('win-notes', (w.notes || []).map(function (n) { return h('li', { text: String(n) }); }));
  }

  function warningCard(x) {
    var k = kindOf(x.kind);
    var causes = Array.isArray(x.causes) ? x.causes : [];
    var lead = x.lead_cause ? h('div', { 'class': 'lead', 'data-cause': String(x.lead_cause) },
      h('span', { 'class': 'lead-k', text: 'Lead cause: ' + causeOf(x.lead_cause) }),
      causes.length ? h('span', { 'class': 'lead-t', text: ' · ' + String(causes[0]) }) : null) : null;
    var rest = lead ? causes.slice(1) : causes;
    var fns = Array.isArray(x.functions) ? x.functions : [];
    return h('div', { 'class': 'wcard', 'data-kind': String(x.kind) },
      h('span', { 'class': 'wk', text: '⚠ ' + k.label }),
      h('span', { 'class': 'wv', text: fmt(k.unit, x.value) + ' > ' + fmt(k.unit, x.threshold) }),
      x.logged === false ? h('span', { 'class': 'muted small', text: ' · not logged again (cooldown)' }) : null,
      lead,
      rest.length ? h('div', null, lead ? h('div', { 'class': 'muted small', text: 'Other causes' }) : null,
        h('ul', null, rest.map(function (c) { return h('li', { text: String(c) }); }))) : null,
      fns.length ? h('div', { 'class': 'fns' },
        x.functions_from ? h('div', { 'class': 'muted small from', text: 'Functions from ' + (FUNCTIONS_FROM[x.functions_from] || String(x.functions_from)) }) : null,
        fns.map(function (fn) { return h('div', { 'class': 'fn', text: String(fn) }); })) : null,
      x.evidence && typeof x.evidence === 'object' ? evidenceBlock(x.evidence) : null);
  }

  // evidenceBlock shows what the agent gathered on the warning: where a
  // goroutine dump found the goroutines an execution trace saw run long
  // before async preemption, and the summary of that trace, with a link to
  // the raw trace on the live page.
  function evidenceBlock(ev) {
    var t = tms(ev.time);
    var sites = Array.isArray(ev.preempted) ? ev.preempted : [];
    var head = 'Evidence' + (isFinite(t) ? ' gathered at ' + clock(t) : '') +
      (isNum(ev.goroutines) && ev.goroutines > 0 ? ' · goroutine dump of ' + int(ev.goroutines) + ' goroutines' : '');
    return h('div', { 'class': 'evidence' },
      h('div', { 'class': 'ev-head', text: head }),
      ev.note ? h('div', { 'class': 'muted small', text: String(ev.note) }) : null,
      sites.length ? h('table', { 'class': 'ev-sites', 'data-rows': sites.length },
        h('thead', null, h('tr', null, h('th', { text: 'Long runs found at' }), h('th', { text: 'Location' }),
          h('th', { 'class': 'num', text: 'Goroutines' }), h('th', { 'class': 'num', text: 'Long runs' }))),
        h('tbody', null, sites.map(function (p) {
          return h('tr', null, h('td', { 'class': 'fn', text: String(p.function || '?') }),
            h('td', { 'class': 'loc', title: where(p) || null, text: p.file ? baseName(p.file) + (p.line ? ':' + p.line : '') : '' }),
            h('td', { 'class': 'num', text: int(p.goroutines) }),
            h('td', { 'class': 'num', text: int(p.long_runs) }));
        }))) : (ev.trace ? h('div', { 'class': 'muted small', text: 'No goroutine was found running long.' }) : null),
      ev.trace && typeof ev.trace === 'object' ? traceBlock(ev.trace) : null,
      ev.trace_note ? h('div', { 'class': 'muted small', text: (ev.trace ? 'Trace: ' : 'No trace: ') + String(ev.trace_note) }) : null);
  }

  function traceBlock(tr) {
    var t = tms(tr.start);
    var figures = [
      'Execution trace' + (isFinite(t) ? ' from ' + clock(t) : '') + ': ' + secs(tr.seconds) + (isNum(tr.bytes) ? ', ' + bytes(tr.bytes) : '') +
        (tr.cut ? ' (cut short at the agent\'s cap)' : ''),
      int(tr.async_preemptions) + ' async and ' + int(tr.cooperative_preemptions) + ' cooperative preemptions',
      'longest run ' + dur(tr.longest_run_seconds),
      int(tr.runs_over_10ms) + ' runs of 10 ms or more'
    ];
    var path = typeof tr.path === 'string' ? tr.path : '';
    var link = null;
    if (state.live && agentHref(path)) {
      link = h('a', { 'class': 'trace-link' }, 'Download the raw trace');
      link.setAttribute('href', agentHref(path));
    }
    return h('div', { 'class': 'trace' },
      h('div', { text: figures.join(' · ') }),
      path ? h('div', { 'class': 'small' }, link,
        h('span', { 'class': link ? 'muted' : 'muted trace-path', text: link ? ' (' + path + ', until the next trace; go tool trace or diagctl trace read it)'
          : 'The agent served the raw trace at ' + path + ' until its next one.' })) : null);
  }

  // agentHref turns the trace's path on the agent into a link from this
  // page: the agent's handler may be mounted under a prefix, the page is at
  // PREFIX/debug/diag/. Only a plain path on the page's own origin passes;
  // anything else (a scheme, another host, dot segments) gets no link.
  function agentHref(path) {
    if (typeof path !== 'string' || !/^\/?[A-Za-z0-9._~%\/-]+(\?[A-Za-z0-9._~%=&-]*)?$/.test(path)) return null;
    var p = path.charAt(0) === '/' ? path : '/' + path;
    if (p.indexOf('//') >= 0 || /(^|\/)\.\.?(\/|\?|$)/.test(p)) return null;
    var m = /^(.*)\/debug\/diag\/?$/.exec(window.location.pathname);
    if (!m) return null;
    var href = m[1] + p;
    try {
      if (new URL(href, window.location.href).origin !== window.location.origin) return null;
    } catch (_) {
      return null;
    }
    return href;
  }

  function bytes(v) {
    if (!isNum(v)) return 'n/a';
    if (v >= 1 << 20) return (v / (1 << 20)).toFixed(1) + ' MiB';
    if (v >= 1 << 10) return (v / (1 << 10)).toFixed(1) + ' KiB';
    return int(v) + ' B';
  }

  function funcTable(rows, sw, cgo, none) {
    if (!Array.isArray(rows) || !rows.length) return h('div', { 'class': 'empty', text: none });
    var max = 0;
    rows.forEach(function (r) { if (isNum(r.share)) max = Math.max(max, r.share); });
    return h('table', { 'data-rows': rows.length },
      h('thead', null, h('tr', null,
        h('th', { text: cgo ? 'Call site' : 'Function' }), h('th', { text: 'Location' }),
        h('th', { 'class': 'num', text: 'Share' }), h('th', { 'class': 'num', text: 'CPU' }), h('th', { 'class': 'num', text: 'Samples' }))),
      h('tbody', null, rows.map(function (r) {
        var bar = h('span', { 'class': 'bar ' + sw });
        bar.style.width = (max > 0 && isNum(r.share) ? r.share / max * 100 : 0).toFixed(1) + '%';
        return h('tr', null,
          h('td', { 'class': 'fn' }, String(r.function || '?'),
            cgo && r.c_function ? h('span', { 'class': 'sub', text: '→ C.' + r.c_function }) : null,
            r.inlined ? h('span', { 'class': 'sub', text: 'inlined' }) : null),
          h('td', { 'class': 'loc', title: where(r) || null, text: r.file ? baseName(r.file) + (r.line ? ':' + r.line : '') : '' }),
          h('td', { 'class': 'num bar-cell' }, bar, h('span', { 'class': 't', text: pct(r.share) })),
          h('td', { 'class': 'num', text: secs(r.cpu_seconds) }),
          h('td', { 'class': 'num', text: int(r.samples) }));
      })));
  }

  function renderContext(w) {
    var c = ctx(w);
    var l = c.sched_latency;
    var rows = [
      ['Go version', c.go_version || null],
      ['GOMAXPROCS', isNum(c.gomaxprocs) ? String(c.gomaxprocs) : null],
      ['CPUs (NumCPU)', isNum(c.num_cpu) ? String(c.num_cpu) : null],
      ['cgroup CPU limit (effective)', isNum(c.cgroup_cpu_limit) ? cpus(c.cgroup_cpu_limit) + (c.cgroup_version ? ' (' + c.cgroup_version + ')' : '') : (c.cgroup_version ? 'none (' + c.cgroup_version + ')' : null)],
      ['Limit set by cgroup', isNum(c.cgroup_cpu_limit) && c.cgroup_cpu_limit_path ? String(c.cgroup_cpu_limit_path) : null],
      ['Throttled periods', isNum(c.cgroup_throttled_periods) ? int(c.cgroup_throttled_periods) + ' of ' + int(c.cgroup_periods) +
        (isNum(c.cgroup_throttled_share) ? ' (' + pct(c.cgroup_throttled_share) + ')' : '') : (isNum(c.cgroup_throttled_share) ? pct(c.cgroup_throttled_share) : null)],
      ['Throttled time', isNum(c.cgroup_throttled_seconds) ? secs(c.cgroup_throttled_seconds) : null],
      ['Throttled time per second', isNum(c.cgroup_throttled_seconds_per_second) ? ratio(c.cgroup_throttled_seconds_per_second) + ' s/s' : null],
      isNum(c.run_queue_wait_ratio) || !c.run_queue_wait_unavailable
        ? ['Run-queue wait per CPU second', isNum(c.run_queue_wait_ratio) ? ratio(c.run_queue_wait_ratio) + ' s' : null]
        : ['Run-queue wait', 'unavailable: ' + String(c.run_queue_wait_unavailable), true],
      ['Run-queue wait per second', isNum(c.run_queue_wait_per_second) ? cpus(c.run_queue_wait_per_second) : null],
      ['Threads read (schedstat)', isNum(c.run_queue_threads) ? int(c.run_queue_threads) + (c.run_queue_threads_capped ? ' (capped)' : '') : null],
      ['Other processes\' CPU', isNum(c.other_cpus) ? cpus(c.other_cpus) : null],
      ['Steal', isNum(c.steal_cpus) ? cpus(c.steal_cpus) : null],
      ['Host busy', isNum(c.host_busy_cpus) ? cpus(c.host_busy_cpus) : null],
      ['Process CPU', isNum(c.process_cpu_seconds) ? secs(c.process_cpu_seconds) : null],
      ['Involuntary switches', isNum(c.involuntary_ctx_switches_per_second) ? rate(c.involuntary_ctx_switches_per_second) : null],
      ['Voluntary switches', isNum(c.voluntary_ctx_switches) ? int(c.voluntary_ctx_switches) : null],
      ['Sched latency p50', l ? dur(l.p50) : null],
      ['Sched latency p99', l ? dur(l.p99) : null],
      ['Sched latency p99.9', l ? dur(l.p999) : null],
      ['cgo calls', isNum(c.cgo_calls_per_second) ? rate(c.cgo_calls_per_second) : null],
      ['Goroutines', isNum(c.goroutines) ? int(c.goroutines) : null],
      ['Runnable goroutines', isNum(c.runnable_goroutines) ? int(c.runnable_goroutines) : null],
      ['Running goroutines', isNum(c.running_goroutines) ? int(c.running_goroutines) : null],
      ['OS threads', isNum(c.os_threads) ? int(c.os_threads) : null],
      ['GC CPU', isNum(c.gc_cpu_fraction) ? pct(c.gc_cpu_fraction) : null],
      ['asyncpreemptoff', c.async_preempt_off ? 'on' : 'off']
    ];
    fill('win-context', rows.map(function (r) {
      return h('div', null, h('dt', { text: r[0] }), h('dd', { 'class': r[1] === null || r[2] ? 'na' : null, text: r[1] === null ? 'n/a' : String(r[1]) }));
    }));
  }

  // ---- warning episodes ----

  // Episodes: one per lasting problem. A window's `active` lists the kinds
  // in an ongoing episode after it (raised by it, or held until the agent's
  // run of clean windows resolves them), so an episode of kind K spans the
  // consecutive windows whose active holds K; a window that lists K in
  // `unjudged` could not tell, and neither ends nor extends it. Older agents
  // send no active: when no window in the history has one, an episode is a
  // run of consecutive windows that warned of K, as before.

  function strings(v) { return Array.isArray(v) ? v.filter(function (k) { return typeof k === 'string'; }) : []; }
  function unjudged(w) { return strings(w && w.unjudged); }
  function warnedKinds(w) { return ((w && w.warnings) || []).map(function (x) { return String(x.kind); }); }
  function hasEpisodeState(ws) { return ws.some(function (w) { return strings(w.active).length > 0; }); }
  // activeKinds is what the window says is ongoing: active, or for an older
  // agent's history the kinds it warned of.
  function activeKinds(w) { return state.episodeState ? strings(w && w.active) : warnedKinds(w); }
  // heldKinds are the kinds ongoing after w that it did not warn of.
  function heldKinds(w) {
    var warned = warnedKinds(w);
    return state.episodeState ? activeKinds(w).filter(function (k) { return warned.indexOf(k) < 0; }) : [];
  }
  function kindCompare(a, b) {
    var i = KIND_ORDER.indexOf(a), j = KIND_ORDER.indexOf(b);
    if (i < 0) i = KIND_ORDER.length;
    if (j < 0) j = KIND_ORDER.length;
    return i - j || (a < b ? -1 : a > b ? 1 : 0);
  }

  // episodes derives the episodes of ws, oldest first. Each has its kind,
  // its first and last window, the windows it spans (count) and those that
  // warned of its kind (warned), the peak warning and its window (null when
  // no window shown warned: the episode began before the history), and
  // whether it is still ongoing after the latest window.
  function episodes(ws) {
    state.episodeState = hasEpisodeState(ws);
    var open = {}, out = [];
    ws.forEach(function (w, i) {
      var act = activeKinds(w);
      var skip = state.episodeState ? unjudged(w) : [];
      var byKind = {};
      ((w && w.warnings) || []).forEach(function (x) { if (!byKind[x.kind]) byKind[x.kind] = x; });
      act.forEach(function (k) {
        var e = open[k];
        if (!e) {
          e = { kind: k, first: w, last: w, firstIndex: i, count: 0, warned: 0, peak: null, peakWindow: null, threshold: null, ongoing: false };
          open[k] = e;
          out.push(e);
        }
        e.last = w;
        e.count = i - e.firstIndex + 1; // with the unjudged windows between

        var x = byKind[k];
        if (x) {
          e.warned++;
          if (!e.peak || (isNum(x.value) && !(x.value <= e.peak.value))) { e.peak = x; e.peakWindow = w; }
          if (isNum(x.threshold)) e.threshold = x.threshold;
        }
      });
      Object.keys(open).forEach(function (k) {
        if (act.indexOf(k) < 0 && skip.indexOf(k) < 0) delete open[k];
      });
    });
    // An older agent's history says nothing of what is ongoing.
    if (state.episodeState) Object.keys(open).forEach(function (k) { open[k].ongoing = true; });
    return out;
  }

  function renderEpisodes() {
    var eps = state.episodes.slice().reverse(); // newest first
    var total = state.windows.filter(function (w) { return w.warnings && w.warnings.length; }).length;
    $('ep-count').textContent = total || eps.length ? eps.length + ' episode' + (eps.length === 1 ? '' : 's') + ' · ' +
      total + ' of ' + state.windows.length + ' windows warned' : '';
    if (!eps.length) {
      fill('episodes', h('div', { 'class': 'empty', text: state.windows.length ? 'No warning in the ' + state.windows.length + ' windows shown.' : 'No window yet.' }));
      return;
    }
    fill('episodes', eps.slice(0, 100).map(function (e) {
      var k = kindOf(e.kind);
      var target = e.peakWindow || e.first;
      var when = e.first === e.last ? 'window #' + e.first.seq + ' · ' + span(e.first)
        : 'windows #' + e.first.seq + '–#' + e.last.seq + ' (' + e.count + ') · ' + clock(tms(e.first.start)) + '–' + clock(tms(e.last.end));
      if (state.episodeState && e.warned !== e.count) when += ' · ' + e.warned + ' warned';
      if (e.ongoing) when += ' · ongoing';
      var value = e.peak ? (e.warned > 1 ? 'peak ' : '') + fmt(k.unit, e.peak.value) + ' > ' + fmt(k.unit, e.threshold)
        : 'raised before the windows shown';
      var b = h('button', { type: 'button', 'class': 'episode' + (e.ongoing ? ' ongoing' : ''), 'data-seq': target.seq,
        'data-kind': e.kind, 'data-first': e.first.seq, 'data-last': e.last.seq, 'data-windows': e.count,
        title: 'Inspect window #' + target.seq + (e.peak ? ', the peak' : ', the first shown') },
        h('i', { 'class': 'sw ' + k.sw }),
        h('span', { 'class': 'ek', text: k.label }),
        h('span', { 'class': 'ev', text: value }),
        h('span', { 'class': 'em', text: when }),
        e.peak && e.peak.causes && e.peak.causes.length ? h('span', { 'class': 'ec', text: String(e.peak.causes[0]) }) : null,
        e.peak && e.peak.functions && e.peak.functions.length ? h('span', { 'class': 'ec mono', text: String(e.peak.functions[0]) }) : null);
      b.addEventListener('click', function () { select(target.seq); });
      return b;
    }));
    highlightEpisodes();
  }

  // highlightEpisodes marks the episodes the selected window belongs to.
  function highlightEpisodes() {
    var sel = state.selected;
    document.querySelectorAll('#episodes .episode').forEach(function (b) {
      var a = Number(b.getAttribute('data-first')), z = Number(b.getAttribute('data-last'));
      b.classList.toggle('sel', sel !== null && sel >= a && sel <= z);
    });
  }

  // ---- doctor ----

  function renderDoctor() {
    var st = state.doctorState;
    var d = state.doctor;
    if (st === 'loading') {
      fill('doctor-summary');
      fill('doctor-meta');
      fill('doctor-body', h('div', { 'class': 'empty', text: 'Checking…' }));
      return;
    }
    if (st !== 'ok' || !d) {
      fill('doctor-summary', h('span', { 'class': 'badge unknown', text: 'not available' }));
      fill('doctor-meta');
      fill('doctor-body', h('div', { 'class': 'empty doctor-na' },
        st === 'unavailable' ? 'Doctor not available: ' : 'Doctor not available (error): ', state.doctorNote || ''));
      return;
    }
    var counts = d.counts || {};
    fill('doctor-summary', ['fail', 'warn', 'unknown', 'pass'].filter(function (k) { return counts[k] > 0; }).map(function (k) {
      return h('span', { 'class': 'badge ' + k, text: counts[k] + ' ' + k });
    }));
    var t = tms(d.time);
    fill('doctor-meta', 'Checked ' + (isFinite(t) ? day(t) + ' ' + clock(t) : '?') + ' · source ' + (d.source || '?') +
      ' · profile checks on ' + int(d.windows) + ' window' + (d.windows === 1 ? '' : 's') +
      (state.doctorNote ? ' · last refresh failed: ' + state.doctorNote : ''));
    if (!d.checks.length) {
      fill('doctor-body', h('div', { 'class': 'empty', text: 'No check.' }));
      return;
    }
    fill('doctor-body', h('table', { 'data-rows': d.checks.length },
      h('thead', null, h('tr', null, h('th', { text: 'Status' }), h('th', { text: 'Check' }), h('th', { text: 'Evidence' }))),
      h('tbody', null, d.checks.map(function (c) {
        var status = ['pass', 'warn', 'fail', 'unknown'].indexOf(c.status) >= 0 ? c.status : 'unknown';
        return h('tr', { 'class': status, 'data-check': String(c.id || '') },
          h('td', null, h('span', { 'class': 'badge ' + status, text: String(c.status || 'unknown') })),
          h('td', null, h('div', { text: String(c.title || c.id || '?') }), c.advice ? h('div', { 'class': 'advice muted', text: String(c.advice) }) : null),
          h('td', null, Array.isArray(c.evidence) && c.evidence.length ? h('ul', null, c.evidence.map(function (e) { return h('li', { text: String(e) }); })) : null));
      }))));
  }

  // ---- start ----

  function start() {
    try {
      state.cfg = readConfig();
    } catch (e) {
      var b = $('banner');
      b.hidden = false;
      b.textContent = 'This page has no valid data: ' + describe(e);
      document.documentElement.setAttribute('data-state', 'error');
      return;
    }
    state.live = state.cfg.mode === 'live';
    $('btn-prev').addEventListener('click', function () { step(-1); });
    $('btn-next').addEventListener('click', function () { step(1); });
    $('btn-latest').addEventListener('click', function () { var l = latestWindow(); if (l) select(l.seq); });
    document.addEventListener('keydown', function (ev) {
      if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
      var t = ev.target && ev.target.tagName;
      if (t === 'INPUT' || t === 'TEXTAREA' || t === 'SELECT') return;
      if (ev.key === 'ArrowLeft') { step(-1); ev.preventDefault(); }
      if (ev.key === 'ArrowRight') { step(1); ev.preventDefault(); }
    });
    var resizeFrame = 0;
    window.addEventListener('resize', function () {
      cancelAnimationFrame(resizeFrame);
      resizeFrame = requestAnimationFrame(function () { hideTooltip(); renderCharts(); });
    });
    if (state.live) {
      document.addEventListener('visibilitychange', function () {
        if (!document.hidden && !polling) { clearTimeout(pollTimer); poll(); } else { renderStatus(); }
      });
      render();
      poll();
    } else {
      var hist = state.cfg.history || {};
      setWindows(hist.windows);
      if (state.cfg.doctor && Array.isArray(state.cfg.doctor.checks)) {
        state.doctor = state.cfg.doctor;
        state.doctorState = 'ok';
      } else {
        state.doctorState = 'unavailable';
        state.doctorNote = state.cfg.doctor_note || 'the snapshot holds no doctor report.';
      }
      render();
    }
  }

  start();
})();
