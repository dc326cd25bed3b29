/* The planner page: pick a street and a community, see its grids and buildings, run the auto-partition,
   edit a draft by hand (move a building, redraw, merge, split) with the new counts and broken rules at once,
   undo, compare with the published plan, publish and export. Plain Leaflet + Geoman; every request to us. */
(function () {
  "use strict";
  const g = window.geogrid;
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#7f7f7f"];
  const API = "/api/v1";
  const map = g.map();
  const $ = function (id) { return document.getElementById(id); };
  const T = function (key) { return g.t(null, key); };  /* the catalogue of maps/i18n.py, served with the page */
  const state = {
    streets: [], community: null, plans: [], plan: null, revision: null, grids: [], buildings: {},
    colours: {}, neighbours: {}, selected: null, moving: null, tool: null, toolLayer: null, compareIds: new Set(),
    brush: { on: false, target: null, stroke: null, sending: false },
  };
  const layers = {
    grids: L.featureGroup().addTo(map),
    footprints: L.featureGroup().addTo(map),
    buildings: L.featureGroup().addTo(map),
    old: L.featureGroup().addTo(map),
    problems: L.featureGroup().addTo(map),
  };
  const PROBLEM_STYLE = { color: "#d00", weight: 2, fillColor: "#f00", fillOpacity: 0.55 };
  const OLD_STYLE = { color: "#000", weight: 3, dashArray: "2 6", fill: false, interactive: false };

  /* --- page chrome --------------------------------------------------------------------------------- */
  function addLegend() {
    const legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      return g.el("div", { class: "geogrid-legend planner-legend" }, [
        g.el("div", {}, [g.el("i", { class: "planner-dot" }), T("legend")]),
        g.el("div", {}, [g.el("i", { class: "planner-problem-swatch" }), T("problem_area")]),
        g.el("div", { id: "old-legend", class: "hidden" }, [g.el("i", { class: "planner-old-swatch" }), T("old_boundary")])]);
    };
    legend.addTo(map);
  }

  function busy(on) { document.body.classList.toggle("planner-busy", on); }

  async function guarded(work) {
    busy(true);
    try { return await work(); } catch (error) {
      g.toast(error.message, "error");
    } finally { busy(false); }
  }

  /* --- hierarchy: streets and communities -------------------------------------------------------- */
  async function loadHierarchy() {
    const tree = (await g.api(API + "/hierarchy")).body;
    state.streets = tree.districts.flatMap(function (d) { return d.children; });
    fillSelect($("street"), state.streets, function (s) { return s.name + " (" + s.code + ")"; });
    if (state.streets.length === 1) {
      $("street").value = state.streets[0].code;
      fillCommunities();
    }
  }

  function fillSelect(select, items, text) {
    select.replaceChildren(g.el("option", { value: "", text: T("pick") }));
    items.forEach(function (item) { select.appendChild(g.el("option", { value: item.code, text: text(item) })); });
  }

  function fillCommunities() {
    const street = state.streets.find(function (s) { return s.code === $("street").value; });
    fillSelect($("community"), street ? street.children : [], function (c) {
      const flag = c.grids_breaking_rules ? " ⚠" + c.grids_breaking_rules : "";
      return c.name + " · " + c.households + T("hh") + " · " + c.grid_count + T("grids") + flag;
    });
  }

  /* --- plans --------------------------------------------------------------------------------------- */
  async function openCommunity(code) {
    state.community = code;
    if (state.overview) state.overview.redraw();
    state.colours = {};
    clearCompare();
    if (!code) { $("plan-box").classList.add("hidden"); clearLayers(); return; }
    await loadPlans();
    const published = state.plans.find(function (p) { return p.status === "published"; });
    const draft = state.plans.find(function (p) { return p.status === "draft" && (!published || p.number > published.number); });
    const chosen = draft || published || state.plans[0];
    $("plan-box").classList.remove("hidden");
    if (chosen) await loadPlan(chosen.id, true);
  }

  async function loadPlans() {
    state.plans = (await g.api(API + "/communities/" + state.community + "/plans")).body;
    const select = $("version");
    select.replaceChildren();
    state.plans.forEach(function (p) {
      select.appendChild(g.el("option", { value: String(p.id), text: "v" + p.number + " · " + T(p.status) }));
    });
  }

  async function loadPlan(id, fit) {
    const detail = await g.api(API + "/plans/" + id);
    state.plan = detail.body;
    clearCompare();
    state.revision = etagRevision(detail.headers) || state.plan.revision;
    $("version").value = String(id);
    const grids = (await g.api(API + "/communities/" + state.community + "/grids?plan_id=" + id)).body;
    state.grids = grids.features;
    state.buildings = {};
    await Promise.all(state.grids.map(function (f) { return loadBuildings(f.properties.grid_code); }));
    state.moving = null;
    if (state.selected && !gridByCode(state.selected)) state.selected = null;
    renderAll();
    renderProblems([]);
    if (isDraft()) {
      const ready = (await g.api(API + "/plans/" + id + "/readiness")).body;
      renderProblems(ready.hard.concat(ready.limits));
    }
    if (fit && state.grids.length) map.fitBounds(layers.grids.getBounds(), { padding: [10, 10], animate: false });
  }

  async function loadBuildings(code) {
    const grid = (await g.api(API + "/grids/" + encodeURIComponent(code) + "?plan_id=" + state.plan.id)).body;
    state.buildings[code] = grid.buildings.features;
  }

  function etagRevision(headers) {
    const tag = headers && headers.get("ETag");
    return tag ? parseInt(tag.replace(/^W\//, "").replace(/"/g, ""), 10) : null;
  }

  function isDraft() { return state.plan && state.plan.status === "draft"; }

  function publishedPlan() { return state.plans.find(function (p) { return p.status === "published"; }); }

  /* --- drawing the community ----------------------------------------------------------------------- */
  function clearLayers() { Object.values(layers).forEach(function (layer) { layer.clearLayers(); }); }

  function renderAll() {
    computeNeighbours();
    assignColours();
    renderGrids();
    renderBuildings();
    renderPlanInfo();
    renderTable();
    renderTools();
    renderBrush();
  }

  function gridByCode(code) { return state.grids.find(function (f) { return f.properties.grid_code === code; }); }

  function shortCode(code) { return code.split("-").pop(); }

  /* the grids each grid shares an edge with, as the service measures it (a corner is not enough) */
  function computeNeighbours() {
    state.neighbours = {};
    state.grids.forEach(function (f) {
      state.neighbours[f.properties.grid_code] = new Set(f.properties.neighbours || []);
    });
  }

  /* keep a grid's colour across edits unless a neighbour has it; otherwise the first free colour */
  function assignColours() {
    const colours = {};
    state.grids.forEach(function (f) {
      const code = f.properties.grid_code;
      const taken = new Set(Array.from(state.neighbours[code] || []).map(function (n) { return colours[n]; }));
      const kept = state.colours[code];
      colours[code] = kept && !taken.has(kept) ? kept
        : (PALETTE.find(function (c) { return !taken.has(c) && !Object.values(colours).includes(c); })
          || PALETTE.find(function (c) { return !taken.has(c); }) || PALETTE[0]);
    });
    state.colours = colours;
  }

  function renderGrids() {
    layers.grids.clearLayers();
    g.geoJSON({ type: "FeatureCollection", features: state.grids }, {
      style: function (f) {
        const code = f.properties.grid_code;
        const chosen = code === state.selected;
        const parts = inParts(f.properties);
        return { color: chosen ? "#000" : parts ? PROBLEM_STYLE.color : state.colours[code], weight: chosen || parts ? 4 : 2,
          fillColor: parts ? PROBLEM_STYLE.fillColor : state.colours[code], fillOpacity: parts ? 0.4 : 0.25,
          dashArray: f.properties.breaks_a_rule ? "6 4" : null };
      },
      onEachFeature: function (f, layer) {
        layer.gridCode = f.properties.grid_code;
        layer.bindTooltip(shortCode(f.properties.grid_code) + " · " + f.properties.households + T("hh"),
          { permanent: true, direction: "center", className: "planner-label" });
        layer.on("click", function (e) { onGridClick(f.properties.grid_code, e); });
      },
    }).eachLayer(function (layer) { layers.grids.addLayer(layer); });
  }

  function inParts(p) { return (p.flags || []).some(function (x) { return x.rule === "several_parts"; }); }

  function ringCentre(geometry) {
    const ring = geometry.type === "MultiPolygon" ? geometry.coordinates[0][0] : geometry.coordinates[0];
    let x = 0, y = 0;
    const n = ring.length > 1 ? ring.length - 1 : 1;
    for (let i = 0; i < n; i++) { x += ring[i][0]; y += ring[i][1]; }
    return [x / n, y / n];
  }

  function radius(households) { return Math.max(4, Math.min(16, 2 + Math.sqrt(households || 0) * 0.8)); }

  function renderBuildings() {
    layers.footprints.clearLayers();
    layers.buildings.clearLayers();
    Object.entries(state.buildings).forEach(function ([code, features]) {
      g.geoJSON({ type: "FeatureCollection", features: features }, {
        interactive: false, style: { color: "#444", weight: 1, fillColor: "#999", fillOpacity: 0.4 },
      }).eachLayer(function (layer) { layers.footprints.addLayer(layer); });
      features.forEach(function (f) { addBuildingMarker(code, f); });
    });
  }

  function addBuildingMarker(code, f) {
    const c = ringCentre(f.geometry);
    const id = f.properties.building_id;
    const marker = L.circleMarker(g.toDisplay(c[0], c[1]), Object.assign({
      radius: radius(f.properties.households), fillColor: state.colours[code], fillOpacity: 0.9,
    }, markerStyle(id)));
    marker.buildingId = id;
    marker.gridCode = code;
    marker.building = f.properties;
    marker.on("click", function (e) { L.DomEvent.stop(e); if (!state.brush.on) selectBuilding(code, f, marker); });
    layers.buildings.addLayer(marker);
  }

  /* --- the side panel ---------------------------------------------------------------------------- */
  function renderPlanInfo() {
    const p = state.plan;
    $("plan-status").textContent = T(p.status) + " · " + T("revision") + " " + state.revision;
    $("plan-status").className = "planner-status planner-" + p.status;
    const hh = sum("households"), pop = sum("population");
    const broken = state.grids.filter(function (f) { return f.properties.breaks_a_rule; }).length;
    $("plan-totals").textContent = T("totals") + ": " + state.grids.length + " " + T("grids") + " · " + hh + " " + T("hh")
      + " · " + pop + " " + T("people") + " · " + broken + " " + T("grids_breaking");
    $("new-draft").disabled = false;
    ["undo", "redo", "publish"].forEach(function (id) { $(id).disabled = !isDraft(); });
    $("compare").disabled = !publishedPlan() || publishedPlan().id === p.id;
  }

  function sum(key) { return state.grids.reduce(function (a, f) { return a + (f.properties[key] || 0); }, 0); }

  function ruleCell(p) {
    const flags = p.flags || [];
    if (!p.breaks_a_rule) return g.el("td", { class: "good", text: "✓ " + T("ok") });
    const names = flags.map(function (f) { return T("rule." + f.rule); });
    return g.el("td", { class: "bad", title: flags.map(g.flagReason).join("\n"),
      text: (names.length ? names : ["✗"]).join(g.config.lang === "en" ? ", " : "、") });
  }

  function renderTable() {
    const body = $("grid-table").querySelector("tbody");
    body.replaceChildren();
    state.grids.forEach(function (f) {
      const p = f.properties;
      const bad = function (rule) { return (p.flags || []).some(function (x) { return x.rule.endsWith(rule); }); };
      const row = g.el("tr", { "data-grid": p.grid_code, class: p.grid_code === state.selected ? "planner-selected" : "" }, [
        g.el("td", {}, [g.el("i", { class: "planner-swatch", style: "background:" + state.colours[p.grid_code] })]),
        g.el("td", { text: shortCode(p.grid_code), title: p.grid_code }),
        g.el("td", { class: "num households" + (bad("households") ? " bad" : ""), text: String(liveCount(p, "households")) }),
        g.el("td", { class: "num population" + (bad("population") ? " bad" : ""), text: String(liveCount(p, "population")) }),
        g.el("td", { class: "num", text: String(p.building_count) }),
        ruleCell(p),
      ]);
      row.addEventListener("click", function () { selectGrid(p.grid_code, true); });
      body.appendChild(row);
    });
    renderBars();
  }

  /* plan-wide problems listed, and the gaps, overlaps and area outside the community drawn in red */
  function renderProblems(problems) {
    const box = $("problems");
    box.replaceChildren();
    layers.problems.clearLayers();
    const planWide = (problems || []).filter(function (x) { return !x.grid_code; });
    drawProblemAreas(planWide);
    if (!planWide.length) return;
    box.appendChild(g.el("h2", { text: T("plan_problems") }));
    box.appendChild(problemList(planWide));
  }

  function drawProblemAreas(problems) {
    problems.filter(function (x) { return x.geometry; }).forEach(function (x) {
      g.geoJSON({ type: "Feature", geometry: x.geometry, properties: {} }, { style: PROBLEM_STYLE, interactive: false })
        .eachLayer(function (layer) { layer.problemRule = x.rule; layers.problems.addLayer(layer); });
    });
  }

  function problemList(problems) {
    const list = g.el("ul");
    problems.forEach(function (x) {
      const where = x.grid_code ? shortCode(x.grid_code) + " · " : "";
      const item = g.el("li", { class: "bad", "data-rule": x.rule, text: where + T("rule." + x.rule) + ": " + g.flagReason(x) });
      if (x.at) item.addEventListener("click", function () { map.setView(g.toDisplay(x.at[0], x.at[1]), 18); });
      list.appendChild(item);
    });
    return list;
  }

  /* --- selecting --------------------------------------------------------------------------------- */
  function selectGrid(code, zoom) {
    state.selected = code;
    if (state.brush.on && !state.brush.stroke) { state.brush.target = code; renderBrush(); }
    renderGrids();
    renderTable();
    renderTools();
    if (zoom) {
      const layer = gridLayer(code);
      if (layer) map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 18 });
    }
  }

  function gridLayer(code) {
    let found = null;
    layers.grids.eachLayer(function (layer) { if (layer.gridCode === code) found = layer; });
    return found;
  }

  function onGridClick(code, e) {
    if (state.tool || state.brush.on) return;
    if (state.moving && state.moving.grid !== code) {
      L.DomEvent.stop(e);
      moveBuilding(state.moving.id, code, state.moving.units ? state.moving.grid : null);
      return;
    }
    selectGrid(code, false);
  }

  /* the grids `code` may merge with or pass a building to: its neighbours */
  function targetsFor(code) {
    return Array.from(state.neighbours[code] || []).sort();
  }

  function selectBuilding(code, f, marker) {
    const p = f.properties;
    state.moving = isDraft() ? { id: p.building_id, grid: code, units: p.units || "" } : null;
    const rows = [[T("address"), p.address || p.building_id], [T("households"), p.households], [T("population"), p.population],
      [T("floors"), p.floors], [T("in_grid"), code]];
    if (p.units) rows.push([T("units"), p.units]);  /* a tower split by units: only these units move */
    const box = g.el("div", { class: "planner-popup" }, [g.el("strong", { text: p.building_id })]);
    rows.forEach(function (r) { box.appendChild(g.el("div", { text: r[0] + ": " + (r[1] === null || r[1] === undefined ? "—" : r[1]) })); });
    if (isDraft()) {
      const select = g.el("select", { class: "planner-move-to", "aria-label": T("move_to") });
      targetsFor(code).forEach(function (c) {
        const grid = gridByCode(c).properties;
        select.appendChild(g.el("option", { value: c, text: shortCode(c) + " · " + grid.households + T("hh") }));
      });
      box.appendChild(g.el("label", {}, [T("move_to") + " ", select]));
      box.appendChild(g.el("button", { type: "button", class: "planner-move", text: T("move"),
        onclick: function () { moveBuilding(p.building_id, select.value, p.units ? code : null); } }));
      box.appendChild(g.el("div", { class: "planner-hint", text: T("click_target") }));
    } else {
      box.appendChild(g.el("div", { class: "planner-hint", text: T("need_draft") }));
    }
    const popup = L.popup({ maxWidth: 260 }).setLatLng(marker.getLatLng()).setContent(box).openOn(map);
    popup.once("remove", function () {
      window.setTimeout(function () {
        if (state.moving && state.moving.id === p.building_id) { state.moving = null; restyleBuildings(); }
      }, 0);
    });
    restyleBuildings();
  }

  function markerStyle(id) {
    const chosen = state.moving && state.moving.id === id;
    const changed = state.compareIds.has(id);
    return { color: chosen ? "#000" : changed ? "#e00" : "#fff", weight: chosen || changed ? 3 : 1.5 };
  }

  function restyleBuildings() {
    layers.buildings.eachLayer(function (marker) { marker.setStyle(markerStyle(marker.buildingId)); });
  }

  /* --- edits --------------------------------------------------------------------------------------- */
  async function edit(path, body) {
    if (!isDraft()) { g.toast(T("need_draft"), "error"); return null; }
    try {
      const answer = await g.api(API + "/plans/" + state.plan.id + path,
        { method: "POST", json: body, headers: { "If-Match": '"' + state.revision + '"' } });
      state.revision = answer.body.revision;
      return answer.body;
    } catch (error) {
      if (error.status === 412) { await loadPlan(state.plan.id, false); g.toast(T("stale"), "error"); return null; }
      throw error;
    }
  }

  /* show an edit's answer at once (touched grids' counts, broken rules), then fetch the new shapes */
  async function applyAnswer(answer, verb) {
    if (!answer) return;
    clearCompare();
    const before = {};
    state.grids.forEach(function (f) { before[f.properties.grid_code] = f.properties.households; });
    answer.grids.forEach(function (touched) {
      const f = gridByCode(touched.code);
      if (f) Object.assign(f.properties, touched);
    });
    renderTable();
    renderProblems(answer.problems);
    const summary = answer.grids.map(function (x) {
      const was = before[x.code];
      return shortCode(x.code) + ": " + (was === undefined ? "" : was + "→") + x.households + T("hh");
    }).join(g.config.lang === "en" ? ", " : "，");
    const deleted = (answer.removed || []).map(shortCode).join(", ");
    g.toast(T(verb) + (summary ? " · " + summary : "") + (deleted ? " · " + T("deleted_grid") + " " + deleted : ""),
      deleted ? "error" : "info");
    await refreshGrids(answer.grids.map(function (x) { return x.code; }), answer.removed);
    renderProblems(answer.problems);
  }

  async function refreshGrids(touched, removed) {
    const grids = (await g.api(API + "/communities/" + state.community + "/grids?plan_id=" + state.plan.id)).body;
    state.grids = grids.features;
    (removed || []).forEach(function (code) { delete state.buildings[code]; });
    const known = new Set(Object.keys(state.buildings));
    const stale = state.grids.map(function (f) { return f.properties.grid_code; })
      .filter(function (code) { return touched.includes(code) || !known.has(code); });
    await Promise.all(stale.map(loadBuildings));
    state.moving = null;
    if (state.selected && !gridByCode(state.selected)) state.selected = null;
    renderAll();
  }

  /* fromGrid: for a tower split by units, move only its units in that grid */
  function moveBuilding(buildingId, toGrid, fromGrid) {
    map.closePopup();
    const body = { op: "move_building", building_id: buildingId, to_grid: toGrid };
    if (fromGrid) body.from_grid = fromGrid;
    return guarded(async function () {
      const answer = await edit("/edits", body);
      await applyAnswer(answer, "moved");
    });
  }

  function undo() {
    return guarded(async function () {
      try {
        const answer = await edit("/undo");
        await applyAnswer(answer, "undone");
      } catch (error) {
        if (error.status === 409) g.toast(T("nothing"), "error"); else throw error;
      }
    });
  }

  function redo() {
    return guarded(async function () {
      try {
        const answer = await edit("/redo");
        await applyAnswer(answer, "redone");
      } catch (error) {
        if (error.status === 409) g.toast(T("nothing_redo"), "error"); else throw error;
      }
    });
  }

  /* a drawn layer's geometry in WGS-84 (what the API takes) */
  function toWgs(geometry) {
    function walk(c) {
      if (typeof c[0] === "number") return g.fromDisplay(L.latLng(c[1], c[0]));
      return c.map(walk);
    }
    return { type: geometry.type, coordinates: walk(geometry.coordinates) };
  }

  function renderTools() {
    const show = isDraft() && state.selected && gridByCode(state.selected);
    $("grid-tools").classList.toggle("hidden", !show);
    if (!show) return;
    $("selected-grid").textContent = T("selected") + " " + shortCode(state.selected);
    const merge = $("merge-with");
    merge.replaceChildren();
    targetsFor(state.selected).forEach(function (c) { merge.appendChild(g.el("option", { value: c, text: shortCode(c) })); });
    const drawing = Boolean(state.tool);
    ["draw", "edit-shape", "split", "merge", "merge-with"].forEach(function (id) { $(id).disabled = drawing; });
    if (!merge.options.length) { $("merge").disabled = true; $("merge-with").disabled = true; }
    $("cancel-tool").classList.toggle("hidden", !drawing);
    $("save-shape").classList.toggle("hidden", state.tool !== "edit");
  }

  function startTool(kind) {
    stopTool();
    stopBrush();
    state.tool = kind;
    state.moving = null;
    map.closePopup();
    if (kind === "edit") {
      const layer = gridLayer(state.selected);
      layer.unbindTooltip();
      layer.pm.enable({ allowSelfIntersection: false });
      state.toolLayer = layer;
      g.toast(T("edit_hint"));
    } else {
      map.pm.enableDraw(kind === "draw" ? "Polygon" : "Line", { snappable: true, finishOn: "dblclick" });
      g.toast(T(kind === "draw" ? "draw_hint" : "split_hint"));
    }
    renderTools();
  }

  function stopTool() {
    if (map.pm) map.pm.disableDraw();
    if (state.toolLayer && state.toolLayer.pm) state.toolLayer.pm.disable();
    state.tool = null;
    state.toolLayer = null;
  }

  function cancelTool() {
    stopTool();
    renderAll();
  }

  function onDrawn(e) {
    const kind = state.tool;
    const geometry = toWgs(e.layer.toGeoJSON().geometry);
    map.removeLayer(e.layer);
    stopTool();
    const grid = state.selected;
    const body = kind === "draw" ? { op: "replace_boundary", grid_code: grid, geometry: geometry }
      : { op: "split", grid_code: grid, geometry: geometry };
    return guarded(async function () {
      try { await applyAnswer(await edit("/edits", body), "saved"); } finally { renderAll(); }
    });
  }

  function saveShape() {
    const layer = state.toolLayer;
    if (!layer) return null;
    const geometry = toWgs(layer.toGeoJSON().geometry);
    const grid = state.selected;
    stopTool();
    return guarded(async function () {
      try { await applyAnswer(await edit("/edits", { op: "replace_boundary", grid_code: grid, geometry: geometry }), "saved"); }
      finally { renderAll(); }
    });
  }

  function mergeGrids() {
    const other = $("merge-with").value;
    if (!other) return null;
    return guarded(async function () {
      await applyAnswer(await edit("/edits", { op: "merge", grids: [state.selected, other] }), "saved");
    });
  }

  /* --- the brush (issue 20): press and drag over the map; each building the brush passes joins the target grid at
     once, with the grids' counts live (from the buildings' own counts); on release one edit moves them all --------- */
  function liveCount(p, key) {
    const stroke = state.brush.stroke;
    const delta = stroke && stroke.delta[p.grid_code];
    return (p[key] || 0) + (delta ? delta[key] : 0);
  }

  function brushRadius() { return parseInt($("brush-size").value, 10) || 18; }

  function renderBrush() {
    const show = isDraft() && state.grids.length > 0;
    $("brush-box").classList.toggle("hidden", !show);
    if (!show) { stopBrush(); return; }
    const codes = state.grids.map(function (f) { return f.properties.grid_code; });
    if (!codes.includes(state.brush.target)) {
      state.brush.target = state.selected && codes.includes(state.selected) ? state.selected : codes[0];
    }
    const select = $("brush-target");
    select.replaceChildren();
    state.grids.forEach(function (f) {
      const p = f.properties;
      select.appendChild(g.el("option", { value: p.grid_code, text: shortCode(p.grid_code) + " · " + liveCount(p, "households") + T("hh") }));
    });
    select.value = state.brush.target;
    select.style.borderLeft = "10px solid " + (state.colours[state.brush.target] || "#888");
    select.disabled = Boolean(state.brush.stroke);
    const button = $("brush");
    button.textContent = T(state.brush.on ? "planner.brush.stop" : "planner.brush.start");
    button.setAttribute("aria-pressed", String(state.brush.on));
    button.classList.toggle("planner-on", state.brush.on);
    button.disabled = state.brush.sending;
    renderBrushLive();
  }

  /* while painting: how many buildings, and each grid the stroke changes, from → to */
  function renderBrushLive() {
    const box = $("brush-live");
    const stroke = state.brush.stroke;
    if (!state.brush.on) { box.textContent = ""; return; }
    if (!stroke || !stroke.painted.size) { box.textContent = T("planner.brush.hint"); return; }
    const parts = Object.keys(stroke.delta).sort().map(function (code) {
      const f = gridByCode(code);
      if (!f) return "";
      return shortCode(code) + ": " + f.properties.households + "→" + liveCount(f.properties, "households") + T("hh");
    }).filter(Boolean);
    box.textContent = T("planner.brush.painting") + " " + stroke.painted.size + T("planner.brush.buildings") + " · "
      + parts.join(g.config.lang === "en" ? ", " : "，");
  }

  function startBrush() {
    if (!isDraft()) { g.toast(T("need_draft"), "error"); return; }
    stopTool();
    state.moving = null;
    map.closePopup();
    state.brush.on = true;
    ["dragging", "touchZoom", "doubleClickZoom", "boxZoom"].forEach(function (h) { if (map[h]) map[h].disable(); });
    map.getContainer().classList.add("planner-brushing");
    renderBrush();
    renderTools();
  }

  function stopBrush() {
    if (!state.brush.on) return;
    if (state.brush.stroke && !state.brush.sending) rollback(state.brush.stroke);
    state.brush.on = false;
    ["dragging", "touchZoom", "doubleClickZoom", "boxZoom"].forEach(function (h) { if (map[h]) map[h].enable(); });
    map.getContainer().classList.remove("planner-brushing");
    hideCursor();
  }

  function brushCursor() {
    let cursor = map.getContainer().querySelector(".planner-brush-cursor");
    if (!cursor) {
      cursor = g.el("div", { class: "planner-brush-cursor" });
      map.getContainer().appendChild(cursor);
    }
    return cursor;
  }

  function showCursor(at) {
    if (!state.brush.on || !at) return;
    const r = brushRadius();
    const cursor = brushCursor();
    Object.assign(cursor.style, { display: "block", width: 2 * r + "px", height: 2 * r + "px",
      left: at.x - r + "px", top: at.y - r + "px", borderColor: state.colours[state.brush.target] || "#000" });
  }

  function hideCursor() {
    const cursor = map.getContainer().querySelector(".planner-brush-cursor");
    if (cursor) cursor.style.display = "none";
  }

  /* the distance in pixels from point p to the segment a-b */
  function toSegment(p, a, b) {
    const dx = b.x - a.x, dy = b.y - a.y;
    const length2 = dx * dx + dy * dy;
    const t = length2 ? Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / length2)) : 0;
    return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
  }

  /* paint every building whose marker the brush (a circle of brushRadius pixels) touches between a and b */
  function paintAlong(a, b) {
    const stroke = state.brush.stroke;
    const r = brushRadius();
    let changed = false;
    layers.buildings.eachLayer(function (marker) {
      const id = marker.buildingId;
      if (marker.gridCode === stroke.target || stroke.painted.has(id)) return;
      if (toSegment(map.latLngToContainerPoint(marker.getLatLng()), a, b) > r + marker.getRadius()) return;
      if (marker.building.units) { stroke.skipped.add(id); return; }  /* a tower split by units moves on its own */
      const b0 = marker.building;
      const painted = { from: marker.gridCode, households: b0.households || 0, population: b0.population || 0, marker: marker };
      stroke.painted.set(id, painted);
      [[painted.from, -1], [stroke.target, 1]].forEach(function ([code, sign]) {
        const d = stroke.delta[code] || (stroke.delta[code] = { households: 0, population: 0 });
        d.households += sign * painted.households;
        d.population += sign * painted.population;
      });
      marker.setStyle({ fillColor: state.colours[stroke.target], color: "#000", weight: 2 });
      changed = true;
    });
    if (changed) { renderTable(); renderBrushLive(); relabelGrids(Object.keys(stroke.delta)); }
  }

  /* the grids' labels on the map with their counts as they stand (live while painting) */
  function relabelGrids(codes) {
    codes.forEach(function (code) {
      const layer = gridLayer(code), f = gridByCode(code);
      if (layer && f && layer.getTooltip()) layer.setTooltipContent(shortCode(code) + " · " + liveCount(f.properties, "households") + T("hh"));
    });
  }

  /* the stroke undone on the map: the buildings' own colours and the grids' counts as the server has them */
  function rollback(stroke) {
    stroke.painted.forEach(function (b) {
      b.marker.setStyle(Object.assign({ fillColor: state.colours[b.from] }, markerStyle(b.marker.buildingId)));
    });
    state.brush.stroke = null;
    relabelGrids(Object.keys(stroke.delta));
    renderTable();
    renderBrush();
  }

  /* why the server refused a stroke, in the page's language */
  function refusalReason(error) {
    if (g.config.lang === "en") return error.detail || error.message;
    const detail = error.detail || "";
    if (detail.includes("does not border")) return T("planner.brush.not_neighbour");
    if (detail.includes("would leave")) return T("planner.brush.not_whole");
    if (detail.includes("split by units")) return T("planner.brush.split_tower");
    return error.message;
  }

  function finishStroke() {
    const stroke = state.brush.stroke;
    if (stroke.skipped.size) g.toast(T("planner.brush.towers_skipped"), "error");
    if (!stroke.painted.size) { state.brush.stroke = null; renderBrush(); return null; }
    state.brush.sending = true;
    renderBrush();
    const body = { op: "move_buildings", building_ids: Array.from(stroke.painted.keys()), to_grid: stroke.target };
    return guarded(async function () {
      let answer;
      try {
        answer = await edit("/edits", body);
      } catch (error) {
        state.brush.sending = false;
        rollback(stroke);
        g.toast(T("planner.brush.refused") + " " + refusalReason(error), "error");
        return;
      }
      state.brush.sending = false;
      state.brush.stroke = null;
      if (!answer) { renderAll(); return; }  /* the plan had changed: reloaded */
      await applyAnswer(answer, "planner.brush.painted");
    });
  }

  function onBrushDown(e) {
    if (!state.brush.on || state.brush.sending || state.brush.stroke || e.button > 0) return;
    if (e.target.closest && e.target.closest(".leaflet-control")) return;
    e.preventDefault();
    e.stopPropagation();
    try { map.getContainer().setPointerCapture(e.pointerId); } catch (err) { /* already released */ }
    const at = map.mouseEventToContainerPoint(e);
    state.brush.stroke = { target: state.brush.target, painted: new Map(), delta: {}, skipped: new Set(), last: at,
      pointer: e.pointerId };
    showCursor(at);
    renderBrush();
    paintAlong(at, at);
  }

  function onBrushMove(e) {
    if (!state.brush.on) return;
    const at = map.mouseEventToContainerPoint(e);
    showCursor(at);
    const stroke = state.brush.stroke;
    if (!stroke || state.brush.sending || e.pointerId !== stroke.pointer) return;
    e.preventDefault();
    e.stopPropagation();
    paintAlong(stroke.last, at);
    stroke.last = at;
  }

  function onBrushUp(e) {
    const stroke = state.brush.stroke;
    if (!state.brush.on || !stroke || state.brush.sending || e.pointerId !== stroke.pointer) return;
    e.preventDefault();
    e.stopPropagation();
    finishStroke();
  }

  function wireBrush() {
    $("brush").addEventListener("click", function () {
      if (state.brush.on) { stopBrush(); renderBrush(); renderTools(); } else startBrush();
    });
    $("brush-target").addEventListener("change", function (e) { state.brush.target = e.target.value; renderBrush(); });
    const box = map.getContainer();
    box.addEventListener("pointerdown", onBrushDown, true);
    box.addEventListener("pointermove", onBrushMove, true);
    box.addEventListener("pointerup", onBrushUp, true);
    box.addEventListener("pointercancel", onBrushUp, true);
    box.addEventListener("pointerleave", function () { if (!state.brush.stroke) hideCursor(); });
  }

  /* --- per grid: households and residents against the rule windows, and compactness (all sent by the server) --- */
  function windowText(w) {
    if (!w) return "";
    const [low, high] = w;
    if (high === null) return "≥" + low;
    return low > 0 ? low + "–" + high : "≤" + high;
  }

  /* where a count stands against its window [low, high] (high null: none): inside, near an edge (within near_share of
     a bound) or outside, and how far from the window (outside) or from its nearer edge (inside) */
  function standing(value, w, near) {
    const [low, high] = w;
    if (low > 0 && value < low) return { status: "bad", text: T("planner.bars.below").replace("{n}", low - value) };
    if (high !== null && value > high) return { status: "bad", text: T("planner.bars.above").replace("{n}", value - high) };
    const room = Math.min(low > 0 ? value - low : Infinity, high !== null ? high - value : Infinity);
    const close = (low > 0 && value < low * (1 + near)) || (high !== null && value > high * (1 - near));
    return { status: close ? "near" : "good", text: room === Infinity ? "" : T("planner.bars.room").replace("{n}", room) };
  }

  function countBar(kind, value, w, near) {
    if (!w || (w[0] <= 0 && w[1] === null)) return g.el("div", { class: "planner-bar planner-bar-none", text: "—" });
    const [low, high] = w;
    const top = Math.max(high === null ? low * 1.5 : high * 1.2, value * 1.05, 1);
    const where = standing(value, w, near);
    const pct = function (x) { return Math.max(0, Math.min(100, (100 * x) / top)).toFixed(1) + "%"; };
    const track = g.el("div", { class: "planner-bar-track" }, [
      g.el("i", { class: "planner-bar-window", style: "left:" + pct(low) + ";width:" + (high === null ? "100%" : pct(high - low)) }),
      g.el("i", { class: "planner-bar-fill " + where.status, style: "width:" + pct(value) }),
    ]);
    return g.el("div", { class: "planner-bar " + where.status, "data-kind": kind, "data-value": String(value),
      "data-status": where.status, title: T("planner.bars." + kind) + " " + value + " · " + T("planner.bars.window") + " "
        + windowText(w) + " · " + T("planner.bars." + (where.status === "bad" ? "outside" : where.status === "near" ? "near" : "inside")) }, [
      g.el("span", { class: "planner-bar-text", text: value + (where.text ? " · " + where.text : "") }), track]);
  }

  function renderBars() {
    const box = $("grid-bars");
    box.replaceChildren();
    const limits = state.plan && state.plan.limits;
    if (!limits) { $("bars-windows").textContent = ""; return; }
    $("bars-windows").textContent = T("planner.bars.window") + (g.config.lang === "en" ? ": " : "：") + T("planner.bars.households") + " "
      + windowText(limits.households) + " · " + T("planner.bars.population") + " " + windowText(limits.population);
    box.appendChild(g.el("div", { class: "planner-gridbar planner-gridbar-head" }, [g.el("span", { text: T("grid") }),
      g.el("span", { text: T("planner.bars.households") }), g.el("span", { text: T("planner.bars.population") }),
      g.el("span", { text: T("planner.bars.compactness"), title: T("planner.bars.compactness_hint") })]));
    state.grids.forEach(function (f) {
      const p = f.properties;
      const c = p.compactness === null || p.compactness === undefined ? null : Number(p.compactness);
      const row = g.el("div", { class: "planner-gridbar" + (p.grid_code === state.selected ? " planner-selected" : ""),
        "data-grid": p.grid_code }, [
        g.el("span", {}, [g.el("i", { class: "planner-swatch", style: "background:" + state.colours[p.grid_code] }),
          " " + shortCode(p.grid_code)]),
        countBar("households", liveCount(p, "households"), limits.households, limits.near_share),
        countBar("population", liveCount(p, "population"), limits.population, limits.near_share),
        g.el("div", { class: "planner-compact", "data-value": c === null ? "" : c.toFixed(4),
          title: T("planner.bars.compactness_hint") }, [
          g.el("span", { text: c === null ? "—" : c.toFixed(2) }),
          g.el("div", { class: "planner-bar-track" }, [g.el("i", { class: "planner-bar-fill compact",
            style: "width:" + (c === null ? 0 : Math.round(c * 100)) + "%" })])]),
      ]);
      row.addEventListener("click", function () { selectGrid(p.grid_code, true); });
      box.appendChild(row);
    });
  }

  /* --- versions: draft, publish, compare, export --------------------------------------------------- */
  function newDraft() {
    return guarded(async function () {
      const made = (await g.api(API + "/plans/" + state.plan.id + "/drafts", { method: "POST" })).body;
      await loadPlans();
      await loadPlan(made.id, false);
      g.toast(T("new_version") + " v" + made.number);
    });
  }

  /* publishing: a dialog lists what breaks (hard rules: refused; limits: a reason is needed), then publishes */
  function publish() {
    return guarded(async function () {
      const ready = (await g.api(API + "/plans/" + state.plan.id + "/readiness")).body;
      renderProblems(ready.hard.concat(ready.limits));
      $("publish-hard").replaceChildren();
      $("publish-limits").replaceChildren();
      if (ready.hard.length) $("publish-hard").append(g.el("p", { class: "bad", text: T("hard_problems") }), problemList(ready.hard));
      if (ready.limits.length) $("publish-limits").append(g.el("p", { text: T("limit_problems") }), problemList(ready.limits));
      if (!ready.hard.length && !ready.limits.length) $("publish-limits").append(g.el("p", { class: "good", text: T("all_rules_met") }));
      $("publish-reason-box").classList.toggle("hidden", !ready.needs_reason);
      $("publish-reason").value = "";
      $("publish-confirm").disabled = ready.hard.length > 0;
      $("publish-dialog").dataset.needsReason = ready.needs_reason ? "1" : "";
      $("publish-dialog").showModal();
    });
  }

  function confirmPublish() {
    const reason = $("publish-reason").value.trim();
    if ($("publish-dialog").dataset.needsReason && !reason) { g.toast(T("reason_needed"), "error"); return null; }
    $("publish-dialog").close();
    return guarded(async function () {
      const done = await g.api(API + "/plans/" + state.plan.id + "/publish", { method: "POST",
        json: reason ? { reason: reason } : {}, headers: { "If-Match": '"' + state.revision + '"' } });
      await loadPlans();
      await loadPlan(done.body.id, false);
      g.toast(T("published_ok") + " v" + done.body.number);
    });
  }

  function clearCompare() {
    state.compareIds = new Set();
    layers.old.clearLayers();
    if ($("old-legend")) $("old-legend").classList.add("hidden");
    $("compare-out").classList.add("hidden");
    $("compare-out").replaceChildren();
  }

  function compare() {
    const published = publishedPlan();
    const out = $("compare-out");
    if (!published) { g.toast(T("no_published"), "error"); return null; }
    if (published.id === state.plan.id) { g.toast(T("same_plan")); return null; }
    return guarded(async function () {
      const c = (await g.api(API + "/plans/compare?a=" + published.id + "&b=" + state.plan.id)).body;
      state.compareIds = new Set(c.changes.map(function (x) { return x.building_id; }));
      out.replaceChildren(g.el("div", { text: "v" + published.number + " → v" + state.plan.number + ": " + T("changed") + " "
        + c.buildings_changed + " · " + T("moved_households") + " " + c.households_moved }));
      const list = g.el("ul");
      c.changes.slice(0, 50).forEach(function (x) {
        const grids = function (codes) { return codes ? codes.split(",").map(shortCode).join("+") : "—"; };
        list.appendChild(g.el("li", { text: x.building_id + ": " + grids(x.grid_a) + " → " + grids(x.grid_b)
          + (x.units ? " [" + x.units + "]" : "") + " (" + x.households + T("hh") + ")" }));
      });
      out.appendChild(list);
      out.classList.remove("hidden");
      restyleBuildings();
      const old = (await g.api(API + "/communities/" + state.community + "/grids?plan_id=" + published.id)).body;
      g.geoJSON(old, { style: OLD_STYLE }).eachLayer(function (layer) { layers.old.addLayer(layer); });
      layers.old.bringToFront();
      $("old-legend").classList.remove("hidden");
    });
  }

  function exportPlan() {
    const format = $("export-format").value;
    return guarded(async function () {
      const response = await fetch(API + "/plans/" + state.plan.id + "/export?format=" + format,
        { credentials: "same-origin" });
      if (!response.ok) {  /* the refusal in the page's language (its code's sentence), else "failed" */
        let body = null;
        try { body = JSON.parse(await response.text()); } catch (e) { /* not JSON */ }
        throw new Error(g.refusalSentence(body) || T("failed") + " (" + response.status + ")");
      }
      const disposition = response.headers.get("Content-Disposition") || "";
      const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || "plan." + format;
      const url = URL.createObjectURL(await response.blob());
      const link = g.el("a", { href: url, download: name });
      document.body.appendChild(link);
      link.click();
      link.remove();
      window.setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    });
  }

  /* after an auto-partition: say whether the new draft is the published plan again */
  async function sayIfIdentical() {
    const published = publishedPlan();
    $("job-note").textContent = "";
    if (!published || published.id === state.plan.id) return;
    const c = (await g.api(API + "/plans/compare?a=" + published.id + "&b=" + state.plan.id)).body;
    $("job-note").textContent = c.buildings_changed === 0 ? T("identical") : T("differs") + " " + c.buildings_changed;
  }

  /* --- auto-partition ------------------------------------------------------------------------------ */
  function rulesFrom(form) {
    const body = {};
    ["min_households", "max_households", "max_population", "rural_target_population"].forEach(function (name) {
      body[name] = parseInt(form.elements[name].value, 10);
    });
    body.rural_tolerance = parseFloat(form.elements.rural_tolerance.value);
    body.keep_previous = form.elements.keep_previous.checked;
    return body;
  }

  function showJob(job) {
    $("job").classList.remove("hidden");
    $("job-progress").value = job.progress || 0;
    $("job-text").textContent = T(job.status) + " " + Math.round((job.progress || 0) * 100) + "%";
    $("job").dataset.status = job.status;
  }

  async function runJob(e) {
    e.preventDefault();
    const form = e.target;
    $("run").disabled = true;
    $("job-note").textContent = "";
    try {
      const started = (await g.api(API + "/communities/" + state.community + "/partition-jobs",
        { method: "POST", json: rulesFrom(form) })).body;
      showJob({ status: started.status, progress: 0 });
      let job = started;
      while (job.status === "queued" || job.status === "running") {
        await new Promise(function (resolve) { window.setTimeout(resolve, 300); });
        job = (await g.api(started.href)).body;
        showJob(job);
      }
      /* the job's error is the engine's own words (English): a Chinese page says in Chinese that it failed */
      if (job.status === "failed") throw new Error(g.config.lang === "en" && job.error ? job.error : T("job_failed"));
      await loadPlans();
      await loadPlan(job.result.plan_id, false);
      g.toast(T("new_version") + " v" + state.plan.number);
      await sayIfIdentical();
    } catch (error) {
      g.toast(error.message, "error");
    } finally {
      $("run").disabled = false;
    }
  }

  /* --- wiring -------------------------------------------------------------------------------------- */
  function wire() {
    $("street").addEventListener("change", function () { fillCommunities(); guarded(function () { return openCommunity(""); }); });
    $("community").addEventListener("change", function (e) { guarded(function () { return openCommunity(e.target.value); }); });
    $("version").addEventListener("change", function (e) { guarded(function () { return loadPlan(parseInt(e.target.value, 10), false); }); });
    $("new-draft").addEventListener("click", newDraft);
    $("undo").addEventListener("click", undo);
    $("redo").addEventListener("click", redo);
    $("compare").addEventListener("click", compare);
    $("publish").addEventListener("click", publish);
    $("publish-confirm").addEventListener("click", confirmPublish);
    $("publish-cancel").addEventListener("click", function () { $("publish-dialog").close(); });
    $("export").addEventListener("click", exportPlan);
    $("draw").addEventListener("click", function () { startTool("draw"); });
    $("split").addEventListener("click", function () { startTool("split"); });
    $("edit-shape").addEventListener("click", function () { startTool("edit"); });
    $("save-shape").addEventListener("click", saveShape);
    $("cancel-tool").addEventListener("click", cancelTool);
    $("merge").addEventListener("click", mergeGrids);
    $("auto-form").addEventListener("submit", runJob);
    wireBrush();
    map.on("pm:create", onDrawn);
    map.on("click", function () { if (state.moving && !state.tool) { state.moving = null; restyleBuildings(); } });
  }

  /* the published grids of every community in scope, as vector tiles under the chosen community (context for
     picking); not on an Amap base map, whose GCJ-02 shift tiles cannot take */
  function addOverview() {
    if (g.config.basemap === "amap" || !L.vectorGrid) return;
    state.overview = L.vectorGrid.protobuf("/tiles/grids/{z}/{x}/{y}.pbf", {
      fetchOptions: { credentials: "same-origin" },
      maxNativeZoom: 18,
      vectorTileLayerStyles: {
        grids: function (p) {
          if (p.community_code === state.community) return { weight: 0, fill: false, opacity: 0 };
          return { weight: 1, color: "#777", fill: true, fillColor: p.within_limits ? "#bdbdbd" : "#ef9a9a", fillOpacity: 0.25 };
        },
      },
    }).addTo(map);
  }

  g.labelPage(T);
  g.addBasemap(map);
  addLegend();
  addOverview();
  wire();
  guarded(loadHierarchy);
})();
