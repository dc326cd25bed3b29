/* The grid worker page: the worker's own grid only — its boundary, its buildings with households and addresses,
   its open cases coloured by status with their deadlines (overdue ones stand out), the cameras in and near it.
   Tap the map inside the grid to report a case there; tap a case to accept it, mark it handled or escalate it.
   Phone first: the panel is a bottom sheet with big touch targets. Coordinates sent to the API are WGS-84.
   window.geogridReady resolves (and window.geogridReadyAt is set) once the grid, buildings, cases and cameras are drawn. */
(function () {
  "use strict";
  const g = window.geogrid;
  const API = "/api/v1";
  const WORKER_ACTIONS = ["accept", "handle", "escalate"];
  const OPEN_STATES = ["reported", "accepted", "escalated", "dispatched", "checked_in", "handled"];
  const STATUS_COLOURS = {
    reported: "#1e88e5", accepted: "#fb8c00", escalated: "#8e24aa", dispatched: "#5e35b1", checked_in: "#3949ab",
    handled: "#43a047", closed: "#757575",
  };
  const NEAR_M = 100;
  const map = g.map();
  const SVG = L.svg({ padding: 0.3 }); // grid and buildings as SVG paths (the map prefers canvas), for taps and tests
  const $ = function (id) { return document.getElementById(id); };
  const T = function (key) { return g.t(null, key); };  /* the catalogue of maps/i18n.py, served with the page */
  const lang = g.config.lang === "en" ? "en" : "zh";
  const state = { grid: null, taxonomy: null, cases: [], selected: null, draft: null, busy: false, popupClosedAt: 0 };
  const layers = {
    grid: L.featureGroup().addTo(map), buildings: L.featureGroup().addTo(map), cameras: L.featureGroup().addTo(map),
    cases: L.featureGroup().addTo(map), draft: L.featureGroup().addTo(map),
  };
  const markers = {}; // case id -> marker
  let markReady;
  window.geogridReady = new Promise(function (resolve) { markReady = resolve; });

  /* --- small helpers -------------------------------------------------------------------------------- */
  function stateName(status) {
    const s = state.taxonomy && state.taxonomy.states[status];
    return s ? s[lang] : status;
  }
  function categoryName(code) {
    const c = state.taxonomy && state.taxonomy.categories[code];
    return c ? c[lang] : code;
  }
  function channelName(code) {
    const c = state.taxonomy && state.taxonomy.channels[code];
    return c ? c[lang] : code;
  }
  function when(iso) {
    if (!iso) return "—";
    return new Date(iso).toLocaleString(lang === "en" ? "en-GB" : "zh-CN",
      { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });
  }
  function duration(ms) {
    const minutes = Math.round(Math.abs(ms) / 60000);
    if (minutes < 60) return minutes + " " + T("minutes");
    if (minutes < 48 * 60) return Math.round(minutes / 60) + " " + T("hours");
    return Math.round(minutes / 1440) + " " + T("days");
  }
  /* "截止 11-13 16:04 · 剩余 5 小时" or "已超期 2 天"; whether a case is overdue is the API's answer (item.overdue) */
  function deadlineText(item) {
    if (!item.deadline_at) return "";
    const ms = new Date(item.deadline_at).getTime() - Date.now();
    const rel = item.overdue ? T("overdue_by") + " " + duration(ms) : T("left") + " " + duration(ms);
    return T("deadline") + " " + when(item.deadline_at) + " · " + rel;
  }
  function badge(status) {
    return g.el("span", { class: "worker-badge", style: "background:" + (STATUS_COLOURS[status] || "#555"),
      text: stateName(status) });
  }
  /* overdue first, then the nearest deadline */
  function byUrgency(a, b) {
    if (a.overdue !== b.overdue) return a.overdue ? -1 : 1;
    return (a.deadline_at || "9").localeCompare(b.deadline_at || "9");
  }

  /* is [lon, lat] (WGS-84) inside the GeoJSON Polygon/MultiPolygon (even-odd over every ring, so holes count) */
  function inside(geometry, lon, lat) {
    const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    let odd = false;
    polygons.forEach(function (rings) {
      rings.forEach(function (ring) {
        for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
          const [xi, yi] = ring[i], [xj, yj] = ring[j];
          if ((yi > lat) !== (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) odd = !odd;
        }
      });
    });
    return odd;
  }

  /* --- the bar, labels and the bottom sheet ----------------------------------------------------------- */
  function setUpPanel() {
    g.labelPage(T, T("title") + " " + g.config.user.scope);
    $("report-description").placeholder = T("description");
    $("report-form").addEventListener("submit", submitReport);
    $("report-cancel").addEventListener("click", closeForm);
    $("sheet-handle").addEventListener("click", toggleSheet);
    setSheet(false);
  }

  function setSheet(expanded) {
    $("panel").classList.toggle("worker-expanded", expanded);
    document.body.classList.toggle("worker-sheet-expanded", expanded);
    $("sheet-handle").setAttribute("aria-expanded", String(expanded));
    $("sheet-label").textContent = T(expanded ? "collapse" : "expand");
    window.setTimeout(function () { map.invalidateSize(); }, 250);
  }
  function toggleSheet() { setSheet(!$("panel").classList.contains("worker-expanded")); }

  /* --- loading ---------------------------------------------------------------------------------------- */
  async function load() {
    const scope = encodeURIComponent(g.config.user.scope);
    const [grid, taxonomy, cameras] = await Promise.all([
      g.api(API + "/grids/" + scope), g.api(API + "/taxonomy"), g.api(API + "/cameras?near_m=" + NEAR_M),
    ]);
    state.grid = grid.body;
    state.taxonomy = taxonomy.body;
    fillCategories();
    drawLegend();
    drawGrid(state.grid);
    drawBuildings(state.grid.buildings.features);
    drawCameras(cameras.body.features);
    await loadCases();
    map.fitBounds(layers.grid.getBounds(), { padding: [16, 16] });
  }

  async function loadCases() {
    const params = new URLSearchParams({ area: g.config.user.scope, limit: "1000" });
    OPEN_STATES.forEach(function (s) { params.append("status", s); });
    const answer = await g.api(API + "/incidents?" + params.toString());
    state.cases = answer.body.items.slice().sort(byUrgency);
    drawCases();
    drawSummary();
  }

  /* --- the grid, its buildings and cameras --------------------------------------------------------------- */
  function drawGrid(feature) {
    const layer = g.geoJSON(feature, { renderer: SVG, interactive: false,
      style: { color: "#d32f2f", weight: 3, dashArray: "8 4", fillColor: "#d32f2f", fillOpacity: 0.04 } });
    layers.grid.clearLayers().addLayer(layer);
    layer.eachLayer(function (l) { const p = l.getElement && l.getElement(); if (p) p.setAttribute("data-grid", feature.properties.grid_code); });
  }

  function buildingLabel(p) {
    return p.address || p.compound || p.building_id;
  }

  function buildingPopup(feature, layer) {
    const p = feature.properties;
    const facts = p.households + " " + T("households") + " · " + p.population + " " + T("population") +
      (p.floors ? " · " + p.floors + " " + T("floors") : "") + (p.units ? " · " + T("units") + " " + p.units : "");
    const report = g.el("button", { type: "button", class: "worker-primary", text: T("report_here"),
      onclick: function () { map.closePopup(); openForm(layer.getCenter(), buildingLabel(p)); } });
    return g.el("div", { class: "worker-popup" }, [g.el("b", { text: buildingLabel(p) }), g.el("div", { text: facts }), report]);
  }

  function drawBuildings(features) {
    layers.buildings.clearLayers();
    const list = $("building-list");
    list.replaceChildren();
    features.forEach(function (feature) {
      const layer = g.geoJSON(feature, { renderer: SVG, bubblingMouseEvents: false,
        style: { color: "#455a64", weight: 1, fillColor: "#90a4ae", fillOpacity: 0.55 } });
      layers.buildings.addLayer(layer);
      layer.eachLayer(function (l) {
        l.bindPopup(function () { return buildingPopup(feature, l); });
        const p = l.getElement && l.getElement();
        if (p) p.setAttribute("data-building", feature.id);
      });
      const pr = feature.properties;
      list.appendChild(g.el("li", { "data-building": feature.id }, [g.el("button", { type: "button", class: "worker-row",
        onclick: function () { showBuilding(layer); } }, [
        g.el("span", { class: "worker-main", text: buildingLabel(pr) }),
        g.el("span", { class: "worker-sub", text: pr.households + " " + T("households") + " · " + pr.population + " " + T("population") }),
      ])]));
    });
    if (!features.length) list.appendChild(g.el("li", { class: "worker-empty", text: T("no_buildings") }));
    $("building-count").textContent = "(" + features.length + ")";
  }

  function showBuilding(layer) {
    const first = layer.getLayers()[0];
    map.fitBounds(layer.getBounds(), { maxZoom: 18 });
    first.openPopup(first.getCenter());
  }

  function cameraIcon(p) {
    const inGrid = p.grid_code === g.config.user.scope;
    return L.divIcon({ className: "worker-camera" + (inGrid ? " worker-camera-in" : ""), html: "◉",
      iconSize: [22, 22], iconAnchor: [11, 11] });
  }

  function cameraText(p) {
    const inGrid = p.grid_code === g.config.user.scope;
    const where = inGrid ? T("in_grid") : Math.round(p.distance_m) + " " + T("metres");
    return (p.name || p.camera_id) + " · " + where;
  }

  function drawCameras(features) {
    layers.cameras.clearLayers();
    const list = $("camera-list");
    list.replaceChildren();
    const sorted = features.slice().sort(function (a, b) { return (a.properties.distance_m || 0) - (b.properties.distance_m || 0); });
    sorted.forEach(function (f) {
      const [lon, lat] = f.geometry.coordinates;
      const marker = L.marker(g.toDisplay(lon, lat), { icon: cameraIcon(f.properties), title: f.properties.name || f.id,
        keyboard: false, zIndexOffset: -100 });
      marker.bindPopup(g.el("div", { class: "worker-popup", text: cameraText(f.properties) }));
      marker.on("add", function () { marker.getElement().setAttribute("data-camera", f.id); });
      layers.cameras.addLayer(marker);
      list.appendChild(g.el("li", { "data-camera": f.id, class: "worker-sub", text: cameraText(f.properties) }));
    });
    if (!features.length) list.appendChild(g.el("li", { class: "worker-empty", text: T("no_cameras") }));
    $("camera-count").textContent = "(" + features.length + ")";
  }

  /* --- open cases --------------------------------------------------------------------------------------- */
  function drawLegend() {
    const box = $("status-legend");
    box.replaceChildren();
    OPEN_STATES.forEach(function (s) { box.appendChild(badge(s)); });
    box.appendChild(g.el("span", { class: "worker-badge worker-overdue-badge", text: T("overdue") }));
  }

  function caseIcon(item) {
    const classes = "worker-case worker-status-" + item.status + (item.overdue ? " worker-overdue" : "") +
      (state.selected === item.id ? " worker-selected" : "");
    return L.divIcon({ className: classes, iconSize: [34, 34], iconAnchor: [17, 17],
      html: '<span style="background:' + (STATUS_COLOURS[item.status] || "#555") + '">' + (item.overdue ? "!" : "") + "</span>" });
  }

  function drawCases() {
    layers.cases.clearLayers();
    Object.keys(markers).forEach(function (k) { delete markers[k]; });
    const list = $("case-list");
    list.replaceChildren();
    state.cases.forEach(function (item) {
      if (item.location.lon !== null) addCaseMarker(item);
      list.appendChild(caseRow(item));
    });
    if (!state.cases.length) list.appendChild(g.el("li", { class: "worker-empty", text: T("no_cases") }));
    const overdue = state.cases.filter(function (c) { return c.overdue; }).length;
    $("case-count").textContent = "(" + state.cases.length + (overdue ? " · " + overdue + " " + T("overdue") : "") + ")";
  }

  function addCaseMarker(item) {
    const marker = L.marker(g.toDisplay(item.location.lon, item.location.lat), { icon: caseIcon(item),
      title: "#" + item.id + " " + categoryName(item.category), zIndexOffset: item.overdue ? 1000 : 500 });
    marker.on("click", function () { selectCase(item.id); });
    marker.on("add", function () { markCase(marker, item); });
    markers[item.id] = marker;
    layers.cases.addLayer(marker);
  }

  function markCase(marker, item) {
    const node = marker.getElement();
    if (!node) return;
    node.setAttribute("data-id", item.id);
    node.setAttribute("data-status", item.status);
  }

  function caseRow(item) {
    const row = g.el("li", { "data-id": item.id, "data-status": item.status,
      class: "worker-case-row" + (item.overdue ? " worker-overdue" : "") }, [
      g.el("button", { type: "button", class: "worker-row", onclick: function () { selectCase(item.id); } }, [
        g.el("span", { class: "worker-main" }, [badge(item.status), " #" + item.id + " " + categoryName(item.category)]),
        g.el("span", { class: "worker-sub", text: item.description || item.address || "" }),
        g.el("span", { class: "worker-deadline" + (item.overdue ? " worker-late" : ""), text: deadlineText(item) }),
      ]),
    ]);
    return row;
  }

  function drawSummary() {
    const p = state.grid.properties;
    const overdue = state.cases.filter(function (c) { return c.overdue; }).length;
    const parts = [
      [p.households, T("households")], [p.population, T("population")],
      [state.grid.buildings.features.length, T("buildings")], [state.cases.length, T("open_cases")],
    ];
    const box = $("summary");
    box.replaceChildren();
    parts.forEach(function ([n, label]) {
      box.appendChild(g.el("span", { class: "worker-fact" }, [g.el("b", { text: String(n) }), " " + label]));
    });
    if (overdue) box.appendChild(g.el("span", { class: "worker-fact worker-late" }, [g.el("b", { text: String(overdue) }), " " + T("overdue")]));
  }

  /* --- one case: details, actions, cameras, trace -------------------------------------------------------- */
  async function selectCase(id) {
    state.selected = id;
    closeForm();
    refreshIcons();
    const marker = markers[id];
    if (marker) map.panTo(marker.getLatLng());
    const box = $("case-detail");
    box.classList.remove("worker-hidden");
    box.setAttribute("aria-busy", "true"); // the case is being loaded: the detail will be drawn again
    try {
      const [detail, cameras] = await Promise.all([
        g.api(API + "/incidents/" + id), g.api(API + "/incidents/" + id + "/cameras?radius_m=200").catch(function () { return null; }),
      ]);
      if (state.selected !== id) return;
      renderDetail(detail.body, cameras ? cameras.body.cameras : []);
    } catch (error) {
      g.toast(T("failed") + ": " + error.message, "error");
    } finally {
      if (state.selected === id) box.removeAttribute("aria-busy");
    }
  }

  function refreshIcons() {
    state.cases.forEach(function (item) {
      const marker = markers[item.id];
      if (!marker) return;
      marker.setIcon(caseIcon(item));
      markCase(marker, item);
    });
  }

  function renderDetail(item, cameras) {
    const box = $("case-detail");
    const typed = box.dataset.id === String(item.id) && $("action-note") ? $("action-note").value : "";
    box.replaceChildren();
    box.setAttribute("data-id", item.id);
    box.setAttribute("data-status", item.status);
    box.classList.toggle("worker-overdue", !!item.overdue);
    box.appendChild(g.el("div", { class: "worker-detail-head" }, [
      g.el("h2", {}, [badge(item.status), " " + T("case_no") + " #" + item.id + " " + categoryName(item.category)]),
      g.el("button", { type: "button", class: "worker-close", "aria-label": T("close"), text: "×", onclick: closeDetail }),
    ]));
    box.appendChild(g.el("p", { class: "worker-desc", text: item.description || "" }));
    const facts = [
      [T("address_label"), item.address || "—"], [T("reported_at"), when(item.reported_at)],
      [T("channel"), channelName(item.channel)], [T("level"), T("level_" + item.level)],
    ];
    box.appendChild(g.el("dl", { class: "worker-facts" }, facts.flatMap(function ([k, v]) {
      return [g.el("dt", { text: k }), g.el("dd", { text: v })];
    })));
    box.appendChild(g.el("p", { class: "worker-deadline" + (item.overdue ? " worker-late" : ""), text: deadlineText(item) }));
    box.appendChild(actionBox(item));
    if ($("action-note")) $("action-note").value = typed; // a refresh keeps what the worker was typing
    box.appendChild(cameraBox(cameras));
    box.appendChild(traceBox(item.trace || []));
    box.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  function actionBox(item) {
    const actions = item.allowed_actions.filter(function (a) { return WORKER_ACTIONS.includes(a); });
    if (!actions.length) return g.el("p", { class: "worker-hint", text: T("no_action") });
    const note = g.el("input", { type: "text", id: "action-note", maxlength: "4000", placeholder: T("note"), "aria-label": T("note") });
    const buttons = actions.map(function (action) {
      return g.el("button", { type: "button", class: "worker-action worker-action-" + action, "data-action": action,
        text: T(action), onclick: function () { act(item.id, action, note.value); } });
    });
    return g.el("div", { class: "worker-actions" }, [note, g.el("div", { class: "worker-buttons" }, buttons)]);
  }

  function cameraBox(cameras) {
    const items = cameras.map(function (c) {
      return g.el("li", { text: (c.name || c.camera_id) + " · " + Math.round(c.distance_m) + " " + T("metres") +
        " · " + (c.covers ? T("sees") : T("not_sees")) });
    });
    return g.el("details", { class: "worker-more" }, [g.el("summary", { text: T("near_cameras") + " (" + cameras.length + ")" }),
      g.el("ul", {}, items)]);
  }

  function traceBox(trace) {
    const items = trace.map(function (e) {
      return g.el("li", { text: when(e.at) + " " + e.username + " · " + (T(e.action)) + " → " + stateName(e.to_status) +
        (e.note ? " · " + e.note : "") });
    });
    return g.el("details", { class: "worker-more" }, [g.el("summary", { text: T("trace") + " (" + trace.length + ")" }),
      g.el("ol", {}, items)]);
  }

  function closeDetail() {
    state.selected = null;
    $("case-detail").classList.add("worker-hidden");
    refreshIcons();
  }

  async function act(id, action, note) {
    if (state.busy) return;
    state.busy = true;
    document.querySelectorAll(".worker-action").forEach(function (b) { b.disabled = true; });
    try {
      await g.api(API + "/incidents/" + id + "/actions", { method: "POST", json: { action: action, note: note || null } });
      if ($("action-note")) $("action-note").value = "";
      g.toast(T(action) + " · #" + id + " · " + T("done"));
      await loadCases();
      await selectCase(id);
    } catch (error) {
      g.toast(error.message, "error");
      document.querySelectorAll(".worker-action").forEach(function (b) { b.disabled = false; });
    } finally {
      state.busy = false;
    }
  }

  /* --- reporting a new case where the map was tapped ------------------------------------------------------- */
  function fillCategories() {
    const select = $("report-category");
    select.replaceChildren();
    Object.keys(state.taxonomy.categories).forEach(function (code) {
      select.appendChild(g.el("option", { value: code, text: categoryName(code) }));
    });
  }

  function onMapClick(event) {
    if (!state.grid || Date.now() - state.popupClosedAt < 400) return; // a tap that closed a popup reports nothing
    const [lon, lat] = g.fromDisplay(event.latlng);
    if (!inside(state.grid.geometry, lon, lat)) { g.toast(T("outside"), "error"); return; }
    openForm(event.latlng, "");
  }

  /* the form for a report at latlng (a point on the displayed map) */
  function openForm(latlng, address) {
    closeDetail();
    const [lon, lat] = g.fromDisplay(latlng);
    state.draft = { lon: lon, lat: lat };
    layers.draft.clearLayers().addLayer(L.marker(latlng, { icon: L.divIcon({ className: "worker-draft", html: "+",
      iconSize: [30, 30], iconAnchor: [15, 15] }), interactive: false }));
    $("report-where").textContent = T("where") + ": " + lon.toFixed(6) + ", " + lat.toFixed(6);
    $("report-address").value = address || "";
    $("report-form").classList.remove("worker-hidden");
    $("report-form").scrollIntoView({ block: "start" });
    $("report-description").focus({ preventScroll: true });
  }

  function closeForm() {
    state.draft = null;
    layers.draft.clearLayers();
    $("report-form").classList.add("worker-hidden");
  }

  async function submitReport(event) {
    event.preventDefault();
    if (!state.draft || state.busy) return;
    const description = $("report-description").value.trim();
    if (!description) { g.toast(T("need_description"), "error"); $("report-description").focus(); return; }
    const body = {
      category: $("report-category").value, channel: "grid_patrol", description: description,
      location: { lon: state.draft.lon, lat: state.draft.lat, crs: "wgs84" },
    };
    const address = $("report-address").value.trim();
    if (address) body.address = address;
    state.busy = true;
    $("report-submit").disabled = true;
    $("report-submit").textContent = T("sending");
    try {
      const answer = await g.api(API + "/incidents", { method: "POST", json: body });
      $("report-description").value = "";
      closeForm();
      const created = answer.body;
      g.toast(created.grid_code === g.config.user.scope ? T("reported") + " #" + created.id : T("other_grid"),
        created.grid_code === g.config.user.scope ? "info" : "error");
      await loadCases();
      if (created.grid_code === g.config.user.scope) await selectCase(created.id);
    } catch (error) {
      g.toast(error.message, "error");
    } finally {
      state.busy = false;
      $("report-submit").disabled = false;
      $("report-submit").textContent = T("submit");
    }
  }

  /* --- start ------------------------------------------------------------------------------------------------ */
  g.addBasemap(map);
  SVG.addTo(map);
  setUpPanel();
  map.on("click", onMapClick);
  map.on("popupclose", function () { state.popupClosedAt = Date.now(); });
  load().then(function () {
    window.geogridReadyAt = performance.now();
    markReady(window.geogridReadyAt);
  }).catch(function (error) {
    g.toast(T("failed") + ": " + error.message, "error");
    window.geogridError = error.message;
  });
})();
