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
  /* open work for the worker: a handled case waits for the community's verification, so it is no longer listed */
  const OPEN_STATES = ["reported", "accepted", "escalated", "dispatched", "checked_in"];
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
  const state = { grid: null, taxonomy: null, cases: [], selected: null, draft: null, busy: false, popupClosedAt: 0,
    photos: [], stepPhotos: [], me: null, following: false, watch: null, nearbyAsked: 0 };
  const layers = {
    grid: L.featureGroup().addTo(map), buildings: L.featureGroup().addTo(map), cameras: L.featureGroup().addTo(map),
    cases: L.featureGroup().addTo(map), draft: L.featureGroup().addTo(map), me: L.featureGroup().addTo(map),
  };
  const markers = {}; // case id -> marker
  let markReady;
  window.geogridReady = new Promise(function (resolve) { markReady = resolve; });

  /* --- small helpers -------------------------------------------------------------------------------- */
  function stateName(status) { return g.taxonomyName(state.taxonomy, "states", status); }
  function categoryName(code) { return g.taxonomyName(state.taxonomy, "categories", code); }
  function channelName(code) { return g.taxonomyName(state.taxonomy, "channels", code); }
  const when = g.when, duration = g.duration;  /* a time and a length of time in the page's language */
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
    $("report-category").addEventListener("change", onCategoryChange);
    $("report-photos").addEventListener("change", function (event) { addPhotos(event.target, state.photos, $("report-thumbs")); });
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
      [T("address_label"), item.address || placeText(item.location.lon, item.location.lat)], [T("reported_at"), when(item.reported_at)],
      [T("channel"), channelName(item.channel)], [T("level"), T("level_" + item.level)],
    ];
    box.appendChild(g.el("dl", { class: "worker-facts" }, facts.flatMap(function ([k, v]) {
      return [g.el("dt", { text: k }), g.el("dd", { text: v })];
    })));
    box.appendChild(g.el("p", { class: "worker-deadline" + (item.overdue ? " worker-late" : ""), text: deadlineText(item) }));
    box.appendChild(photoBox(item));
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
    state.stepPhotos = [];
    const thumbs = g.el("div", { class: "worker-thumbs", id: "action-thumbs" });
    const pick = g.el("input", { type: "file", id: "action-photos", accept: "image/*", capture: "environment", multiple: "",
      onchange: function (event) { addPhotos(event.target, state.stepPhotos, thumbs); } });
    const buttons = actions.map(function (action) {
      return g.el("button", { type: "button", class: "worker-action worker-action-" + action, "data-action": action,
        text: T(action), onclick: function () { act(item.id, action, note.value); } });
    });
    return g.el("div", { class: "worker-actions" }, [note,
      g.el("label", { class: "worker-photo-pick" }, [g.el("span", { text: T("step_photo") }), pick]), thumbs,
      g.el("div", { class: "worker-buttons" }, buttons)]);
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
      const about = e.data && e.data.duplicate_of ? " · " + T("duplicate_of") + " #" + e.data.duplicate_of
        : e.data && e.data.duplicate ? " · #" + e.data.duplicate : "";
      return g.el("li", { "data-action": e.action, text: when(e.at) + " " + e.username + " · " + T("act_" + e.action) + " → " +
        stateName(e.to_status) + about + (e.note ? " · " + e.note : "") });
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
      await g.api(API + "/incidents/" + id + "/actions", { method: "POST",
        json: { action: action, note: note || null, media_urls: state.stepPhotos.map(function (p) { return p.url; }) } });
      state.stepPhotos = [];
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
    select.replaceChildren(g.el("option", { value: "", text: T("choose_category"), disabled: "", selected: "" }));
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
    $("report-where").textContent = T("where") + ": " + placeText(lon, lat);
    const near = nearestBuilding(lon, lat);
    $("report-address").value = address || (near.metres <= ADDRESS_NEAR_M ? near.address : "");
    findNearby();
    $("report-form").classList.remove("worker-hidden");
    $("report-form").scrollIntoView({ block: "start" });
    $("report-description").focus({ preventScroll: true });
  }

  function closeForm() {
    state.draft = null;
    layers.draft.clearLayers();
    $("report-form").classList.add("worker-hidden");
  }

  function resetForm() {
    $("report-description").value = "";
    $("report-category").value = "";
    $("report-photos").value = "";
    $("report-questions").replaceChildren();
    $("report-thumbs").replaceChildren();
    $("report-nearby").classList.add("worker-hidden");
    state.photos = [];
  }

  async function submitReport(event) {
    event.preventDefault();
    if (!state.draft || state.busy) return;
    const category = $("report-category").value;
    if (!category) { g.toast(T("need_category"), "error"); $("report-category").focus(); return; }
    const answers = collectAnswers(category);
    if (answers === null) return;
    const description = $("report-description").value.trim();
    if (!description) { g.toast(T("need_description"), "error"); $("report-description").focus(); return; }
    const body = {
      category: category, channel: "grid_patrol", description: description, attributes: answers,
      location: { lon: state.draft.lon, lat: state.draft.lat, crs: "wgs84" },
      media_urls: state.photos.map(function (p) { return p.url; }),
    };
    const address = $("report-address").value.trim();
    if (address) body.address = address;
    state.busy = true;
    $("report-submit").disabled = true;
    $("report-submit").textContent = T("sending");
    try {
      const answer = await g.api(API + "/incidents", { method: "POST", json: body });
      resetForm();
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

  /* --- the place as the nearest building's address, not raw coordinates ------------------------------------------ */
  const M_PER_DEG = 111320;
  const ADDRESS_NEAR_M = 50; // a building this close gives the report its address
  /* metres between two WGS-84 points (an equirectangular approximation: exact enough within a grid) */
  function metres(lon1, lat1, lon2, lat2) {
    const k = Math.cos((lat1 + lat2) / 2 * Math.PI / 180);
    return Math.hypot((lon2 - lon1) * k, lat2 - lat1) * M_PER_DEG;
  }
  /* the distance in metres from a point to a building's footprint (0 inside it) */
  function toFootprint(geometry, lon, lat) {
    if (geometry.type === "Point") return metres(lon, lat, geometry.coordinates[0], geometry.coordinates[1]);
    if (inside(geometry, lon, lat)) return 0;
    const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    const k = Math.cos(lat * Math.PI / 180);
    let best = Infinity;
    polygons.forEach(function (rings) {
      rings.forEach(function (ring) {
        for (let i = 1; i < ring.length; i++) {
          const ax = (ring[i - 1][0] - lon) * k, ay = ring[i - 1][1] - lat, bx = (ring[i][0] - lon) * k, by = ring[i][1] - lat;
          const dx = bx - ax, dy = by - ay, len = dx * dx + dy * dy;
          const t = len ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len)) : 0;
          best = Math.min(best, Math.hypot(ax + t * dx, ay + t * dy) * M_PER_DEG);
        }
      });
    });
    return best;
  }
  /* the grid's building nearest to the point: { address, metres } ({} when the grid has none) */
  function nearestBuilding(lon, lat) {
    let best = {};
    if (!state.grid || lon === null || lon === undefined) return best;
    state.grid.buildings.features.forEach(function (f) {
      const d = toFootprint(f.geometry, lon, lat);
      if (best.metres === undefined || d < best.metres) best = { address: buildingLabel(f.properties), metres: d };
    });
    return best;
  }
  /* "红旗大道165号" or "红旗大道165号附近 35 米" */
  function placeText(lon, lat) {
    const near = nearestBuilding(lon, lat);
    if (!near.address) return "—";
    return near.metres < 1 ? near.address : near.address + " · " + T("near_building") + " " + Math.round(near.metres) + " " + T("metres");
  }

  /* --- the category's questions ----------------------------------------------------------------------------------- */
  function question(attribute) {
    const text = (lang === "en" && attribute.description_en) || attribute.description;
    const name = "q-" + attribute.code;
    const title = g.el("span", { class: attribute.required ? "worker-required" : "", text: text });
    const valueName = function (v) { return (lang === "en" && v.name_en) || v.name; };
    if (attribute.datatype === "multivaluelist") {
      return g.el("fieldset", { "data-question": attribute.code }, [g.el("legend", {}, [title])].concat(attribute.values.map(function (v) {
        return g.el("label", {}, [g.el("input", { type: "checkbox", name: name, value: String(v.key) }), " " + valueName(v)]);
      })));
    }
    let input;
    if (attribute.datatype === "singlevaluelist") {
      input = g.el("select", { name: name }, [g.el("option", { value: "", text: T("choose") })].concat(attribute.values.map(function (v) {
        return g.el("option", { value: String(v.key), text: valueName(v) });
      })));
    } else if (attribute.datatype === "text") {
      input = g.el("textarea", { name: name, rows: "2", maxlength: "4000" });
    } else {
      const type = { number: "number", datetime: "datetime-local" }[attribute.datatype] || "text";
      input = g.el("input", { type: type, name: name, step: type === "number" ? "any" : null });
      if (type !== "number") input.removeAttribute("step");
    }
    return g.el("label", { "data-question": attribute.code }, [title, input]);
  }
  function askedOf(category) {
    const c = state.taxonomy.categories[category];
    return c ? (c.attributes || []).filter(function (a) { return a.variable !== false; }) : [];
  }
  /* the answers by code, or null (with the first unanswered required question focused) */
  function collectAnswers(category) {
    const answers = {};
    for (const attribute of askedOf(category)) {
      const box = $("report-questions").querySelector('[data-question="' + attribute.code + '"]');
      let value;
      if (attribute.datatype === "multivaluelist") {
        value = [...box.querySelectorAll("input:checked")].map(function (i) { return i.value; });
        if (!value.length) value = null;
      } else {
        value = box.querySelector("select, input, textarea").value.trim() || null;
      }
      if (value === null && attribute.required) {
        g.toast(T("need_answer") + ": " + ((lang === "en" && attribute.description_en) || attribute.description), "error");
        box.querySelector("select, input, textarea").focus();
        return null;
      }
      if (value !== null) answers[attribute.code] = value;
    }
    return answers;
  }
  function onCategoryChange() {
    $("report-questions").replaceChildren(...askedOf($("report-category").value).map(question));
    findNearby();
  }

  /* --- open cases of the same category nearby: attach instead of reporting twice ---------------------------------- */
  async function findNearby() {
    const box = $("report-nearby");
    const category = $("report-category").value;
    const asked = ++state.nearbyAsked;
    box.classList.add("worker-hidden");
    if (!state.draft || !category) return;
    const params = new URLSearchParams({ lon: state.draft.lon, lat: state.draft.lat, category: category });
    try {
      const answer = await g.api(API + "/incidents/nearby?" + params.toString());
      if (asked !== state.nearbyAsked) return;
      drawNearby(answer.body.items);
    } catch (error) {
      g.toast(T("failed") + ": " + error.message, "error");
    }
  }
  function drawNearby(items) {
    const box = $("report-nearby");
    box.replaceChildren();
    if (!items.length) return;
    box.appendChild(g.el("h3", { text: T("nearby_title") + " (" + items.length + ")" }));
    box.appendChild(g.el("ul", { class: "worker-list" }, items.map(function (item) {
      return g.el("li", { "data-nearby": item.id }, [
        g.el("div", {}, [badge(item.status), " #" + item.id + " " + (item.description || categoryName(item.category))]),
        g.el("div", { class: "worker-sub", text: Math.round(item.distance_m) + " " + T("metres") + " · " +
          (item.address || placeText(item.location.lon, item.location.lat)) }),
        g.el("button", { type: "button", class: "worker-attach", "data-attach": item.id, text: T("same_problem"),
          onclick: function () { attachTo(item.id); } }),
      ]);
    })));
    box.classList.remove("worker-hidden");
  }
  async function attachTo(id) {
    if (state.busy || !state.draft) return;
    state.busy = true;
    try {
      await g.api(API + "/incidents/" + id + "/attach", { method: "POST", json: {
        note: $("report-description").value.trim() || null, media_urls: state.photos.map(function (p) { return p.url; }),
        location: { lon: state.draft.lon, lat: state.draft.lat, crs: "wgs84" } } });
      resetForm();
      closeForm();
      g.toast(T("attached") + " #" + id);
      if (state.cases.some(function (c) { return c.id === id; })) await selectCase(id);
    } catch (error) {
      g.toast(error.message, "error");
    } finally {
      state.busy = false;
    }
  }

  /* --- photos: taken with the camera or chosen, uploaded at once; the thumbnails shown ---------------------------- */
  async function addPhotos(input, list, thumbs) {
    const files = [...input.files];
    if (!files.length) return;
    g.toast(T("uploading"));
    for (const file of files) {
      const form = new FormData();
      form.append("file", file, file.name || "photo.jpg");
      try {
        const answer = await g.api(API + "/media", { method: "POST", body: form });
        list.push(answer.body);
        thumbs.appendChild(g.el("img", { src: answer.body.thumbnail_url, alt: T("photos_label"), "data-photo": answer.body.url }));
      } catch (error) {
        g.toast(error.message, "error");
        input.value = "";
        return;
      }
    }
    input.value = "";
    g.toast(T("photo_added") + " (" + list.length + ")");
  }
  /* the case's photos and those of its steps, as thumbnails linking to the photo */
  function photoBox(item) {
    const urls = (item.media_urls || []).slice();
    (item.trace || []).forEach(function (e) { ((e.data && e.data.media_urls) || []).forEach(function (u) { urls.push(u); }); });
    const box = g.el("div", { class: "worker-thumbs", id: "case-photos" });
    urls.forEach(function (url) {
      const own = url.indexOf("/media/") === 0;
      box.appendChild(g.el("a", { href: url, target: "_blank", rel: "noopener" },
        [g.el("img", { src: own ? url + "?size=thumbnail" : url, alt: T("photos_label"), "data-photo": url, loading: "lazy" })]));
    });
    return box;
  }

  /* --- my location: the browser's position with its accuracy circle; the view follows the worker -------------------- */
  const LocateControl = L.Control.extend({
    options: { position: "topleft" },
    onAdd: function () {
      const button = L.DomUtil.create("button", "worker-locate");
      button.type = "button";
      button.id = "locate-me";
      button.title = T("my_location");
      button.setAttribute("aria-label", T("my_location"));
      button.setAttribute("aria-pressed", "false");
      button.textContent = "◎";
      L.DomEvent.disableClickPropagation(button);
      L.DomEvent.on(button, "click", toggleFollow);
      return button;
    },
  });
  function toggleFollow() {
    if (!navigator.geolocation) { g.toast(T("no_location"), "error"); return; }
    setFollowing(!state.following);
    if (state.following && state.me) showMe(true);
    if (state.watch === null) {
      g.toast(T("locating"));
      state.watch = navigator.geolocation.watchPosition(onPosition, onPositionError,
        { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 });
    }
  }
  /* refused: stop watching; a position late or unavailable for a moment: keep watching (said once, before any fix) */
  function onPositionError(error) {
    if (error.code === error.PERMISSION_DENIED) {
      navigator.geolocation.clearWatch(state.watch);
      state.watch = null;
      setFollowing(false);
    } else if (state.me !== null) {
      return;
    }
    g.toast(T("no_location") + (error.message ? ": " + error.message : ""), "error");
  }
  function setFollowing(on) {
    state.following = on;
    const button = $("locate-me");
    button.classList.toggle("worker-following", on);
    button.setAttribute("aria-pressed", String(on));
  }
  function onPosition(position) {
    const first = state.me === null;
    state.me = { lon: position.coords.longitude, lat: position.coords.latitude, accuracy: position.coords.accuracy };
    showMe(state.following || first);
  }
  function showMe(move) {
    const me = state.me;
    const at = g.toDisplay(me.lon, me.lat);
    const report = g.el("button", { type: "button", class: "worker-primary", text: T("report_at_me"),
      onclick: function () { map.closePopup(); openForm(at, ""); } });
    const text = T("you_are_here") + " · " + placeText(me.lon, me.lat) + " · " + T("accuracy") + " " + Math.round(me.accuracy) + " " + T("metres");
    layers.me.clearLayers();
    layers.me.addLayer(L.circle(at, { radius: me.accuracy, renderer: SVG, color: "#1565c0", weight: 1, fillOpacity: 0.12,
      interactive: false, className: "worker-accuracy" }));
    layers.me.addLayer(L.marker(at, { icon: L.divIcon({ className: "worker-me", iconSize: [18, 18], iconAnchor: [9, 9] }),
      title: T("you_are_here"), zIndexOffset: 2000 }).bindPopup(g.el("div", { class: "worker-popup" }, [g.el("div", { text: text }), report])));
    document.body.dataset.myLocation = me.lon.toFixed(6) + "," + me.lat.toFixed(6) + "," + Math.round(me.accuracy);
    if (move) map.setView(at, Math.max(map.getZoom(), 17), { animate: false });
  }

  /* --- start ------------------------------------------------------------------------------------------------ */
  g.addBasemap(map);
  SVG.addTo(map);
  setUpPanel();
  map.on("click", onMapClick);
  map.addControl(new LocateControl());
  map.on("dragstart", function () { if (state.following) { setFollowing(false); g.toast(T("follow_off")); } });
  map.on("popupclose", function () { state.popupClosedAt = Date.now(); });
  load().then(function () {
    window.geogridReadyAt = performance.now();
    markReady(window.geogridReadyAt);
  }).catch(function (error) {
    g.toast(T("failed") + ": " + error.message, "error");
    window.geogridError = error.message;
  });
})();
