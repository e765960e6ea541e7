// The dashboard: keeps the state that /live's frames describe (a full frame, then only
// what changed), turns counter totals into rates and histogram bands into heatmap columns,
// and plots them with uPlot. `window.metricoreDashboard` exposes what a test needs: frames
// received, the measured frame rate, the chart data.
"use strict";

(function () {
  const params = new URLSearchParams(location.search);
  const fps = params.get("fps") || "10";
  const token = params.get("access_token");
  const WINDOW_SECONDS = 300; // history kept on the charts
  const POINT_EVERY = 0.25; // seconds between chart points, whatever the frame rate
  const RATE_OVER = 1; // seconds a rate is measured over

  const state = { counters: {}, gauges: {}, histograms: {}, bands: [] };
  const history = []; // [{t, counters totals we track}] for rates
  const view = {
    frames: 0,
    lastSeq: -1,
    measuredFps: 0,
    connected: false,
    data: { requests: [[], [], []], latency: [[], [], [], [], []], process: [[], [], []], machine: [[], [], []] },
    heat: { t: [], columns: [] },
  };
  window.metricoreDashboard = view;

  const $ = (id) => document.getElementById(id);
  const statusEl = $("status");
  const select = $("histogram");

  function setStatus(kind, text) {
    statusEl.className = kind;
    statusEl.textContent = text;
  }

  const family = (id) => id.split("{")[0];
  const label = (id, name) => {
    const m = id.match(new RegExp("[{,]" + name + '="([^"]*)"'));
    return m ? m[1] : null;
  };
  const isRequestCounter = (id) => /request/i.test(family(id)) && !/error|fail/i.test(family(id));
  const isError = (id) => {
    const status = label(id, "status") || label(id, "code") || label(id, "status_code");
    return (status !== null && /^5/.test(status)) || /error|fail/i.test(family(id));
  };
  const sum = (pred) => Object.entries(state.counters).reduce((a, [id, v]) => (pred(id) ? a + v : a), 0);

  function chooseHistogram() {
    const ids = Object.keys(state.histograms).sort();
    const current = select.value;
    if (select.options.length !== ids.length) {
      select.textContent = "";
      for (const id of ids) select.add(new Option(id, id));
    }
    if (ids.includes(current)) {
      select.value = current;
    } else {
      const preferred = ids.filter((id) => /duration|latency/i.test(family(id)));
      const pool = preferred.length ? preferred : ids;
      pool.sort((a, b) => state.histograms[b].count - state.histograms[a].count);
      if (pool.length) select.value = pool[0];
    }
    return select.value || null;
  }

  // Totals at time t, kept RATE_OVER seconds back, for rates.
  function track(t) {
    let cpuIdle = 0, cpuAll = 0;
    for (const [id, v] of Object.entries(state.counters)) {
      if (family(id) === "node_cpu_seconds") {
        cpuAll += v;
        if (label(id, "mode") === "idle") cpuIdle += v;
      }
    }
    const totals = {
      requests: sum(isRequestCounter),
      errors: sum((id) => isRequestCounter(id) && isError(id)) + sum((id) => !isRequestCounter(id) && /error|fail/i.test(family(id))),
      processCpu: state.counters["process_cpu_seconds"],
      cpuIdle, cpuAll,
      families: {},
    };
    for (const [id, v] of Object.entries(state.counters)) {
      const f = family(id);
      const e = totals.families[f] || (totals.families[f] = { total: 0, series: 0 });
      e.total += v;
      e.series += 1;
    }
    history.push({ t, totals });
    while (history.length > 2 && t - history[1].t >= RATE_OVER) history.shift();
    return totals;
  }

  function rate(now, key) {
    const then = history[0];
    const dt = view.lastT - then.t;
    if (!(dt > 0) || now[key] === undefined || then.totals[key] === undefined) return null;
    return Math.max(0, (now[key] - then.totals[key]) / dt);
  }

  let lastPoint = 0;
  let lastBands = null;
  function addPoint(t, totals) {
    const d = view.data;
    const push = (series, values) => {
      values.forEach((v, i) => series[i].push(v));
      while (series[0].length && t - series[0][0] > WINDOW_SECONDS) series.forEach((s) => s.shift());
    };
    push(d.requests, [t, rate(totals, "requests"), rate(totals, "errors")]);
    const hid = chooseHistogram();
    const h = hid ? state.histograms[hid] : null;
    const ms = (x) => (h && h.count ? x * 1000 : null);
    push(d.latency, [t, ms(h && h.p50), ms(h && h.p90), ms(h && h.p99), ms(h && h.max)]);
    const cpu = rate(totals, "processCpu");
    const rss = state.gauges["process_resident_memory_bytes"];
    push(d.process, [t, cpu === null ? null : cpu * 100, rss === undefined ? null : rss / 1048576]);
    const idle = rate(totals, "cpuIdle"), all = rate(totals, "cpuAll");
    const memTotal = state.gauges["node_memory_MemTotal_bytes"], memAvail = state.gauges["node_memory_MemAvailable_bytes"];
    push(d.machine, [
      t,
      idle !== null && all ? (1 - idle / all) * 100 : null,
      memTotal && memAvail !== undefined ? (1 - memAvail / memTotal) * 100 : null,
    ]);
    if (h && h.bands) {
      const column = lastBands && lastBands.id === hid ? h.bands.map((c, i) => Math.max(0, c - lastBands.bands[i])) : h.bands.map(() => 0);
      lastBands = { id: hid, bands: h.bands.slice() };
      view.heat.t.push(t);
      view.heat.columns.push(column);
      while (view.heat.t.length && t - view.heat.t[0] > WINDOW_SECONDS) { view.heat.t.shift(); view.heat.columns.shift(); }
    }
    renderTop(totals);
    redraw();
  }

  function renderTop(totals) {
    const then = history[0].totals.families;
    const dt = view.lastT - history[0].t;
    // The application's families; the sampler's process_* and node_* have their own charts.
    const rows = Object.entries(totals.families).filter(([f]) => !/^(node|process)_/.test(f)).map(([f, e]) => ({
      f, series: e.series, total: e.total,
      rate: dt > 0 && then[f] ? (e.total - then[f].total) / dt : 0,
    }));
    rows.sort((a, b) => b.rate - a.rate || b.total - a.total);
    const body = $("top").tBodies[0];
    body.textContent = "";
    for (const r of rows.slice(0, 12)) {
      const tr = body.insertRow();
      tr.insertCell().textContent = r.f;
      for (const v of [r.series, r.rate.toFixed(2), r.total.toLocaleString()]) {
        const td = tr.insertCell();
        td.className = "num";
        td.textContent = v;
      }
    }
  }

  // ------------------------------------------------------------------ charts
  const width = () => Math.max(320, Math.min(900, $("chart-requests").parentElement.clientWidth - 24));
  const line = (label, stroke, scale) => {
    const series = { label, stroke, width: 1.5, spanGaps: false };
    if (scale) series.scale = scale;
    return series;
  };
  const charts = {};
  function makeCharts() {
    const w = width();
    charts.requests = new uPlot({ width: w, height: 200, series: [{}, line("requests/s", "#2b6cb0"), line("errors/s", "#c53030")] }, view.data.requests, $("chart-requests"));
    charts.latency = new uPlot({ width: w, height: 200, series: [{}, line("p50", "#2f855a"), line("p90", "#b7791f"), line("p99", "#c05621"), line("max", "#9b2c2c")] }, view.data.latency, $("chart-latency"));
    charts.process = new uPlot({
      width: w, height: 200,
      series: [{}, line("CPU %", "#6b46c1", "%"), line("RSS MiB", "#2c7a7b", "mib")],
      axes: [{}, { scale: "%" }, { scale: "mib", side: 1, grid: { show: false } }],
    }, view.data.process, $("chart-process"));
    charts.machine = new uPlot({
      width: w, height: 200,
      series: [{}, line("CPU busy %", "#dd6b20", "%"), line("memory used %", "#3182ce", "%")],
      scales: { "%": { range: [0, 100] } },
      axes: [{}, { scale: "%" }],
    }, view.data.machine, $("chart-machine"));
    // The heatmap: uPlot's time axis and band axis, each cell painted in a draw hook as
    // uPlot's own heatmap demos do.
    charts.heatmap = new uPlot({
      width: w, height: 220,
      series: [{}, { label: "band", stroke: "transparent", points: { show: false } }],
      scales: { y: { auto: false, range: [0, 34] } },
      axes: [{}, {
        size: 64,
        values: (u, splits) => splits.map((s) => bandLabel(s)),
        splits: () => [0, 4, 8, 12, 16, 20, 24, 28, 32],
      }],
      legend: { show: false },
      hooks: { draw: [drawHeat] },
    }, [[], []], $("chart-heatmap"));
  }

  function bandLabel(i) {
    const bound = state.bands[Math.min(i, state.bands.length - 1)];
    if (bound === undefined) return "";
    if (bound < 1e-3) return Math.round(bound * 1e6) + "µs";
    if (bound < 1) return +(bound * 1e3).toPrecision(2) + "ms";
    return +bound.toPrecision(2) + "s";
  }

  function drawHeat(u) {
    const { t, columns } = view.heat;
    if (!t.length) return;
    let max = 0;
    for (const c of columns) for (const v of c) if (v > max) max = v;
    if (!max) return;
    const ctx = u.ctx;
    ctx.save();
    const dx = Math.max(1, (u.bbox.width / Math.max(1, t.length)) * 1.05);
    const dy = u.valToPos(0, "y", true) - u.valToPos(1, "y", true);
    for (let i = 0; i < t.length; i++) {
      const x = u.valToPos(t[i], "x", true) - dx;
      const col = columns[i];
      for (let b = 0; b < col.length; b++) {
        if (!col[b]) continue;
        const a = 0.15 + 0.85 * Math.sqrt(col[b] / max);
        ctx.fillStyle = `rgba(197, 48, 48, ${a.toFixed(3)})`;
        ctx.fillRect(x, u.valToPos(b + 1, "y", true), dx, dy);
      }
    }
    ctx.restore();
  }

  function redraw() {
    charts.requests.setData(view.data.requests);
    charts.latency.setData(view.data.latency);
    charts.process.setData(view.data.process);
    charts.machine.setData(view.data.machine);
    const t = view.heat.t;
    charts.heatmap.setData([t, t.map(() => null)]);
    if (t.length) charts.heatmap.setScale("x", { min: t[0] - POINT_EVERY, max: t[t.length - 1] });
  }

  // ------------------------------------------------------------------ the stream
  function apply(frame) {
    if (frame.full) {
      state.counters = {};
      state.gauges = {};
      state.histograms = {};
      history.length = 0;
      lastBands = null;
      state.bands = frame.bands || [];
    }
    Object.assign(state.counters, frame.counters);
    Object.assign(state.gauges, frame.gauges);
    Object.assign(state.histograms, frame.histograms);
    for (const id of frame.removed) {
      delete state.counters[id];
      delete state.gauges[id];
      delete state.histograms[id];
    }
  }

  let frameTimes = [];
  let retry = 500;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = new URLSearchParams({ fps });
    if (token) query.set("access_token", token);
    const ws = new WebSocket(`${scheme}//${location.host}/live?${query}`);
    setStatus("connecting", "connecting…");
    ws.onopen = () => {
      view.connected = true;
      retry = 500;
      setStatus("live", "live");
    };
    ws.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      view.frames += 1;
      view.lastSeq = frame.seq;
      view.lastT = frame.t;
      const now = performance.now();
      frameTimes.push(now);
      while (frameTimes.length && now - frameTimes[0] > 1000) frameTimes.shift();
      view.measuredFps = frameTimes.length;
      $("rate").textContent = `${view.measuredFps} frames/s (asked ${frame.fps})`;
      apply(frame);
      const totals = track(frame.t);
      $("series").textContent = `${Object.keys(state.counters).length + Object.keys(state.gauges).length + Object.keys(state.histograms).length} series`;
      if (frame.t - lastPoint >= POINT_EVERY || frame.full) {
        lastPoint = frame.t;
        addPoint(frame.t, totals);
      }
    };
    ws.onclose = () => {
      view.connected = false;
      setStatus("lost", `stream lost — reconnecting in ${(retry / 1000).toFixed(1)} s`);
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }

  makeCharts();
  select.addEventListener("change", () => { lastBands = null; });
  window.addEventListener("resize", () => {
    for (const c of Object.values(charts)) c.setSize({ width: width(), height: c.height });
  });
  connect();
})();
