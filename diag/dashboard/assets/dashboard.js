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
    dataKey: '',
    // The Compare panel: the ranges as typed, the side a drag sets next,
    // and what runCompare made of them.
    cmp: { before: '', after: '', next: 'before', doc: null, error: '', spans: {}, command: '' }
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
    if (changed) runCompare();
    renderSelection();
    if (changed) renderCompare();
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
    var t = dom ? function (px) { return dom[0] + (Math.max(MARGIN.left, Math.min(W - MARGIN.right, px)) - MARGIN.left) / iw * (dom[1] - dom[0]); } : null;
    return { W: W, H: H, dom: dom, x: x, t: t };
  }

  function latestThreshold(kind) {
    for (var i = state.windows.length - 1; i >= 0; i--) {
      var ws = state.windows[i].warnings || [];
      for (var j = 0; j < ws.length; j++) if (ws[j].kind === kind && isNum(ws[j].threshold)) return ws[j].threshold;
    }
    return null;
  }

  function renderCharts() {
    if (dragging) { chartsStale = true; return; } // redrawn when the drag ends
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
    cmpBands(svg, f, top, bottom, spec.id === 'chart-shares');
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

  // interact adds the hover line, the tooltip, click-to-select, and
  // drag-to-compare: a drag across the chart sets the next side's range.
  function interact(svg, f, top, bottom, rows) {
    var hover = s('line', { 'class': 'hover-line', x1: 0, x2: 0, y1: top, y2: bottom });
    hover.style.visibility = 'hidden';
    var overlay = s('rect', { 'class': 'overlay', x: MARGIN.left, y: 0, width: f.W - MARGIN.left - MARGIN.right, height: bottom });
    svg.appendChild(hover);
    svg.appendChild(overlay);
    var px = function (ev) {
      var box = svg.getBoundingClientRect();
      return (ev.clientX - box.left) * (f.W / box.width);
    };
    var nearest = function (ev) {
      var x = px(ev);
      var best = null, bd = Infinity;
      state.windows.forEach(function (w) { var d = Math.abs(f.x(mid(w)) - x); if (d < bd) { bd = d; best = w; } });
      return best;
    };
    var drag = null, preview = null;
    overlay.addEventListener('mousemove', function (ev) {
      if (drag && drag.moved) return;
      var w = nearest(ev);
      if (!w) return;
      var x = f.x(mid(w));
      hover.setAttribute('x1', x);
      hover.setAttribute('x2', x);
      hover.style.visibility = 'visible';
      showTooltip(ev, w, rows(w));
    });
    overlay.addEventListener('mouseleave', function () { hover.style.visibility = 'hidden'; hideTooltip(); });
    overlay.addEventListener('click', function (ev) {
      if (dragged) { dragged = false; return; }
      var w = nearest(ev);
      if (w) select(w.seq);
    });
    overlay.addEventListener('pointerdown', function (ev) {
      dragged = false;
      if (ev.button !== 0 || !f.dom) return;
      drag = { x0: px(ev), moved: false };
      dragging = true;
      overlay.setPointerCapture(ev.pointerId);
    });
    overlay.addEventListener('pointermove', function (ev) {
      if (!drag) return;
      var x = px(ev);
      if (!drag.moved && Math.abs(x - drag.x0) < 5) return;
      drag.moved = true;
      hover.style.visibility = 'hidden';
      hideTooltip();
      var a = Math.max(MARGIN.left, Math.min(x, drag.x0)), b = Math.min(f.W - MARGIN.right, Math.max(x, drag.x0));
      if (!preview) {
        preview = s('rect', { 'class': 'cmp-drag ' + state.cmp.next, y: top, height: bottom - top });
        svg.insertBefore(preview, overlay);
      }
      setProps(preview, { x: a, width: Math.max(1, b - a) });
    });
    var end = function (ev, cancel) {
      if (!drag) return;
      var d = drag;
      drag = null;
      dragging = false;
      if (preview) { preview.remove(); preview = null; }
      if (chartsStale) { chartsStale = false; setTimeout(renderCharts, 0); }
      if (!d.moved || cancel) return;
      dragged = true; // the click this pointerup makes is not a selection
      var x = px(ev), t0 = f.t(Math.min(x, d.x0)), t1 = f.t(Math.max(x, d.x0));
      setTimeout(function () { dragged = false; dragRange(t0, t1); }, 0);
    };
    overlay.addEventListener('pointerup', function (ev) { end(ev, false); });
    overlay.addEventListener('pointercancel', function (ev) { end(ev, true); });
    overlay.addEventListener('lostpointercapture', function (ev) { end(ev, true); });
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
    cmpBands(svg, f, 0, f.H, false);
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

  // ---- compare: internal/compare, ported ----

  // The Compare panel shows the comparison diagctl compare makes of two
  // ranges of an agent's history, computed here since a snapshot makes no
  // request. Each function below follows its namesake in internal/compare
  // (figures.go, replicate.go, compare.go, stats.go, ranges.go) and the
  // gonum routines it calls, operation by operation: cmd/diagctl's
  // TestDashboardCompareInChromium checks the two agree.

  // FIGURES is compare.Figures, in its order. A share figure sums buckets of
  // the window's profile, with their sample counts; the others read its
  // context.
  var FIGURES = [
    { name: 'async_preempt', label: 'async preemption', unit: 'share', worse: true, buckets: ['async_preempt'] },
    { name: 'preempt_sched', label: 'scheduling after preemption', unit: 'share', worse: true, buckets: ['preempt_sched'] },
    { name: 'cgo_c', label: 'cgo C time', unit: 'share', worse: false, buckets: ['cgo_c'] },
    { name: 'cgo_crossing', label: 'cgo crossing', unit: 'share', worse: true, buckets: ['cgo_crossing'] },
    { name: 'external', label: 'non-Go threads', unit: 'share', worse: false, buckets: ['external_thread', 'external_no_stack', 'external_lost'] },
    { name: 'sched_latency_p50', label: 'sched latency p50', unit: 'seconds', worse: true, get: function (c) { return schedQ(c, 'p50'); } },
    { name: 'sched_latency_p99', label: 'sched latency p99', unit: 'seconds', worse: true, get: function (c) { return schedQ(c, 'p99'); } },
    { name: 'cgo_calls_per_second', label: 'cgo calls/s', unit: 'per_second', worse: true, get: function (c) { return c.cgo_calls_per_second; } },
    { name: 'cgroup_throttled_share', label: 'throttled periods', unit: 'share', worse: true, get: function (c) { return c.cgroup_throttled_share; } },
    { name: 'run_queue_wait_ratio', label: 'run-queue wait/CPU-s', unit: 'ratio', worse: true, get: function (c) { return c.run_queue_wait_ratio; } }
  ];
  function schedQ(c, q) { var l = c.sched_latency; return l && l.count > 0 ? l[q] : null; }

  // compare.Methods, for the tests a comparison used.
  var METHODS = {
    paired_t: 'paired t-test on the differences of windows paired in time (the sides sampled over the same span): ' +
      'a change of load that hits both sides cancels, and one they share unequally widens the interval; ' +
      'assumes the pairs are independent (a drift across the pairs breaks it)',
    welch_t: 'Welch\'s t-test on per-window values: each window is one observation; ' +
      'assumes the windows are independent and their mean roughly normal (a drift within a side breaks it)',
    newcombe_score: 'Newcombe\'s hybrid score interval on sample counts, pooled z-test p-value: ' +
      'treats samples as independent, which samples of one profile are not, so the interval is approximate and too narrow, and gives no verdict',
    holm: 'a verdict needs the p-value, adjusted by Holm\'s method over every figure and function tested, below 0.05'
  };

  // Go evaluates 1 − (1 − confidence)/2 and 1 − confidence as exact
  // constants: their float64 values are these, not what the same arithmetic
  // gives at run time.
  var CONFIDENCE = 0.95, UPPER = 0.975, ALPHA = 0.05;
  var MACHEP = Math.pow(2, -53), MAXLOG = 1024 * Math.LN2, MINLOG = -745.1332191019412, MAXGAM = 171.624376956302725;
  var BIG = 4.503599627370496e15, BIGINV = 2.22044604925031308085e-16;

  // -- distributions (gonum's mathext, from Cephes and AS 241) --

  function horner(c, z) { var v = c[0]; for (var i = 1; i < c.length; i++) v = v * z + c[i]; return v; }

  // NQ: AS 241's coefficients (mathext.NormalQuantile).
  var NQ = [
    [2509.0809287301226727, 33430.575583588128105, 67265.770927008700853, 45921.953931549871457, 13731.693765509461125, 1971.5909503065514427, 133.14166789178437745, 3.387132872796366608],
    [5226.495278852854561, 28729.085735721942674, 39307.89580009271061, 21213.794301586595867, 5394.1960214247511077, 687.1870074920579083, 42.313330701600911252, 1.0],
    [7.7454501427834140764e-4, 0.0227238449892691845833, 0.24178072517745061177, 1.27045825245236838258, 3.64784832476320460504, 5.7694972214606914055, 4.6303378461565452959, 1.42343711074968357734],
    [1.05075007164441684324e-9, 5.475938084995344946e-4, 0.0151986665636164571966, 0.14810397642748007459, 0.68976733498510000455, 1.6763848301838038494, 2.05319162663775882187, 1.0],
    [2.01033439929228813265e-7, 2.71155556874348757815e-5, 0.0012426609473880784386, 0.026532189526576123093, 0.29656057182850489123, 1.7848265399172913358, 5.4637849111641143699, 6.6579046435011037772],
    [2.04426310338993978564e-15, 1.4215117583164458887e-7, 1.8463183175100546818e-5, 7.868691311456132591e-4, 0.0148753612908506148525, 0.13692988092273580531, 0.59983220655588793769, 1.0]
  ];

  // normalQuantile is mathext.NormalQuantile (0 < p < 1).
  function normalQuantile(p) {
    var dp = p - 0.5, z, r;
    if (Math.abs(dp) <= 0.425) { z = 0.180625 - dp * dp; return dp * horner(NQ[0], z) / horner(NQ[1], z); }
    r = Math.sqrt(-Math.log(p < 0.5 ? p : 1 - p));
    var k = r <= 5 ? 2 : 4;
    z = r <= 5 ? r - 1.6 : r - 5;
    var q = horner(NQ[k], z) / horner(NQ[k + 1], z);
    return p < 0.5 ? -q : q;
  }

  // normalSurvival is distuv.UnitNormal.Survival: 0.5·(1 − erf(x/√2)),
  // with erf rounded as math.Erf rounds it (for x ≥ 0). erf comes from a
  // series of positive terms below 2 and from erfc's continued fraction
  // above.
  function normalSurvival(x) {
    x /= Math.SQRT2;
    var e;
    if (x < 2) {
      var x2 = x * x, term = x, sum = x;
      for (var n = 1; n < 200 && term > sum * 1e-17; n++) { term *= 2 * x2 / (2 * n + 1); sum += term; }
      e = 2 / Math.sqrt(Math.PI) * Math.exp(-x2) * sum;
    } else {
      // Lentz: erfc(x) = exp(−x²)/√π / (x + (1/2)/(x + 1/(x + (3/2)/(x + …)))).
      var f = x, c = x, d = 0;
      for (var k = 1; k < 500; k++) {
        d = 1 / (x + k / 2 * d);
        c = x + k / 2 / c;
        f *= c * d;
        if (Math.abs(c * d - 1) < 1e-16) break;
      }
      e = 1 - Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
    }
    return 0.5 * (1 - Math.min(1, e));
  }

  var LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  var LGAMW = [4.18938533204672725052e-01, 8.33333333333329678849e-02, -2.77777777728775536470e-03, 7.93650558643019558500e-04,
    -5.95187557450339963135e-04, 8.36339918996282139126e-04, -1.63092934096575273989e-03];

  // lgamma is log Γ(x) for x ≥ 1/2: math.Lgamma's formula from 8 on, a
  // Lanczos approximation (g = 7) below, within about 1e-15 of it.
  function lgamma(x) {
    if (x >= 8) {
      var t = Math.log(x), z = 1 / x, y = z * z, W = LGAMW;
      return (x - 0.5) * (t - 1) + (W[0] + z * (W[1] + y * (W[2] + y * (W[3] + y * (W[4] + y * (W[5] + y * W[6]))))));
    }
    x -= 1;
    var a = LANCZOS[0], u = x + 7.5;
    for (var i = 1; i < 9; i++) a += LANCZOS[i] / (x + i);
    return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(u) - u + Math.log(a);
  }
  function lbeta(a, b) { return lgamma(a) + lgamma(b) - lgamma(a + b); }

  // incbet is the regularized incomplete beta function I_x(a, b)
  // (cephes.Incbet).
  function incbet(aa, bb, xx) {
    if (xx <= 0) return 0;
    if (xx >= 1) return 1;
    if (bb * xx <= 1 && xx <= 0.95) return pseries(aa, bb, xx);
    var w = 1 - xx, a = aa, b = bb, xc = w, x = xx, flag = xx > aa / (aa + bb);
    if (flag) { a = bb; b = aa; xc = xx; x = w; }
    var done = function (t) { return !flag ? t : t <= MACHEP ? 1 - MACHEP : 1 - t; };
    if (flag && b * x <= 1 && x <= 0.95) return done(pseries(a, b, x));
    var y = x * (a + b - 2) - (a - 1);
    w = y < 0 ? incbcf(a, b, x) : incbd(a, b, x) / xc;
    y = a * Math.log(x);
    var t = b * Math.log(xc);
    if (a + b < MAXGAM && Math.abs(y) < MAXLOG && Math.abs(t) < MAXLOG) {
      t = Math.pow(xc, b);
      t *= Math.pow(x, a);
      t /= a;
      t *= w;
      t *= 1 / Math.exp(lbeta(a, b));
      return done(t);
    }
    y += t - lbeta(a, b);
    y += Math.log(w / a);
    return done(y < MINLOG ? 0 : Math.exp(y));
  }

  // incbcf and incbd are Cephes's two continued fractions, one loop with
  // the coefficients each steps (incbd works on z = x/(1 − x)).
  function incbcf(a, b, x) { return betacf(x, [a, a + b, a, a + 1, 1, b - 1, a + 1, a + 2], [1, 1, 2, 2, 1, -1, 2, 2]); }
  function incbd(a, b, x) { return betacf(x / (1 - x), [a, b - 1, a, a + 1, 1, a + b, a + 1, a + 2], [1, -1, 2, 2, 1, 1, 2, 2]); }
  function betacf(z, k, dk) {
    var pkm2 = 0, qkm2 = 1, pkm1 = 1, qkm1 = 1, ans = 1, r = 1, t, xk, pk, qk;
    for (var n = 0; n <= 300; n++) {
      xk = -(z * k[0] * k[1]) / (k[2] * k[3]);
      pk = pkm1 + pkm2 * xk; qk = qkm1 + qkm2 * xk;
      pkm2 = pkm1; pkm1 = pk; qkm2 = qkm1; qkm1 = qk;
      xk = (z * k[4] * k[5]) / (k[6] * k[7]);
      pk = pkm1 + pkm2 * xk; qk = qkm1 + qkm2 * xk;
      pkm2 = pkm1; pkm1 = pk; qkm2 = qkm1; qkm1 = qk;
      if (qk !== 0) r = pk / qk;
      if (r !== 0) { t = Math.abs((ans - r) / r); ans = r; } else t = 1;
      if (t < 3 * MACHEP) return ans;
      for (var i = 0; i < 8; i++) k[i] += dk[i];
      if (Math.abs(qk) + Math.abs(pk) > BIG) { pkm2 *= BIGINV; pkm1 *= BIGINV; qkm2 *= BIGINV; qkm1 *= BIGINV; }
      if (Math.abs(qk) < BIGINV || Math.abs(pk) < BIGINV) { pkm2 *= BIG; pkm1 *= BIG; qkm2 *= BIG; qkm1 *= BIG; }
    }
    return ans;
  }

  function pseries(a, b, x) {
    var ai = 1 / a, u = (1 - b) * x, v = u / (a + 1), t1 = v, t = u, n = 2, s = 0, z = MACHEP * ai;
    while (Math.abs(v) > z) {
      u = (n - b) * x / n;
      t *= u;
      v = t / (a + n);
      s += v;
      n += 1;
    }
    s += t1;
    s += ai;
    u = a * Math.log(x);
    if (a + b < MAXGAM && Math.abs(u) < MAXLOG) return s * (1 / Math.exp(lbeta(a, b))) * Math.pow(x, a);
    t = -lbeta(a, b) + u + Math.log(s);
    return t < MINLOG ? 0 : Math.exp(t);
  }

  // incbi inverts incbet in x (cephes.Incbi) for b ≤ 1, the t
  // distribution's case (b = 1/2): interval halving, then Newton's method.
  // (Cephes's first guess for a, b > 1 is left out.)
  function incbi(aa, bb, yy0) {
    if (yy0 <= 0) return 0;
    if (yy0 >= 1) return 1;
    var x0 = 0, yl = 0, x1 = 1, yh = 1, nflg = 0, rflg = 0, dithresh = 1e-6, a = aa, b = bb, y0 = yy0;
    var x = a / (a + b), y = incbet(a, b, x), stage = 'ihalve', i, d, di, dir, xt, lgm;
    for (;;) {
      if (stage === 'ihalve') {
        stage = 'newt';
        dir = 0; di = 0.5;
        for (i = 0; i < 100; i++) {
          if (i !== 0) {
            x = x0 + di * (x1 - x0);
            if (x === 1) x = 1 - MACHEP;
            if (x === 0) {
              di = 0.5;
              x = x0 + di * (x1 - x0);
              if (x === 0) { stage = 'done'; break; }
            }
            y = incbet(a, b, x);
            if (Math.abs((x1 - x0) / (x1 + x0)) < dithresh || Math.abs((y - y0) / y0) < dithresh) break;
          }
          if (y < y0) {
            x0 = x; yl = y;
            if (dir < 0) { dir = 0; di = 0.5; } else if (dir > 3) di = 1 - (1 - di) * (1 - di); else if (dir > 1) di = 0.5 * di + 0.5; else di = (y0 - y) / (yh - yl);
            dir++;
            if (x0 > 0.75) {
              if (rflg === 1) { rflg = 0; a = aa; b = bb; y0 = yy0; } else { rflg = 1; a = bb; b = aa; y0 = 1 - yy0; }
              x = 1 - x; y = incbet(a, b, x);
              x0 = 0; yl = 0; x1 = 1; yh = 1;
              stage = 'ihalve';
              break;
            }
          } else {
            x1 = x;
            if (rflg === 1 && x1 < MACHEP) { x = 0; stage = 'done'; break; }
            yh = y;
            if (dir > 0) { dir = 0; di = 0.5; } else if (dir < -3) di = di * di; else if (dir < -1) di = 0.5 * di; else di = (y - y0) / (yh - yl);
            dir--;
          }
        }
        if (i === 100) {
          if (x0 >= 1) { x = 1 - MACHEP; stage = 'done'; } else if (x <= 0) { x = 0; stage = 'done'; }
        }
      } else if (stage === 'newt') {
        if (nflg) { stage = 'done'; continue; }
        nflg = 1;
        lgm = lgamma(a + b) - lgamma(a) - lgamma(b);
        stage = 'ihalve'; // unless it converges
        for (i = 0; i < 8; i++) {
          if (i !== 0) y = incbet(a, b, x);
          if (y < yl) { x = x0; y = yl; } else if (y > yh) { x = x1; y = yh; } else if (y < y0) { x0 = x; yl = y; } else { x1 = x; yh = y; }
          if (x === 1 || x === 0) break;
          d = (a - 1) * Math.log(x) + (b - 1) * Math.log(1 - x) + lgm;
          if (d < MINLOG) { stage = 'done'; break; }
          if (d > MAXLOG) break;
          d = (y - y0) / Math.exp(d);
          xt = x - d;
          if (xt <= x0) {
            y = (x - x0) / (x1 - x0);
            xt = x0 + 0.5 * y * (x - x0);
            if (xt <= 0) break;
          }
          if (xt >= x1) {
            y = (x1 - x) / (x1 - x0);
            xt = x1 - 0.5 * y * (x1 - x);
            if (xt >= 1) break;
          }
          x = xt;
          if (Math.abs(d / x) < 128 * MACHEP) { stage = 'done'; break; }
        }
        if (stage === 'ihalve') dithresh = 256 * MACHEP;
      } else {
        if (rflg) x = x <= MACHEP ? 1 - MACHEP : 1 - x;
        return x;
      }
    }
  }

  // tSurvival and tQuantile are distuv.StudentsT{Nu: nu}'s Survival and
  // Quantile (for p > 1/2).
  function tSurvival(y, nu) {
    if (y === 0) return 0.5;
    var t = nu / (y * y + nu);
    return y > 0 ? 0.5 * incbet(nu / 2, 0.5, t) : 1 - 0.5 * incbet(nu / 2, 0.5, t);
  }
  function tQuantile(p, nu) {
    var t = incbi(nu / 2, 0.5, 2 * (1 - p));
    return Math.sqrt(nu * (1 - t) / t);
  }

  // -- tests (stats.go) --

  function allEqual(xs) { return xs.every(function (x) { return x === xs[0]; }); }
  // average is a running mean (compare.average).
  function average(xs) {
    if (allEqual(xs)) return xs[0];
    var m = 0;
    xs.forEach(function (x, i) { m += (x - m) / (i + 1); });
    return m;
  }
  function meanVar(xs) {
    if (allEqual(xs)) return [xs[0], 0];
    var m = average(xs), v = 0;
    xs.forEach(function (x) { var d = x - m; v += d * d; });
    return [m, v / (xs.length - 1)];
  }
  function clampP(p) { return isNaN(p) ? 1 : Math.min(1, Math.max(0, p)); }

  function welch(before, after) {
    var b = meanVar(before), a = meanVar(after), nb = before.length, na = after.length;
    var d = a[0] - b[0], sb = b[1] / nb, sa = a[1] / na, se2 = sb + sa;
    if (se2 <= 0 || isNaN(se2)) return { diff: d, low: d, high: d, p: d !== 0 ? 0 : 1, df: 0 };
    var se = Math.sqrt(se2);
    var df = se2 * se2 / (sb * sb / (nb - 1) + sa * sa / (na - 1));
    var q = tQuantile(UPPER, df);
    var p = 2 * tSurvival(Math.abs(d) / se, df);
    return { diff: d, low: d - q * se, high: d + q * se, p: clampP(p), df: df };
  }

  // pairedT tests the mean of the differences d (2 or more) of paired
  // windows: a one-sample t-test with n − 1 degrees of freedom.
  function pairedT(d) {
    var mv = meanVar(d), m = mv[0], v = mv[1], n = d.length;
    if (v <= 0) return { diff: m, low: m, high: m, p: m !== 0 ? 0 : 1, df: 0 };
    var se = Math.sqrt(v / n);
    var q = tQuantile(UPPER, n - 1);
    return { diff: m, low: m - q * se, high: m + q * se, p: clampP(2 * tSurvival(Math.abs(m) / se, n - 1)), df: n - 1 };
  }

  function wilson(x, n) {
    var z = normalQuantile(UPPER), p = x / n, z2 = z * z;
    var centre = p + z2 / (2 * n);
    var spread = z * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n));
    var den = 1 + z2 / n;
    return [Math.max(0, (centre - spread) / den), Math.min(1, (centre + spread) / den)];
  }

  function newcombe(xb, nb, xa, na) {
    var pb = xb / nb, pa = xa / na, wb = wilson(xb, nb), wa = wilson(xa, na), d = pa - pb;
    var e = {
      diff: d, p: 0, df: 0,
      low: d - Math.sqrt((pa - wa[0]) * (pa - wa[0]) + (wb[1] - pb) * (wb[1] - pb)),
      high: d + Math.sqrt((wa[1] - pa) * (wa[1] - pa) + (pb - wb[0]) * (pb - wb[0]))
    };
    var pool = (xb + xa) / (nb + na);
    var se = Math.sqrt(pool * (1 - pool) * (1 / nb + 1 / na));
    if (se > 0) e.p = clampP(2 * normalSurvival(Math.abs(d) / se));
    else if (d === 0) e.p = 1;
    return e;
  }

  function holm(ps) {
    var m = ps.length, running = 0, adj = [];
    ps.map(function (_, i) { return i; }).sort(function (i, j) { return ps[i] < ps[j] ? -1 : ps[i] > ps[j] ? 1 : 0; })
      .forEach(function (i, rank) { running = Math.max(running, Math.min(1, (m - rank) * ps[i])); adj[i] = running; });
    return adj;
  }

  // -- replicates (replicate.go) --

  function fnum(v) { return isNum(v) ? v : 0; }
  function fstr(v) { return typeof v === 'string' ? v : ''; }
  function funcsOf(list) {
    return (Array.isArray(list) ? list : []).map(function (f) {
      f = f || {};
      return { fn: fstr(f.function), cfn: fstr(f.c_function), file: fstr(f.file), line: fnum(f.line), samples: fnum(f.samples), share: fnum(f.share) };
    });
  }
  function funcKey(f) { return f.cfn === '' ? f.fn : f.fn + ' → ' + f.cfn; }

  // replicate is compare.FromWindow: the figures of one window.
  function replicate(w) {
    var c = ctx(w), bk = (w.buckets && typeof w.buckets === 'object') ? w.buckets : {};
    var rep = { start: String(w.start), end: String(w.end), s: tns(w.start), e: tns(w.end), samples: fnum(w.samples), cpu: fnum(w.cpu_seconds),
      values: new Map(), counts: new Map(), interrupted: funcsOf(w.top_preempted), cgo: funcsOf(w.top_cgo_calls),
      goVersion: fstr(c.go_version), gomaxprocs: fnum(c.gomaxprocs), limit: isNum(c.cgroup_cpu_limit) ? c.cgroup_cpu_limit : null };
    FIGURES.forEach(function (f) {
      if (f.buckets) {
        if (!hasShares(rep)) return;
        var v = 0, n = 0;
        f.buckets.forEach(function (k) {
          var st = Object.prototype.hasOwnProperty.call(bk, k) && bk[k] ? bk[k] : {};
          v += fnum(st.share);
          n += fnum(st.samples);
        });
        rep.values.set(f.name, v);
        rep.counts.set(f.name, n);
        return;
      }
      var x = f.get(c);
      if (isNum(x) && x >= 0) rep.values.set(f.name, x);
    });
    return rep;
  }

  // -- the comparison (compare.go) --

  // series is one figure's values over the windows that have it, their
  // sample counts when it is a share, and the replicate each value comes
  // from (at).
  function series() { return { values: [], counts: [], totals: [], at: [] }; }
  function pooled(s) {
    if (!s.counts.length || s.counts.length !== s.values.length) return null;
    var x = 0, n = 0;
    for (var i = 0; i < s.counts.length; i++) { x += s.counts[i]; n += s.totals[i]; }
    return n > 0 ? [x, n] : null;
  }
  function seriesOf(reps, name) {
    var s = series();
    reps.forEach(function (r, i) {
      if (!r.values.has(name)) return;
      s.values.push(r.values.get(name));
      s.at.push(i);
      if (r.counts.has(name)) { s.counts.push(r.counts.get(name)); s.totals.push(r.samples); }
    });
    return s;
  }

  // result is a compare.Result; worse and same, which its JSON lacks, are
  // not enumerable.
  function result(name, label, unit, worse) {
    var r = { figure: name, label: label, unit: unit, before: null, after: null, n_before: 0, n_after: 0,
      difference: null, ci_low: null, ci_high: null, relative: null, p: null, p_adjusted: null,
      test: '', df: 0, pairs: 0, approximate: false, verdict: '', note: '' };
    Object.defineProperty(r, 'worse', { value: worse });
    return r;
  }

  // pairInTime pairs the windows of two sides sampled over the same span
  // (compare.pairInTime): each before window with the after window that
  // overlaps it most, by at least half the shorter one, one to one; null
  // unless there are two pairs or more and they hold at least 80 % of each
  // side's windows that overlap the other side's so (a gap in one side
  // leaves the other's windows in it out). When the after windows follow
  // each other (starts and ends never decrease), those a before window can
  // overlap are a run found by binary search.
  function pairInTime(before, after) {
    var pairs = [], used = after.map(function () { return false; });
    var pairableAfter = after.map(function () { return false; }), pairableBefore = 0;
    var sequential = after.every(function (a, j) { return j === 0 || (a.s >= after[j - 1].s && a.e >= after[j - 1].e); });
    var search = function (pred) { // the first j for which pred holds, pred monotonic
      var lo = 0, hi = after.length;
      while (lo < hi) { var mid = (lo + hi) >> 1; if (pred(after[mid])) hi = mid; else lo = mid + 1; }
      return lo;
    };
    before.forEach(function (b, i) {
      var best = -1, bestOverlap = 0n, pairable = false;
      var lo = 0, hi = after.length;
      if (sequential) {
        lo = search(function (a) { return a.e > b.s; });
        hi = search(function (a) { return a.s >= b.e; });
      }
      for (var j = lo; j < hi; j++) {
        var a = after[j];
        var overlap = (b.e < a.e ? b.e : a.e) - (b.s > a.s ? b.s : a.s);
        var shorter = b.e - b.s < a.e - a.s ? b.e - b.s : a.e - a.s;
        if (!(overlap > 0n && overlap * 2n >= shorter)) continue;
        pairable = true; pairableAfter[j] = true;
        if (!used[j] && overlap > bestOverlap) { best = j; bestOverlap = overlap; }
      }
      if (pairable) pairableBefore++;
      if (best >= 0) { used[best] = true; pairs.push([i, best]); }
    });
    var nAfter = pairableAfter.filter(function (x) { return x; }).length;
    if (pairs.length < 2 || pairs.length * 5 < pairableBefore * 4 || pairs.length * 5 < nAfter * 4) return null;
    return pairs;
  }

  // paired returns the differences after − before of the pairs where both
  // windows have a value (compare.paired).
  function paired(b, a, pairs) {
    var bv = new Map(), av = new Map(), d = [];
    b.at.forEach(function (at, i) { bv.set(at, b.values[i]); });
    a.at.forEach(function (at, i) { av.set(at, a.values[i]); });
    pairs.forEach(function (p) { if (bv.has(p[0]) && av.has(p[1])) d.push(av.get(p[1]) - bv.get(p[0])); });
    return d;
  }

  // test fills r from the two series (compare.test); pairs, when not null,
  // pair their windows in time.
  function test(r, b, a, pairs) {
    r.n_before = b.values.length;
    r.n_after = a.values.length;
    if (r.n_before > 0) r.before = average(b.values);
    if (r.n_after > 0) r.after = average(a.values);
    if (!r.n_before || !r.n_after) {
      r.note = !r.n_before && !r.n_after ? 'unavailable on both sides' : !r.n_before ? 'unavailable before' : 'unavailable after';
      return;
    }
    if (r.n_before >= 2 && r.n_after >= 2 && allEqual(b.values) && allEqual(a.values) && b.values[0] === a.values[0]) {
      // Nothing to test, and no test to count in Holm's adjustment.
      r.difference = 0;
      Object.defineProperty(r, 'same', { value: true });
      r.note = 'the same in every window on both sides';
      return;
    }
    var e, d, pb = pooled(b), pa = pooled(a);
    if (r.n_before >= 2 && r.n_after >= 2 && allEqual(b.values) && allEqual(a.values) && pb && pa) {
      // Each side constant, but not alike: Welch would call that certain
      // (no spread, p 0), though a share quantized by few samples a window
      // can be constant by chance. The sample counts say how sure to be.
      e = newcombe(pb[0], pb[1], pa[0], pa[1]);
      r.test = 'newcombe_score';
      r.approximate = true;
      r.before = pb[0] / pb[1];
      r.after = pa[0] / pa[1];
      r.note = 'no spread within either side: an approximate interval on sample counts, no verdict';
    } else if (r.n_before >= 2 && r.n_after >= 2 && pairs && (d = paired(b, a, pairs)).length * 5 >= Math.min(r.n_before, r.n_after) * 4 &&
        d.length >= 2) {
      e = pairedT(d);
      r.test = 'paired_t';
      r.df = e.df;
      r.pairs = d.length;
    } else if (r.n_before >= 2 && r.n_after >= 2) {
      e = welch(b.values, a.values);
      r.test = 'welch_t';
      r.df = e.df;
    } else if (pb && pa) {
      e = newcombe(pb[0], pb[1], pa[0], pa[1]);
      r.test = 'newcombe_score';
      r.approximate = true;
      r.before = pb[0] / pb[1];
      r.after = pa[0] / pa[1];
      r.note = 'one window on a side: an approximate interval on sample counts, no verdict';
    } else {
      r.note = pb ? 'one window a side and no sample counts: not tested' : 'one window on a side: no test for a figure without sample counts';
      r.difference = r.after - r.before;
      return;
    }
    if (!isFinite(e.diff) || !isFinite(e.low) || !isFinite(e.high) || !isFinite(r.before) || !isFinite(r.after)) {
      r.test = '';
      r.df = 0;
      r.approximate = false;
      r.note = 'values too large to test';
      return;
    }
    r.difference = e.diff;
    r.ci_low = e.low;
    r.ci_high = e.high;
    r.p = e.p;
    if (r.before !== 0) r.relative = e.diff / r.before;
  }

  // goLess orders strings as Go does, by their UTF-8 bytes: by code point.
  function goLess(a, b) {
    var i = 0;
    while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
    if (i === a.length || i === b.length) return a.length < b.length;
    return a.codePointAt(i) < b.codePointAt(i);
  }

  function withSamples(reps) { return reps.filter(function (r) { return r.samples > 0; }).length; }
  // hasShares: the window's profile has CPU time, so that its shares mean
  // something (Replicate.hasShares).
  function hasShares(r) { return r.samples > 0 && r.cpu > 0; }

  // compareFuncs compares the functions of the sides' top lists
  // (compare.compareFuncs).
  function compareFuncs(before, after, pairs, top, list) {
    var byKey = new Map(), order = [];
    var visit = function (reps, isBefore) {
      reps.forEach(function (r) {
        if (!hasShares(r)) return;
        r[list].forEach(function (f) {
          var k = funcKey(f), e = byKey.get(k);
          if (!e) { e = { fn: Object.assign({}, f), sumB: 0, sumA: 0, inB: false, inA: false }; byKey.set(k, e); order.push(k); }
          if (isBefore) { e.sumB += f.share; e.inB = true; } else { e.sumA += f.share; e.inA = true; e.fn.file = f.file; e.fn.line = f.line; }
        });
      });
    };
    visit(before, true);
    visit(after, false);
    var nb = withSamples(before), na = withSamples(after);
    var weight = function (k) { var e = byKey.get(k); return Math.max(e.sumB / Math.max(nb, 1), e.sumA / Math.max(na, 1)); };
    order.sort(function (p, q) {
      var wp = weight(p), wq = weight(q);
      if (wp !== wq) return wp > wq ? -1 : 1;
      return goLess(p, q) ? -1 : goLess(q, p) ? 1 : 0;
    });
    var fseries = function (reps, k) {
      var s = series();
      reps.forEach(function (r, i) {
        if (!hasShares(r)) return;
        var share = 0, n = 0;
        r[list].forEach(function (f) { if (funcKey(f) === k) { share += f.share; n += f.samples; } });
        s.values.push(share); s.counts.push(n); s.totals.push(r.samples); s.at.push(i);
      });
      return s;
    };
    return order.slice(0, top).map(function (k) {
      var e = byKey.get(k), fr = result(k, k, 'share', list === 'interrupted');
      test(fr, fseries(before, k), fseries(after, k), pairs);
      fr.status = !e.inB ? 'appeared' : !e.inA ? 'vanished' : fr.difference !== null && fr.difference > 0 ? 'grew' :
        fr.difference !== null && fr.difference < 0 ? 'shrank' : 'same';
      fr.function = e.fn.fn; fr.c_function = e.fn.cfn; fr.file = e.fn.file; fr.line = e.fn.line;
      return fr;
    });
  }

  function summarize(reps) {
    var s = { windows: reps.length, start: null, end: null, samples: 0, cpu_seconds: 0, gomaxprocs: [], go_versions: [], cgroup_cpu_limits: [] };
    var s0 = null, e0 = null;
    reps.forEach(function (r) {
      s.samples += r.samples;
      s.cpu_seconds += r.cpu;
      if (s0 === null || r.s < s0) { s0 = r.s; s.start = r.start; }
      if (e0 === null || r.e > e0) { e0 = r.e; s.end = r.end; }
      if (r.gomaxprocs > 0 && s.gomaxprocs.indexOf(r.gomaxprocs) < 0) s.gomaxprocs.push(r.gomaxprocs);
      if (r.goVersion !== '' && s.go_versions.indexOf(r.goVersion) < 0) s.go_versions.push(r.goVersion);
      if (r.limit !== null && s.cgroup_cpu_limits.indexOf(r.limit) < 0) s.cgroup_cpu_limits.push(r.limit);
    });
    s.s = s0; s.e = e0;
    return s;
  }

  // design tells how the sides relate in time (compare.design).
  function design(b, a) {
    if (!b.windows || !a.windows) return 'unknown';
    var overlap = (b.e < a.e ? b.e : a.e) - (b.s > a.s ? b.s : a.s);
    var shorter = b.e - b.s < a.e - a.s ? b.e - b.s : a.e - a.s;
    return overlap > 0n && overlap * 2n >= shorter ? 'same_span' : 'sequential';
  }

  // compareSides is compare.Compare with its default options.
  function compareSides(before, after) {
    var doc = { schema: 'diagkit.compare/v1', before: summarize(before), after: summarize(after), design: '', paired: 0,
      confidence: CONFIDENCE, adjustment: 'holm', tested: 0, figures: [], interrupted: [], cgo_call_sites: [], methods: METHODS, notes: [] };
    doc.design = design(doc.before, doc.after);
    var pairs = doc.design === 'same_span' ? pairInTime(before, after) : null;
    doc.paired = pairs ? pairs.length : 0;
    doc.figures = FIGURES.map(function (f) {
      var r = result(f.name, f.label, f.unit, f.worse);
      test(r, seriesOf(before, f.name), seriesOf(after, f.name), pairs);
      return r;
    });
    doc.interrupted = compareFuncs(before, after, pairs, 5, 'interrupted');
    doc.cgo_call_sites = compareFuncs(before, after, pairs, 5, 'cgo');
    // judge: Holm's adjustment over every tested result, and the verdicts.
    // An approximate result (Newcombe's interval on sample counts, which
    // come in clusters) is shown but judges nothing: no verdict, no
    // adjusted p-value, no place in Holm's family.
    var tested = doc.figures.concat(doc.interrupted, doc.cgo_call_sites).filter(function (r) {
      if (r.test === '') r.verdict = r.same ? 'no_significant_change' : 'untested';
      else if (r.approximate) r.verdict = 'untested';
      return r.test !== '' && !r.approximate;
    });
    holm(tested.map(function (r) { return r.p; })).forEach(function (adj, i) {
      var r = tested[i];
      r.p_adjusted = adj;
      r.verdict = adj >= ALPHA || r.difference === 0 ? 'no_significant_change' : r.worse ? (r.difference > 0 ? 'worse' : 'better') :
        r.difference > 0 ? 'higher' : 'lower';
    });
    doc.tested = tested.length;
    doc.notes = compareNotes(doc);
    [doc.before, doc.after].forEach(function (s) { delete s.s; delete s.e; });
    return doc;
  }

  function compareNotes(doc) {
    var out = [], b = doc.before, a = doc.after;
    if (b.windows < 2 || a.windows < 2) {
      out.push('a side has one window: shares get an approximate interval on sample counts but no verdict, and other figures are not tested; ' +
        'give several windows a side (an agent\'s history, a directory of profiles, or live targets) for windows as replicates');
    }
    if (doc.design === 'sequential') out.push('the sides ran at different times: a change of load between them shows as a difference too');
    if (b.gomaxprocs.length === 1 && a.gomaxprocs.length === 1 && b.gomaxprocs[0] !== a.gomaxprocs[0]) {
      out.push('GOMAXPROCS differs: ' + b.gomaxprocs[0] + ' before, ' + a.gomaxprocs[0] + ' after');
    }
    if (b.go_versions.length === 1 && a.go_versions.length === 1 && b.go_versions[0] !== a.go_versions[0]) {
      out.push('Go version differs: ' + b.go_versions[0] + ' before, ' + a.go_versions[0] + ' after');
    }
    return out;
  }

  // -- ranges (ranges.go) --

  // tns reads an RFC 3339 time as nanoseconds since 1970 (a BigInt), or
  // null, as time.Parse(time.RFC3339Nano) reads it.
  function tns(t) {
    var m = typeof t === 'string' && /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|([+-])(\d\d):(\d\d))$/.exec(t);
    if (!m) return null;
    var n = m.slice(1, 7).map(Number), d = new Date(0);
    d.setUTCFullYear(n[0], n[1] - 1, n[2]);
    if (d.getUTCMonth() !== n[1] - 1 || n[3] > 23 || n[4] > 59 || n[5] > 59 || (m[9] && (+m[10] > 23 || +m[11] > 59))) return null;
    var off = m[9] ? (m[9] === '-' ? -1 : 1) * (+m[10] * 60 + +m[11]) : 0;
    var secs = BigInt(d.getTime() / 1000) + BigInt(n[3] * 3600 + n[4] * 60 + n[5] - off * 60);
    return secs * 1000000000n + BigInt(((m[7] || '') + '000000000').slice(0, 9));
  }

  var UNITS = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 6e10, h: 3.6e12 };
  var MAX_AGO = 100000n * 3600000000000n;

  // parseDuration is time.ParseDuration, in nanoseconds (a BigInt), or
  // null.
  function parseDuration(s) {
    var neg = false, d = 0n, m;
    if (s[0] === '-' || s[0] === '+') { neg = s[0] === '-'; s = s.slice(1); }
    if (s === '0') return 0n;
    if (s === '') return null;
    while (s !== '') {
      m = /^(\d*)(?:\.(\d*))?([^\d.]*)/.exec(s);
      if ((m[1] === '' && !m[2]) || !Object.prototype.hasOwnProperty.call(UNITS, m[3])) return null;
      var unit = UNITS[m[3]], f = m[2] ? m[2].replace(/^(\d{0,18}).*/, '$1') : '';
      var v = BigInt(m[1] || '0') * BigInt(unit);
      if (f !== '' && BigInt(f) > 0n) v += BigInt(Math.floor(Number(BigInt(f)) * (unit / Math.pow(10, f.length))));
      d += v;
      if (d > 1n << 63n) return null;
      s = s.slice(m[0].length);
    }
    return neg ? -d : d;
  }

  function parseBound(s) {
    s = s.trim();
    if (s === '') return { set: false };
    if (s === 'now') return { set: true, abs: false, ago: 0n };
    var at = tns(s);
    if (at !== null) return { set: true, abs: true, at: at };
    var d = parseDuration(s.charAt(0) === '-' ? s.slice(1) : s);
    if (d === null || d < 0n || /^-[-+]/.test(s)) throw new Error('"' + s + '" is neither an RFC 3339 time nor a duration');
    if (d > MAX_AGO) throw new Error('"' + s + '" is longer ago than any history reaches');
    return { set: true, abs: false, ago: d };
  }

  // parseRange is compare.ParseRange: FROM..TO, each an RFC 3339 time, a
  // duration back from the newest window's end, or empty.
  function parseRange(s) {
    var i = s.indexOf('..');
    var fail = function (msg) { return new Error('range "' + s + '": ' + msg); };
    if (i < 0) throw fail('want FROM..TO (each a time, a duration back from the newest window, or empty)');
    var from, to;
    try { from = parseBound(s.slice(0, i)); to = parseBound(s.slice(i + 2)); } catch (e) { throw fail(e.message); }
    if (from.set && to.set && from.abs === to.abs && (from.abs ? !(from.at < to.at) : from.ago <= to.ago)) throw fail('FROM must come before TO');
    return { from: from, to: to };
  }

  // selectRange returns the replicates wholly inside the range (Range.Select,
  // relative bounds counted back from the newest end).
  function selectRange(r, reps) {
    if (!reps.length) return [];
    var ref = null;
    reps.forEach(function (x) { if (ref === null || x.e > ref) ref = x.e; });
    var at = function (b) { return b.abs ? b.at : ref - b.ago; };
    return reps.filter(function (x) { return !(r.from.set && x.s < at(r.from)) && !(r.to.set && x.e > at(r.to)); });
  }

  // ---- compare: the panel ----

  var SIDES = ['before', 'after'];
  var VERDICTS = {
    better: 'better', worse: 'worse', higher: 'higher', lower: 'lower', no_significant_change: 'no significant change', untested: 'untested'
  };
  var dragging = false, chartsStale = false; // a pointer is down on a chart: redrawing it would lose the drag
  var dragged = false; // a drag just ended: the click that follows is not a selection

  // periodic tells the agent's own periodic windows from the others: a
  // window it analyzed for a /debug/pprof/profile request ("http") overlaps
  // them and would count the same samples twice, so diagctl compare leaves
  // it out (addWindows), and so does the panel.
  function periodic(w) { return w.source === undefined || w.source === null || w.source === '' || w.source === 'periodic'; }

  // replicates are the windows' replicates for a comparison: the periodic
  // windows with times, in the history's order.
  function replicates(ws) {
    return ws.filter(periodic).map(replicate).filter(function (r) { return r.s !== null && r.e !== null; });
  }

  // runCompare selects the windows of each range and compares them. It
  // sets state.cmp's doc (both sides have windows), error, the span of each
  // side's windows and the command that makes the same comparison.
  function runCompare() {
    var c = state.cmp, sides = {};
    c.doc = null;
    c.error = '';
    c.spans = {};
    c.command = '';
    var reps = replicates(state.windows);
    try {
      SIDES.forEach(function (k) { if (c[k]) sides[k] = selectRange(parseRange(c[k]), reps); });
    } catch (e) {
      c.error = e.message;
      return;
    }
    SIDES.forEach(function (k) { if (sides[k] && sides[k].length) c.spans[k] = summarize(sides[k]); });
    var empty = SIDES.filter(function (k) { return sides[k] && !sides[k].length; });
    if (empty.length) c.error = 'No window lies wholly inside the ' + empty.join(' or the ') + ' range.';
    if (!c.spans.before || !c.spans.after) return;
    c.doc = compareSides(sides.before, sides.after);
    SIDES.forEach(function (k) { c.doc[k].input = cmdTarget(); c.doc[k].source = 'agent history'; });
    var t = cmdTarget();
    c.command = 'diagctl compare --before-range ' + c.spans.before.start + '..' + c.spans.before.end +
      ' --after-range ' + c.spans.after.start + '..' + c.spans.after.end + ' ' + t + ' ' + t;
  }

  // cmdTarget names the agent for diagctl: its address, quoted for a shell
  // when it needs to be.
  function cmdTarget() {
    var t = String(state.cfg.target || '');
    if (state.live) {
      var prefix = window.location.pathname.replace(/\/?debug\/diag\/?$/, '');
      t = prefix || window.location.protocol !== 'http:' ? window.location.origin + prefix : window.location.host;
    }
    if (!t) return 'TARGET';
    if (!/^https?:\/\//.test(t) && t.indexOf('/') >= 0) t = 'http://' + t;
    return /^[\w.:\/@%+=,-]+$/.test(t) ? t : '\'' + t.replace(/'/g, '\'\\\'\'') + '\'';
  }

  function applyCompare() {
    var c = state.cmp;
    c.before = $('cmp-before').value.trim();
    c.after = $('cmp-after').value.trim();
    if (!c.before) c.next = 'before';
    else if (!c.after) c.next = 'after';
    runCompare();
    renderCharts();
    renderCompare();
  }

  // dragRange sets the next side's range to the windows whose middle lies
  // in [t0, t1] (ms), as the span from the first one's start to the last
  // one's end: a range that holds exactly them.
  function dragRange(t0, t1) {
    var side = state.cmp.next;
    var inside = replicates(state.windows.filter(function (w) { var m = mid(w); return m >= t0 && m <= t1; }));
    var sum = inside.length ? summarize(inside) : null;
    $('cmp-' + side).value = sum ? sum.start + '..' + sum.end : new Date(t0).toISOString() + '..' + new Date(t1).toISOString();
    applyCompare();
    state.cmp.next = side === 'before' ? 'after' : 'before';
    renderCompareHint();
  }

  // cmpBands shades each side's windows on a chart.
  function cmpBands(svg, f, top, bottom, labels) {
    SIDES.forEach(function (k) {
      var sp = state.cmp.spans[k];
      if (!sp) return;
      var a = Math.max(MARGIN.left, f.x(Number(sp.s / 1000000n))), b = Math.min(f.W - MARGIN.right, f.x(Number(sp.e / 1000000n)));
      if (!(b > a)) return;
      svg.appendChild(s('rect', { 'class': 'cmp-band ' + k, x: a, y: top, width: b - a, height: bottom - top, 'data-side': k }));
      svg.appendChild(s('rect', { 'class': 'cmp-edge ' + k, x: a, y: top, width: b - a, height: 2 }));
      if (labels) svg.appendChild(s('text', { 'class': 'cmp-label ' + k, x: a + 4, y: top + 12, text: k }));
    });
  }

  function cmpValue(unit, v) {
    if (!isNum(v)) return 'n/a';
    if (unit === 'share') return pct(v);
    if (unit === 'seconds') return dur(v);
    if (unit === 'per_second') return v < 10 ? v.toFixed(2) + '/s' : rate(v);
    return ratio(v);
  }

  // cmpDiff formats a signed difference: shares in percentage points.
  function cmpDiff(unit, v) {
    if (!isNum(v)) return 'n/a';
    if (v === 0) return '0';
    var a = Math.abs(v), p = a * 100;
    return (v > 0 ? '+' : '−') + (unit === 'share' ? (p >= 10 ? p.toFixed(1) : p >= 0.01 ? p.toFixed(2) : '<0.01') + ' pp' : cmpValue(unit, a));
  }

  function pval(p) { return !isNum(p) ? '–' : p === 0 ? '0' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4); }

  function cmpTest(r) {
    if (r.test === 'welch_t') return 'Welch t' + (r.df ? ', df ' + r.df.toFixed(1) : ', no spread');
    if (r.test === 'paired_t') return 'paired t, ' + r.pairs + ' pairs' + (r.df ? '' : ', no spread');
    if (r.test === 'newcombe_score') return 'Newcombe score' + (r.approximate ? ' (approximate)' : '');
    return '–';
  }

  function cmpRow(r, first) {
    var rel = r.relative;
    var diff = [h('div', { text: cmpDiff(r.unit, r.difference) + (isNum(rel) && rel !== 0 ? ' (' + (rel > 0 ? '+' : '−') +
      Math.abs(rel * 100).toFixed(Math.abs(rel) >= 0.1 ? 0 : 1) + '%)' : '') })];
    // An approximate interval is marked ~, as diagctl compare marks it: it is
    // shown, but judges nothing.
    if (isNum(r.ci_low)) {
      diff.push(h('div', { 'class': 'sub', title: r.approximate ? 'approximate: no verdict' : null,
        text: (r.approximate ? '~' : '') + '[' + cmpDiff(r.unit, r.ci_low) + ', ' + cmpDiff(r.unit, r.ci_high) + ']' }));
    }
    var ptitle = !isNum(r.p) ? null : 'p = ' + r.p + (isNum(r.p_adjusted) ? ', Holm-adjusted ' + r.p_adjusted : ', not adjusted: no verdict');
    return h('tr', { 'data-figure': r.figure, 'data-verdict': r.verdict, 'data-status': r.status || null,
      'data-approximate': r.approximate ? 'true' : null }, first,
      h('td', { 'class': 'num', title: r.n_before + ' window' + (r.n_before === 1 ? '' : 's'), text: cmpValue(r.unit, r.before) }),
      h('td', { 'class': 'num', title: r.n_after + ' window' + (r.n_after === 1 ? '' : 's'), text: cmpValue(r.unit, r.after) }),
      h('td', { 'class': 'num' }, diff),
      h('td', { 'class': 'num', title: ptitle },
        h('div', { text: pval(r.p_adjusted) }), isNum(r.p) ? h('div', { 'class': 'sub', text: 'raw ' + pval(r.p) }) : null),
      h('td', null, h('span', { 'class': 'verdict v-' + r.verdict, text: VERDICTS[r.verdict] || r.verdict }),
        r.approximate ? h('span', { 'class': 'sub', text: '~ approximate: no verdict' }) : null),
      h('td', { 'class': 'muted small', text: cmpTest(r) }));
  }

  function cmpTable(rows, head, first) {
    return h('table', { 'class': 'cmp-table', 'data-rows': rows.length },
      h('thead', null, h('tr', null, h('th', { text: head }), h('th', { 'class': 'num', text: 'Before' }), h('th', { 'class': 'num', text: 'After' }),
        h('th', { 'class': 'num', text: 'Change [95 % interval]' }), h('th', { 'class': 'num', text: 'p (Holm)' }),
        h('th', { text: 'Verdict' }), h('th', { text: 'Test' }))),
      h('tbody', null, rows.map(function (r) { return cmpRow(r, first(r)); })));
  }

  function cmpFuncs(rows, none, cgo) {
    if (!rows.length) return h('div', { 'class': 'empty', text: none });
    return cmpTable(rows, cgo ? 'Call site' : 'Function', function (r) {
      return h('td', { 'class': 'fn' }, r.function || '?', cgo && r.c_function ? h('span', { 'class': 'sub', text: '→ C.' + r.c_function }) : null,
        h('span', { 'class': 'sub status-' + r.status, text: r.status }));
    });
  }

  function sideLine(k, sp) {
    var secs0 = Number(sp.e - sp.s) / 1e9;
    return h('div', { 'class': 'cmp-side ' + k, 'data-side': k, 'data-windows': sp.windows },
      h('i', { 'class': 'sw s-' + k }), h('b', { text: k === 'before' ? 'Before' : 'After' }),
      ' ' + sp.windows + ' window' + (sp.windows === 1 ? '' : 's') + ' · ' + day(tms(sp.start)) + ' ' + clock(tms(sp.start)) + '–' + clock(tms(sp.end)) +
      ' (' + secs(secs0) + ') · ' + int(sp.samples) + ' samples · ' + secs(sp.cpu_seconds) + ' of CPU');
  }

  function renderCompareHint() {
    $('cmp-hint').textContent = state.windows.length ? 'drag across a chart to set the ' + state.cmp.next + ' range' : '';
  }

  function renderCompare() {
    var c = state.cmp, d = c.doc;
    renderCompareHint();
    var st = $('cmp-status');
    st.className = 'cmp-status' + (c.error ? ' error' : '');
    st.textContent = c.error || (d ? '' : c.spans.before ? 'Now the after range: drag across a chart again, or type it.' :
      c.spans.after ? 'Now the before range.' : '');
    fill('cmp-sides', SIDES.filter(function (k) { return c.spans[k]; }).map(function (k) { return sideLine(k, c.spans[k]); }));
    $('cmp-result').hidden = !d;
    document.documentElement.setAttribute('data-compare', d ? 'ready' : c.error ? 'error' : c.before || c.after ? 'partial' : 'none');
    if (!d) return;
    fill('cmp-cmd', h('span', { 'class': 'muted', text: 'The same comparison on the command line: ' }), h('code', { text: c.command }));
    fill('cmp-figures', cmpTable(d.figures, 'Figure', function (r) {
      return h('td', null, r.label, r.note ? h('span', { 'class': 'sub', text: r.note }) : null);
    }));
    fill('cmp-interrupted', cmpFuncs(d.interrupted, 'No function was interrupted by async preemption on either side.', false));
    fill('cmp-cgo', cmpFuncs(d.cgo_call_sites, 'No cgo call on either side.', true));
    var used = {};
    d.figures.concat(d.interrupted, d.cgo_call_sites).forEach(function (r) { if (r.test) used[r.test] = 1; });
    used.holm = 1;
    var approx = d.figures.concat(d.interrupted, d.cgo_call_sites).some(function (r) { return r.approximate; });
    fill('cmp-notes', d.notes.map(function (n) { return h('li', { text: n }); }),
      approx ? h('li', { 'class': 'approx', text: '~ approximate: samples are treated as independent, which samples of one profile are not; ' +
        'the interval is too narrow, so it gives no verdict. Compare several windows a side.' }) : null,
      h('li', { text: d.tested + ' figures and functions tested; verdicts at 95 % after Holm\'s adjustment over them.' }),
      Object.keys(used).map(function (k) { return h('li', { 'class': 'method', text: METHODS[k] }); }));
  }

  function startCompare() {
    $('cmp-apply').addEventListener('click', applyCompare);
    $('cmp-clear').addEventListener('click', function () { $('cmp-before').value = ''; $('cmp-after').value = ''; applyCompare(); });
    $('cmp-swap').addEventListener('click', function () {
      var b = $('cmp-before').value;
      $('cmp-before').value = $('cmp-after').value;
      $('cmp-after').value = b;
      applyCompare();
    });
    SIDES.forEach(function (k) {
      $('cmp-' + k).addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { ev.preventDefault(); applyCompare(); } });
    });
    // For tests and scripts: compare two ranges as the Compare button does,
    // and read the comparison (compare.Document's JSON).
    var comparison = function () {
      var c = state.cmp;
      return JSON.stringify({ before: c.before, after: c.after, error: c.error, command: c.command, doc: c.doc });
    };
    window.diagkitDashboard = Object.freeze({
      compare: function (before, after) {
        $('cmp-before').value = String(before);
        $('cmp-after').value = String(after);
        applyCompare();
        return comparison();
      },
      comparison: comparison
    });
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
    startCompare();
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
