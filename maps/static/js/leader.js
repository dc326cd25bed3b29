/* The leader page: for the leader's area, a heat map of incidents, a choropleth of cases per 1,000 households
   (street -> community -> grid, drill down by clicking), an H3 density layer, the hot spots, and a table of
   closure rate, open and overdue cases, cases closed late and time to close per area, filtered by category and
   time. A time window (the whole period, or a window of 1-8 weeks played back week by week at a chosen speed)
   drives every layer and the table. A collapsible panel ranks departments, areas and grid workers by the
   assessment (考核) over the same area and window, and exports it as a workbook. Every layer is aggregated by the server; every request goes to us; every
   text comes from the catalogue served with the page (maps/i18n.py).
   window.geogridReady resolves (to performance.now()) once the heat map, the choropleth and the table are drawn. */
(function () {
  "use strict";
  const g = window.geogrid;
  /* the filter form never navigates (no inline handler: the page's Content-Security-Policy allows none) */
  document.getElementById("filters").addEventListener("submit", function (event) { event.preventDefault(); });
  const API = "/api/v1";
  const CHILD = { district: "street", street: "community", community: "grid" };
  const COLOURS = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"];
  const map = g.map();
  const SVG = L.svg({ padding: 0.3 }); // areas and hot spots as SVG paths (the map prefers canvas) for clicks and tests
  const $ = function (id) { return document.getElementById(id); };
  const T = function (key) { return g.t(null, key); };
  const state = {
    path: [], filters: { category: "", since: "", until: "" }, weeks: [], step: null, playing: false, run: 0,
    rows: [], sort: { key: null, dir: 1 }, seq: {}, stale: { h3: true, spots: true }, categories: {},
    width: 1, stepMs: 900, legendsOpen: true,
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

  /* the time window shown, {since, until} (until excluded), or null for the whole filter period */
  function shownWindow() {
    return state.step === null || !state.weeks.length ? null : stepWindow(state.step);
  }

  /* query() over the window shown: what every layer and the table ask for (the trend asks for the whole period) */
  function windowed(extra) {
    return query(Object.assign({}, shownWindow() || {}, extra || {}));
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
    if (kind === "dec2") return value.toFixed(2);
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
      if (e.layer === layers.h3 && state.stale.h3) track(Promise.all([state.loading, loadH3().catch(failed)]));
      if (e.layer === layers.spots && state.stale.spots) track(Promise.all([state.loading, loadSpots().catch(failed)]));
      syncLegends();
    });
    map.on("overlayremove", syncLegends);
  }

  /* the legends: one control, a button that opens and closes it (closed at first on a phone, where four legends
     would cover much of the map), holding one legend per layer, each shown while its layer is on the map */
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    const box = L.DomUtil.create("div", "leader-legends");
    const toggle = g.el("button", { type: "button", class: "leader-legend-toggle",
      "aria-controls": "leader-legend-body", onclick: function () { openLegends(!state.legendsOpen); } },
    [g.el("span", { class: "leader-legend-title" }), g.el("i", { class: "leader-caret", "aria-hidden": "true" })]);
    const body = g.el("div", { id: "leader-legend-body", class: "leader-legend-body" });
    ["heat", "areas", "h3", "spots"].forEach(function (name) {
      body.appendChild(g.el("div", { class: "geogrid-legend leader-legend", "data-layer": name }));
    });
    box.append(body, toggle);  /* the button stays put at the corner; the legends open above it */
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  };
  function legendOf(name) {
    const box = legend.getContainer();
    return box ? box.querySelector('[data-layer="' + name + '"]') : null;
  }
  function openLegends(open) {
    state.legendsOpen = open;
    const box = legend.getContainer();
    if (!box) return;
    box.classList.toggle("collapsed", !open);
    const toggle = box.querySelector(".leader-legend-toggle");
    toggle.setAttribute("aria-expanded", String(open));
    toggle.setAttribute("title", T(open ? "hide_legends" : "show_legends"));
    syncLegends();
  }
  function syncLegends() {
    const on = Object.keys(layers).filter(function (name) { return map.hasLayer(layers[name]); });
    Object.keys(layers).forEach(function (name) {
      const box = legendOf(name);
      if (box) box.classList.toggle("hidden", !on.includes(name));
    });
    const box = legend.getContainer();
    if (box) {
      box.classList.toggle("hidden", !on.length);  /* no layer on the map: no legend to show */
      box.querySelector(".leader-legend-title").textContent = T("legends") + " · " + on.length;
    }
    notice.show(map.hasLayer(layers.spots) && state.noSpots);
  }

  /* a ramp from few to many, with its top value */
  function rampLegend(name, title, gradient, top) {
    const box = legendOf(name);
    if (!box) return;
    const ramp = g.el("span", { class: "leader-ramp", style: "background:linear-gradient(to right," + gradient + ")" });
    box.replaceChildren(g.el("strong", { text: title }), g.el("div", {}, [
      g.el("span", { text: T("heat_low") }), ramp, g.el("span", { text: T("heat_high") + (top ? " (" + top + ")" : "") }),
    ]));
  }

  function drawSpotsLegend(hot, cold) {
    const box = legendOf("spots");
    if (!box) return;
    box.replaceChildren(g.el("strong", { text: T("spots_legend") }),
      g.el("div", {}, [g.el("i", { style: "background:#e53935" }), T("hot") + " · " + hot]),
      g.el("div", {}, [g.el("i", { style: "background:#1e88e5" }), T("cold") + " · " + cold]));
    if (!hot && !cold) box.appendChild(g.el("div", { class: "leader-none", text: T("no_spots") }));
  }

  /* a message across the map (no significant hot spot), instead of a blank layer */
  const notice = L.control({ position: "topleft" });
  notice.onAdd = function () { return L.DomUtil.create("div", "leader-notice hidden"); };
  notice.show = function (on) {
    const box = notice.getContainer();
    if (!box) return;
    box.textContent = T("no_spots");
    box.classList.toggle("hidden", !on);
  };

  function drawLegend(breaks) {
    const box = legendOf("areas");
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
    const drawn = [loadAreas(options && options.fit).catch(failed), loadHeat().catch(failed)];
    /* on the first load the trend (playback) waits for the map and table: the server computes one thing less */
    const gen = (state.gen = (state.gen || 0) + 1);  /* a newer reload makes this one's late trend moot */
    const trend = options && options.trendLater
      ? Promise.all(drawn).then(function () { return gen === state.gen ? loadTrend() : null; })
      : loadTrend();
    const jobs = drawn.concat([trend.catch(failed)]);
    state.drawn = Promise.all(drawn);
    if (map.hasLayer(layers.h3)) jobs.push(loadH3().catch(failed));
    if (map.hasLayer(layers.spots)) jobs.push(loadSpots().catch(failed));
    jobs.push(loadRanking().catch(failed));
    return track(Promise.all(jobs));
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
    if (!rows.length) body.appendChild(g.el("tr", {}, [g.el("td", { colspan: "7", text: T("no_rows") })]));
  }

  function tableRow(row) {
    const cell = function (key, kind) {
      const value = row[key] === null || row[key] === undefined ? "" : String(row[key]);
      return g.el("td", { class: "num", "data-key": key, "data-value": value, text: fmt(row[key], kind) });
    };
    const tr = g.el("tr", { "data-code": row.code }, [
      g.el("td", { "data-key": "name", text: row.name || row.code }),
      cell("count"), cell("closure_rate", "rate"), cell("overdue_open"), cell("closed_late"),
      cell("median_hours_to_close", "dec"), cell("per_1000_households", "dec"),
    ]);
    if (row.overdue_open > 0) tr.children[3].classList.add("bad");
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
    const data = await latest("areas", API + "/density/areas?" + windowed({ level: level }));
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
      T("count") + ": " + fmt(p.count) + " · " + T("per_1000") + ": " + fmt(p.per_1000_households, "dec"), g.el("br"),
      T("overdue_open") + ": " + fmt(p.overdue_open) + " · " + T("closed_late") + ": " + fmt(p.closed_late),
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

  /* the heat map over the window shown */
  async function loadHeat() {
    const data = await latest("heat", API + "/density/heat?" + windowed({ zoom: Math.round(map.getZoom()) }));
    if (!data) return null;
    const top = data.max || 1;
    rampLegend("heat", T("heat_legend"), "blue,cyan 40%,lime 60%,yellow 80%,red", data.max);
    layers.heat.setOptions({ max: 1 });
    layers.heat.setLatLngs(data.points.map(function (p) {
      const at = g.toDisplay(p[1], p[0]);
      return [at.lat, at.lng, p[2] / top];
    }));
    return data;
  }

  async function loadH3() {
    state.stale.h3 = false;
    const data = await latest("h3", API + "/density/h3?" + windowed({ zoom: Math.round(map.getZoom()) }));
    if (!data) return;
    const top = Math.max.apply(null, data.features.map(function (f) { return f.properties.count; }).concat([1]));
    rampLegend("h3", T("h3_legend"), "rgba(57,73,171,0.1),rgba(57,73,171,0.7)", top);
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
    const data = await latest("spots", API + "/density/hotspots?" + windowed());
    if (!data) return;
    layers.spots.clearLayers();
    const marked = data.features.filter(function (f) { return spotKind(f.properties); });
    const hot = marked.filter(function (f) { return spotKind(f.properties) === "hot"; }).length;
    state.noSpots = !marked.length;
    drawSpotsLegend(hot, marked.length - hot);
    syncLegends();
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
    setStepRange();
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
      bar.setAttribute("class", "leader-bar");
      const title = document.createElementNS(NS, "title");
      title.textContent = w.week_start + ": " + w.count + " " + T("cases");
      bar.appendChild(title);
      bar.addEventListener("click", function () { stopPlayback(); showStep(i).catch(failed); });
      svg.appendChild(bar);
    });
    box.replaceChildren(svg);
  }

  /* the last step whose window of state.width weeks still lies within the weeks */
  function lastStep() { return Math.max(0, state.weeks.length - state.width); }
  function setStepRange() { $("step").max = String(lastStep()); }

  /* the window of step i: state.width weeks from week i, within the category and date filters */
  function stepWindow(i) {
    const last = Math.min(state.weeks.length - 1, i + state.width - 1);
    let since = state.weeks[i].week_start, until = addDays(state.weeks[last].week_start, 7);
    if (state.filters.since && state.filters.since > since) since = state.filters.since;
    if (state.filters.until && state.filters.until < until) until = state.filters.until;
    return { since: since, until: until, first: i, last: last };
  }

  /* which window the map and the table show: the weeks of the playback, or the whole filter period */
  function showWindow() {
    const out = $("window");
    const weeks = state.weeks;
    let text, from, to, total;
    if (state.step === null) {
      from = state.filters.since || (weeks.length ? weeks[0].week_start : "");
      to = state.filters.until ? addDays(state.filters.until, -1) : (weeks.length ? addDays(weeks[weeks.length - 1].week_start, 6) : "");
      total = weeks.reduce(function (s, w) { return s + w.count; }, 0);
      text = T("whole_period") + " " + from + " – " + to;
    } else {
      const w = stepWindow(state.step);
      from = w.since;
      to = addDays(w.until, -1);
      total = weeks.slice(w.first, w.last + 1).reduce(function (s, x) { return s + x.count; }, 0);
      const which = w.first === w.last
        ? T("one_week_of").replace("{a}", w.first + 1).replace("{n}", weeks.length)
        : T("week_of").replace("{a}", w.first + 1).replace("{b}", w.last + 1).replace("{n}", weeks.length);
      text = from + " – " + to + " · " + which;
    }
    out.textContent = T("shown") + ": " + text + " · " + total + " " + T("cases");
    out.dataset.step = state.step === null ? "" : String(state.step);
    out.dataset.since = state.step === null ? "" : stepWindow(state.step).since;
    out.dataset.until = state.step === null ? "" : stepWindow(state.step).until;
    const w = shownWindow();
    $("trend").querySelectorAll("rect").forEach(function (bar, i) {
      bar.classList.toggle("current", w !== null && i >= w.first && i <= w.last);
    });
  }

  /* every layer and the table over the window shown (layers switched off load when switched on) */
  function loadWindowed() {
    const jobs = [loadHeat(), loadAreas(false)];
    state.stale = { h3: true, spots: true };
    if (map.hasLayer(layers.h3)) jobs.push(loadH3());
    if (map.hasLayer(layers.spots)) jobs.push(loadSpots());
    jobs.push(loadRanking());
    return track(Promise.all(jobs));
  }

  /* the loads last started: settled() waits for them (and for loads they were replaced by) */
  function track(promise) {
    state.loading = promise;
    return promise;
  }
  async function settled() {
    let seen;
    do { seen = state.loading; await Promise.resolve(seen).catch(function () {}); } while (seen !== state.loading);
  }

  async function showStep(i) {
    if (!state.weeks.length) return;
    state.step = Math.min(i, lastStep());
    $("step").value = String(state.step);
    showWindow();
    await loadWindowed();
  }

  function setPlayButton(playing) {
    const button = $("play");
    const name = playing ? "pause" : "play";
    button.replaceChildren(g.icon(name), g.el("span", { text: T(name) }));
    button.dataset.state = playing ? "playing" : "paused";
  }

  async function play() {
    if (!state.weeks.length) return;
    const run = (state.run = (state.run || 0) + 1);
    state.playing = true;
    setPlayButton(true);
    let i = state.step === null || state.step >= lastStep() ? 0 : state.step + 1;
    while (state.playing && state.run === run && i <= lastStep()) {
      await showStep(i);
      await sleep(state.stepMs);
      i += 1;
    }
    if (state.run === run) stopPlayback();
  }

  function stopPlayback() {
    state.run = (state.run || 0) + 1;
    state.playing = false;
    setPlayButton(false);
  }

  function wholePeriod() {
    stopPlayback();
    state.step = null;
    showWindow();
    loadWindowed().catch(failed);
  }

  /* a new window width: the same first week, wider or narrower, within the weeks */
  function setWidth(weeks) {
    state.width = weeks;
    setStepRange();
    if (state.step !== null) showStep(Math.min(state.step, lastStep())).catch(failed); else showWindow();
  }

  /* --- the assessment ranking (考核排名) ------------------------------------------------------------------- */
  /* the levels ranked inside an area of each level: departments and grid workers everywhere, and the areas below */
  const RANKABLE = {
    district: ["department", "street", "community", "grid_worker"], street: ["department", "community", "grid_worker"],
    community: ["department", "grid_worker"], grid: ["department", "grid_worker"],
  };
  const RANK_KEY = { department: "department", street: "street", community: "community", grid_worker: "grid_code" };
  const RANKED = [["cases", null], ["checked_in_on_time", "rate"], ["handled_on_time", "rate"],
    ["median_hours_to_handle", "dec"], ["closure_rate", "rate"], ["satisfaction", "dec2"], ["reopened", "rate"],
    ["street_rating", "dec2"], ["score", "dec"]];
  const WEIGHTS = ["checked_in_on_time", "handled_on_time", "closure_rate", "satisfaction", "street_rating", "not_reopened"];

  /* the level selector's options: the levels the current area allows, keeping the one chosen when it still is */
  function fillRankingLevels() {
    const select = $("ranking-level");
    const allowed = RANKABLE[current().level] || RANKABLE.grid;
    const chosen = allowed.indexOf(select.value) >= 0 ? select.value : allowed[0];
    if (select.dataset.levels !== allowed.join()) {
      select.replaceChildren.apply(select, allowed.map(function (level) {
        return g.el("option", { value: level, text: T("level_" + level) });
      }));
      select.dataset.levels = allowed.join();
    }
    select.value = chosen;
    return chosen;
  }

  /* the ranking's period: the window shown (the playback's weeks, or the whole filter period) */
  function rankingPeriod() {
    const w = shownWindow();
    const since = w ? w.since : state.filters.since, until = w ? w.until : state.filters.until;
    const from = since || T("from_start"), to = until ? addDays(until, -1) : T("to_now");
    $("ranking-period").textContent = T("period") + ": " + from + " – " + to;
  }

  /* the ranking at the chosen level over the area and window shown; loaded only while its panel is open */
  async function loadRanking() {
    const level = fillRankingLevels();
    rankingPeriod();
    $("ranking-export").href = API + "/assessment?" + windowed({ format: "xlsx", lang: g.config.lang });
    if (!$("ranking").open) { state.rankingStale = true; return; }
    state.rankingStale = false;
    const data = await latest("ranking", API + "/assessment?" + windowed({ level: level, lang: g.config.lang }));
    if (data) drawRanking(data);
  }

  function drawRanking(data) {
    const table = $("ranking-table");
    const workers = data.level === "grid_worker";
    table.classList.toggle("with-worker", workers);
    const body = table.tBodies[0];
    body.replaceChildren();
    data.rows.forEach(function (row) {
      const cells = [
        g.el("td", { class: "num", "data-key": "rank", "data-value": row.rank === null ? "" : String(row.rank),
          text: fmt(row.rank) }),
        g.el("td", { "data-key": "name", text: row.name || row[RANK_KEY[data.level]] }),
      ];
      if (workers) cells.push(g.el("td", { "data-key": "worker", text: row.worker || "—" }));
      RANKED.forEach(function ([key, kind]) {
        const value = row[key] === null || row[key] === undefined ? "" : String(row[key]);
        cells.push(g.el("td", { class: "num", "data-key": key, "data-value": value, text: fmt(row[key], kind) }));
      });
      body.appendChild(g.el("tr", { "data-code": row[RANK_KEY[data.level]] }, cells));
    });
    if (!data.rows.length) body.appendChild(g.el("tr", {}, [g.el("td", { colspan: "12", text: T("no_ranked") })]));
    drawWeights(data.weights, data.deadlines);
    table.dataset.level = data.level;
    table.dataset.query = windowed({ level: data.level, lang: g.config.lang });
  }

  /* the weights of the score, each as its share of their sum, and the deadlines checked */
  function drawWeights(weights, deadlines) {
    const total = WEIGHTS.reduce(function (s, k) { return s + (weights[k] || 0); }, 0) || 1;
    const box = $("ranking-weights");
    box.replaceChildren(g.el("strong", { text: T("weights") + ": " }));
    WEIGHTS.forEach(function (key, i) {
      if (i) box.appendChild(document.createTextNode(" · "));
      box.appendChild(g.el("span", { "data-weight": key, "data-value": String(weights[key]),
        text: T(key) + " " + (100 * weights[key] / total).toFixed(0) + "%" }));
    });
    const handle = deadlines.handle_hours > 0
      ? T("handle_deadline").replace("{h}", deadlines.handle_hours) : T("handle_deadline_category");
    box.appendChild(g.el("div", { text: T("check_in_deadline").replace("{h}", deadlines.check_in_hours) + " · " + handle }));
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
    $("width").addEventListener("change", function () { setWidth(Number($("width").value)); });
    $("speed").addEventListener("change", function () { state.stepMs = Number($("speed").value); });
    $("step").addEventListener("input", function () { stopPlayback(); showStep(Number($("step").value)).catch(failed); });
    $("ranking").addEventListener("toggle", function () {
      if ($("ranking").open && state.rankingStale) track(Promise.all([state.loading, loadRanking().catch(failed)]));
    });
    $("ranking-level").addEventListener("change", function () {
      track(Promise.all([state.loading, loadRanking().catch(failed)]));
    });
    document.querySelectorAll("#area-table th[data-sort]").forEach(function (th) {
      th.addEventListener("click", function () { sortBy(th.dataset.sort); });
    });
    let timer = null;
    map.on("zoomend", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        loadHeat().catch(failed);
        if (map.hasLayer(layers.h3)) loadH3().catch(failed); else state.stale.h3 = true;
      }, 300);
    });
  }

  /* the window widths' options in words ("2 周", "2 weeks") */
  function labelWidths() {
    Array.from($("width").options).forEach(function (option) {
      option.textContent = option.value + " " + T(option.value === "1" ? "week_word" : "weeks");
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
    document.getElementById("open-desk").href = "/maps/desk?lang=" + g.config.lang;  /* the cases awaiting my step */
    g.addBasemap(map);
    addLayerControl();
    legend.addTo(map);
    notice.addTo(map);
    openLegends(window.innerWidth >= 700);
    setPlayButton(false);
    labelWidths();
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

  window.geogridLeader = { state: state, layers: layers, settled: settled, loadRanking: loadRanking };
  start().catch(failed).finally(function () {
    window.geogridReadyAt = performance.now();
    markReady(window.geogridReadyAt);
  });
})();
