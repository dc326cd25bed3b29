/* The leader page: for the leader's area, a heat map of incidents with a time window and a week-by-week
   playback, a choropleth of cases per 1,000 households (street -> community -> grid, drill down by clicking),
   an H3 density layer, the hot spots, and a table of closure rate, overdue cases and time to close per area,
   filtered by category and time. Every layer is aggregated by the server; every request goes to us.
   window.geogridReady resolves (to performance.now()) once the heat map, the choropleth and the table are drawn. */
(function () {
  "use strict";
  const g = window.geogrid;
  /* the filter form never navigates (no inline handler: the page's Content-Security-Policy allows none) */
  document.getElementById("filters").addEventListener("submit", function (event) { event.preventDefault(); });
  const LABELS = {
    zh: {
      sign_out: "退出", other: "English", category: "类别", all: "全部类别", since: "从", until: "至",
      play: "▶ 播放", pause: "⏸ 暂停", whole: "全时段", week: "周", cases: "件", whole_period: "全时段",
      table_title: "各区域办结情况", hint: "点击地图上的区域或表格行可逐级查看。", area: "区域", count: "案件数",
      closed: "已办结", closure_rate: "办结率", overdue: "超期", median_hours: "办结用时中位数(小时)",
      per_1000: "每千户案件数", households: "户数", heat: "案件热力图", choropleth: "每千户案件数",
      h3: "H3 六边形密度", hotspots: "热点/冷点 (Gi*)", hot: "热点", cold: "冷点", no_data: "无数据",
      street: "街道/镇", community: "社区/村", grid: "网格", district: "区", failed: "加载失败", no_rows: "无区域",
      h3_legend: "H3 单元案件数", loading: "加载中…",
    },
    en: {
      sign_out: "Sign out", other: "中文", category: "Category", all: "All categories", since: "From", until: "To",
      play: "▶ Play", pause: "⏸ Pause", whole: "Whole period", week: "week", cases: "cases", whole_period: "Whole period",
      table_title: "Cases and closure per area", hint: "Click an area on the map or a table row to drill down.",
      area: "Area", count: "Cases", closed: "Closed", closure_rate: "Closure rate", overdue: "Overdue",
      median_hours: "Median hours to close", per_1000: "Cases per 1,000 households", households: "Households",
      heat: "Incident heat map", choropleth: "Cases per 1,000 households", h3: "H3 hexagon density",
      hotspots: "Hot and cold spots (Gi*)", hot: "hot spot", cold: "cold spot", no_data: "no data",
      street: "Street/town", community: "Community/village", grid: "Grid", district: "District", failed: "Failed to load",
      no_rows: "No areas", h3_legend: "cases per H3 cell", loading: "Loading…",
    },
  };
  const API = "/api/v1";
  const CHILD = { district: "street", street: "community", community: "grid" };
  const COLOURS = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"];
  const STEP_MS = 900;
  const map = g.map();
  const SVG = L.svg({ padding: 0.3 }); // areas and hot spots as SVG paths (the map prefers canvas) for clicks and tests
  const $ = function (id) { return document.getElementById(id); };
  const T = function (key) { return g.t(LABELS, key); };
  const state = {
    path: [], filters: { category: "", since: "", until: "" }, weeks: [], step: null, playing: false, run: 0,
    rows: [], sort: { key: null, dir: 1 }, seq: {}, stale: { h3: true, spots: true }, categories: {},
  };
  const layers = {
    heat: L.heatLayer([], { radius: 18, blur: 15, maxZoom: 17, minOpacity: 0.05 }).addTo(map),
    areas: L.featureGroup().addTo(map),
    h3: L.featureGroup(),
    spots: L.featureGroup(),
  };
  let markReady;
  window.geogridReady = new Promise(function (resolve) { markReady = resolve; });

  /* --- small helpers -------------------------------------------------------------------------------- */
  function current() { return state.path[state.path.length - 1]; }
  function childLevel() { return CHILD[current().level] || null; }

  /* the query string of the current area and filters, plus extra parameters */
  function query(extra) {
    const params = new URLSearchParams();
    params.set("area", current().code);
    Object.entries(state.filters).forEach(function ([k, v]) { if (v) params.set(k, v); });
    Object.entries(extra || {}).forEach(function ([k, v]) { if (v !== null && v !== undefined && v !== "") params.set(k, v); });
    return params.toString();
  }

  /* fetch path; answers the body, or null when a newer request of the same kind was started meanwhile */
  async function latest(kind, path) {
    const mine = (state.seq[kind] = (state.seq[kind] || 0) + 1);
    const answer = await g.api(path);
    return mine === state.seq[kind] ? answer.body : null;
  }

  function fmt(value, kind) {
    if (value === null || value === undefined) return "—";
    if (kind === "rate") return (value * 100).toFixed(1) + "%";
    if (kind === "dec") return value.toFixed(1);
    return String(value);
  }

  function addDays(isoDate, days) {
    const d = new Date(isoDate + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }

  function sleep(ms) { return new Promise(function (r) { window.setTimeout(r, ms); }); }

  function failed(error) {
    console.warn(error);
    g.toast(T("failed") + ": " + error.message, "error");
  }

  /* --- page chrome ---------------------------------------------------------------------------------- */
  function addLayerControl() {
    const overlays = {};
    overlays[T("heat")] = layers.heat;
    overlays[T("choropleth")] = layers.areas;
    overlays[T("h3")] = layers.h3;
    overlays[T("hotspots")] = layers.spots;
    L.control.layers(null, overlays, { collapsed: window.innerWidth < 700 }).addTo(map);
    map.on("overlayadd", function (e) {
      if (e.layer === layers.h3 && state.stale.h3) loadH3().catch(failed);
      if (e.layer === layers.spots && state.stale.spots) loadSpots().catch(failed);
    });
  }

  /* the legend of the choropleth: one swatch per class */
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = function () { return L.DomUtil.create("div", "geogrid-legend leader-legend"); };

  function drawLegend(breaks) {
    const box = legend.getContainer();
    if (!box) return;
    box.replaceChildren(g.el("strong", { text: T("per_1000") }));
    COLOURS.forEach(function (colour, i) {
      if (i >= breaks.length - 1) return;
      const swatch = g.el("i", { style: "background:" + colour });
      box.appendChild(g.el("div", {}, [swatch, fmt(breaks[i], "dec") + " – " + fmt(breaks[i + 1], "dec")]));
    });
    box.appendChild(g.el("div", {}, [g.el("i", { style: "background:#ddd" }), T("no_data")]));
  }

  /* --- filters and the area path ---------------------------------------------------------------------- */
  function fillCategories(taxonomy) {
    const select = $("category");
    Object.entries(taxonomy.categories || {}).forEach(function ([code, c]) {
      state.categories[code] = c;
      select.appendChild(g.el("option", { value: code, text: c[g.config.lang] || c.zh || code }));
    });
  }

  /* the user's scope as the root of the path: its name and level from the hierarchy */
  function rootOf(hierarchy) {
    const scope = g.config.user.scope;
    let found = null;
    (function walk(nodes) {
      (nodes || []).forEach(function (n) { if (!found && n.code === scope) found = n; else walk(n.children); });
    })(hierarchy.districts);
    return found ? { code: found.code, name: found.name, level: found.level } : null;
  }

  function drawCrumbs() {
    const nav = $("crumbs");
    nav.replaceChildren();
    state.path.forEach(function (area, i) {
      if (i) nav.appendChild(document.createTextNode(" › "));
      const last = i === state.path.length - 1;
      const node = g.el(last ? "strong" : "a", { text: area.name, "data-code": area.code });
      if (!last) node.addEventListener("click", function () { goUp(i); });
      nav.appendChild(node);
    });
    const level = childLevel();
    if (level) nav.appendChild(g.el("span", { class: "leader-level", text: " · " + T(level) }));
  }

  function readFilters() {
    state.filters = { category: $("category").value, since: $("since").value, until: $("until").value };
  }

  function drill(code, name, bounds) {
    const level = childLevel();
    if (!level || !CHILD[level]) return; // grids are the bottom: nothing below them
    state.path.push({ code: code, name: name, level: level });
    if (bounds) map.fitBounds(bounds, { maxZoom: 17 });
    reload({ fit: !bounds });
  }

  function goUp(index) {
    state.path = state.path.slice(0, index + 1);
    reload({ fit: true });
  }

  /* --- loading -------------------------------------------------------------------------------------- */
  /* everything that depends on the area and the filters: table, choropleth, trend and heat */
  function reload(options) {
    stopPlayback();
    state.step = null;
    state.stale = { h3: true, spots: true };
    drawCrumbs();
    const drawn = [loadAreas(options && options.fit).catch(failed), loadHeat(null).catch(failed)];
    /* on the first load the trend (playback) waits for the map and table: the server computes one thing less */
    const gen = (state.gen = (state.gen || 0) + 1);  /* a newer reload makes this one's late trend moot */
    const trend = options && options.trendLater
      ? Promise.all(drawn).then(function () { return gen === state.gen ? loadTrend() : null; })
      : loadTrend();
    const jobs = drawn.concat([trend.catch(failed)]);
    state.drawn = Promise.all(drawn);
    if (map.hasLayer(layers.h3)) jobs.push(loadH3().catch(failed));
    if (map.hasLayer(layers.spots)) jobs.push(loadSpots().catch(failed));
    return Promise.all(jobs);
  }

  /* the table's rows are the choropleth's properties: the same rows as GET /stats/areas at that level */
  function fillTable(features) {
    state.rows = features.map(function (f) { return f.properties; });
    drawTable();
  }

  function drawTable() {
    const rows = state.rows.slice();
    const key = state.sort.key;
    if (key) {
      rows.sort(function (a, b) {
        const x = a[key], y = b[key];
        if (x === y) return 0;
        if (x === null) return 1;
        if (y === null) return -1;
        return (x < y ? -1 : 1) * state.sort.dir;
      });
    }
    const body = $("area-table").tBodies[0];
    body.replaceChildren();
    rows.forEach(function (row) { body.appendChild(tableRow(row)); });
    if (!rows.length) body.appendChild(g.el("tr", {}, [g.el("td", { colspan: "6", text: T("no_rows") })]));
  }

  function tableRow(row) {
    const cell = function (key, kind) {
      const value = row[key] === null || row[key] === undefined ? "" : String(row[key]);
      return g.el("td", { class: "num", "data-key": key, "data-value": value, text: fmt(row[key], kind) });
    };
    const tr = g.el("tr", { "data-code": row.code }, [
      g.el("td", { "data-key": "name", text: row.name || row.code }),
      cell("count"), cell("closure_rate", "rate"), cell("overdue"), cell("median_hours_to_close", "dec"),
      cell("per_1000_households", "dec"),
    ]);
    if (row.overdue > 0) tr.children[3].classList.add("bad");
    if (childLevel() && CHILD[childLevel()]) {
      tr.classList.add("leader-drill");
      tr.addEventListener("click", function () { drill(row.code, row.name || row.code, boundsOf(row.code)); });
    }
    return tr;
  }

  function sortBy(key) {
    state.sort = { key: key, dir: state.sort.key === key ? -state.sort.dir : (key === "name" ? 1 : -1) };
    drawTable();
  }

  /* the choropleth of cases per 1,000 households at the level below the current area */
  async function loadAreas(fit) {
    const level = childLevel() || "grid";
    const data = await latest("areas", API + "/density/areas?" + query({ level: level }));
    if (!data) return;
    const values = data.features.map(function (f) { return f.properties.per_1000_households; })
      .filter(function (v) { return v !== null && v !== undefined; });
    const breaks = classBreaks(values);
    layers.areas.clearLayers();
    g.geoJSON(data, {
      renderer: SVG,
      style: function (f) { return areaStyle(f.properties.per_1000_households, breaks); },
      onEachFeature: function (f, layer) { bindArea(f, layer, level); },
    }).eachLayer(function (layer) { layers.areas.addLayer(layer); });
    drawLegend(breaks);
    fillTable(data.features);
    if (fit && layers.areas.getLayers().length) fitTo(layers.areas.getBounds());
  }

  /* quantile class limits (at most five classes) of values */
  function classBreaks(values) {
    if (!values.length) return [];
    const sorted = values.slice().sort(function (a, b) { return a - b; });
    const limits = [sorted[0]];
    for (let i = 1; i <= COLOURS.length; i++) {
      const v = sorted[Math.min(sorted.length - 1, Math.ceil(i * sorted.length / COLOURS.length) - 1)];
      if (v > limits[limits.length - 1]) limits.push(v);
    }
    if (limits.length === 1) limits.push(sorted[0]);
    return limits;
  }

  function colourOf(value, breaks) {
    if (value === null || value === undefined || !breaks.length) return "#ddd";
    for (let i = 1; i < breaks.length; i++) if (value <= breaks[i]) return COLOURS[i - 1];
    return COLOURS[breaks.length - 2];
  }

  function areaStyle(value, breaks) {
    return { color: "#555", weight: 1, fillColor: colourOf(value, breaks), fillOpacity: 0.6 };
  }

  function bindArea(feature, layer, level) {
    const p = feature.properties;
    layer.bindTooltip(g.el("div", {}, [
      g.el("strong", { text: p.name || p.code || feature.id }), g.el("br"),
      T("count") + ": " + fmt(p.count) + " · " + T("per_1000") + ": " + fmt(p.per_1000_households, "dec"),
    ]), { sticky: true });
    layer.on("add", function () { layer.getElement().setAttribute("data-code", p.code || feature.id); });
    if (CHILD[level]) layer.on("click", function () { drill(p.code || feature.id, p.name || p.code, layer.getBounds()); });
  }

  /* show bounds, unless the map shows them already at about the right zoom (each zoom change re-asks the heat) */
  function fitTo(bounds) {
    const zoom = Math.min(17, map.getBoundsZoom(bounds));
    if (map.getBounds().contains(bounds) && zoom <= map.getZoom() + 1) return;
    map.fitBounds(bounds, { maxZoom: 17 });
  }

  function boundsOf(code) {
    let found = null;
    layers.areas.eachLayer(function (layer) {
      const f = layer.feature;
      if (f && (f.id === code || f.properties.code === code)) found = layer.getBounds();
    });
    return found;
  }

  /* the heat map over a window {since, until} (null: the whole filter window) */
  async function loadHeat(window_) {
    const extra = { zoom: Math.round(map.getZoom()) };
    if (window_) { extra.since = window_.since; extra.until = window_.until; }
    const params = new URLSearchParams(query());
    Object.entries(extra).forEach(function ([k, v]) { params.set(k, v); });
    const data = await latest("heat", API + "/density/heat?" + params.toString());
    if (!data) return null;
    const top = data.max || 1;
    layers.heat.setOptions({ max: 1 });
    layers.heat.setLatLngs(data.points.map(function (p) {
      const at = g.toDisplay(p[1], p[0]);
      return [at.lat, at.lng, p[2] / top];
    }));
    return data;
  }

  async function loadH3() {
    state.stale.h3 = false;
    const data = await latest("h3", API + "/density/h3?" + query({ zoom: Math.round(map.getZoom()) }));
    if (!data) return;
    const top = Math.max.apply(null, data.features.map(function (f) { return f.properties.count; }).concat([1]));
    layers.h3.clearLayers();
    g.geoJSON(data, {
      style: function (f) {
        const share = f.properties.count / top;
        return { color: "#3949ab", weight: 0.6, fillColor: "#3949ab", fillOpacity: 0.1 + 0.6 * share };
      },
      onEachFeature: function (f, layer) { layer.bindTooltip(T("count") + ": " + f.properties.count, { sticky: true }); },
    }).eachLayer(function (layer) { layers.h3.addLayer(layer); });
  }

  /* "hot", "cold" or null for a hot-spot feature, whatever the name of its label property */
  function spotKind(p) {
    const label = String(p.label || p.spot || p.hotspot || p.class || p.kind || "").toLowerCase();
    if (label.startsWith("hot")) return "hot";
    if (label.startsWith("cold")) return "cold";
    return null;
  }

  async function loadSpots() {
    state.stale.spots = false;
    const data = await latest("spots", API + "/density/hotspots?" + query());
    if (!data) return;
    layers.spots.clearLayers();
    const marked = data.features.filter(function (f) { return spotKind(f.properties); });
    g.geoJSON({ type: "FeatureCollection", features: marked }, {
      renderer: SVG,
      style: function (f) {
        const hot = spotKind(f.properties) === "hot";
        return { color: hot ? "#b71c1c" : "#0d47a1", weight: 2, fillColor: hot ? "#e53935" : "#1e88e5", fillOpacity: 0.35 };
      },
      onEachFeature: function (f, layer) {
        const p = f.properties;
        layer.bindTooltip((p.grid_code || f.id) + " · " + T(spotKind(p)) + (p.z !== undefined ? " · z " + Number(p.z).toFixed(2) : ""),
          { sticky: true });
      },
    }).eachLayer(function (layer) { layers.spots.addLayer(layer); });
  }

  /* --- the trend and the playback ------------------------------------------------------------------------ */
  async function loadTrend() {
    const body = await latest("trend", API + "/stats/trend?" + query());
    if (!body) return;
    state.weeks = body.weeks;
    $("step").max = String(Math.max(0, state.weeks.length - 1));
    $("step").value = "0";
    drawTrend();
    showWindow();
  }

  function drawTrend() {
    const box = $("trend");
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    const n = state.weeks.length, top = Math.max(1, ...state.weeks.map(function (w) { return w.count; }));
    svg.setAttribute("viewBox", "0 0 " + Math.max(1, n * 4) + " 40");
    svg.setAttribute("preserveAspectRatio", "none");
    state.weeks.forEach(function (w, i) {
      const bar = document.createElementNS(NS, "rect");
      const h = Math.max(0.5, 38 * w.count / top);
      bar.setAttribute("x", String(i * 4 + 0.5));
      bar.setAttribute("y", String(40 - h));
      bar.setAttribute("width", "3");
      bar.setAttribute("height", String(h));
      bar.setAttribute("class", i === state.step ? "leader-bar current" : "leader-bar");
      const title = document.createElementNS(NS, "title");
      title.textContent = w.week_start + ": " + w.count + " " + T("cases");
      bar.appendChild(title);
      bar.addEventListener("click", function () { stopPlayback(); showStep(i).catch(failed); });
      svg.appendChild(bar);
    });
    box.replaceChildren(svg);
  }

  function stepWindow(i) {
    const start = state.weeks[i].week_start;
    return { since: start, until: addDays(start, 7) };
  }

  /* the current window's text: one week of the playback, or the whole filter period */
  function showWindow() {
    const out = $("window");
    if (state.step === null) {
      const weeks = state.weeks;
      const from = state.filters.since || (weeks.length ? weeks[0].week_start : "");
      const to = state.filters.until ? addDays(state.filters.until, -1) : (weeks.length ? addDays(weeks[weeks.length - 1].week_start, 6) : "");
      const total = weeks.reduce(function (s, w) { return s + w.count; }, 0);
      out.textContent = T("whole_period") + ": " + from + " – " + to + " · " + total + " " + T("cases");
    } else {
      const w = state.weeks[state.step];
      out.textContent = T("week") + " " + (state.step + 1) + "/" + state.weeks.length + ": " + w.week_start + " – " +
        addDays(w.week_start, 6) + " · " + w.count + " " + T("cases");
    }
    out.dataset.step = state.step === null ? "" : String(state.step);
    $("trend").querySelectorAll("rect").forEach(function (bar, i) { bar.classList.toggle("current", i === state.step); });
  }

  async function showStep(i) {
    if (!state.weeks.length) return;
    state.step = i;
    $("step").value = String(i);
    showWindow();
    await loadHeat(stepWindow(i));
  }

  async function play() {
    if (!state.weeks.length) return;
    const run = (state.run = (state.run || 0) + 1);
    state.playing = true;
    $("play").textContent = T("pause");
    let i = state.step === null || state.step >= state.weeks.length - 1 ? 0 : state.step + 1;
    while (state.playing && state.run === run && i < state.weeks.length) {
      await showStep(i);
      await sleep(STEP_MS);
      i += 1;
    }
    if (state.run === run) stopPlayback();
  }

  function stopPlayback() {
    state.run = (state.run || 0) + 1;
    state.playing = false;
    $("play").textContent = T("play");
  }

  function wholePeriod() {
    stopPlayback();
    state.step = null;
    showWindow();
    loadHeat(null).catch(failed);
  }

  /* --- wiring ------------------------------------------------------------------------------------------ */
  function wire() {
    ["category", "since", "until"].forEach(function (id) {
      $(id).addEventListener("change", function () { readFilters(); reload({ fit: false }); });
    });
    $("play").addEventListener("click", function () {
      if (state.playing) stopPlayback(); else play().catch(failed);
    });
    $("whole").addEventListener("click", wholePeriod);
    $("step").addEventListener("input", function () { stopPlayback(); showStep(Number($("step").value)).catch(failed); });
    document.querySelectorAll("#area-table th[data-sort]").forEach(function (th) {
      th.addEventListener("click", function () { sortBy(th.dataset.sort); });
    });
    let timer = null;
    map.on("zoomend", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        loadHeat(state.step === null ? null : stepWindow(state.step)).catch(failed);
        if (map.hasLayer(layers.h3)) loadH3().catch(failed); else state.stale.h3 = true;
      }, 300);
    });
  }

  /* the scope's level guessed from its code (6 digits a district, 9 a street, 12 a community: the national
     area codes, with or without dashes), so the data loads start before the hierarchy answers */
  function guessRoot() {
    const scope = g.config.user.scope;
    const digits = scope.replace(/-/g, "").length;
    const level = digits <= 6 ? "district" : digits <= 9 ? "street" : digits <= 12 ? "community" : "grid";
    return { code: scope, name: scope, level: level };
  }

  async function start() {
    g.labelPage(T);
    g.addBasemap(map);
    addLayerControl();
    legend.addTo(map);
    wire();
    $("window").textContent = T("loading");
    state.path = [guessRoot()];
    const first = reload({ fit: true, trendLater: true });
    const taxonomy = g.api(API + "/taxonomy").then(function (a) { fillCategories(a.body); }).catch(failed);
    const hierarchy = await g.api(API + "/hierarchy").then(function (a) { return a.body; })
      .catch(function (e) { failed(e); return {}; });
    const root = rootOf(hierarchy);
    if (root && state.path.length === 1 && root.code === state.path[0].code) {
      const level = state.path[0].level;
      state.path = [root];
      if (root.level !== level) await reload({ fit: false }); else drawCrumbs();
    }
    first.catch(failed);
    await Promise.all([state.drawn, taxonomy]);
  }

  window.geogridLeader = { state: state, layers: layers };
  start().catch(failed).finally(function () {
    window.geogridReadyAt = performance.now();
    markReady(window.geogridReadyAt);
  });
})();
