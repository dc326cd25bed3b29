/* The case desk: the cases awaiting the signed-in user's step (GET /api/v1/desk: the workflow decides whose step it
   is), most urgent first, with filters, counts per state and a map of the same cases; a case opens beside the map
   with its trace, photos, location, reporter, nearby cases and cameras, and the actions the API allows now. A refused
   action says the server's reason in the page's language. Live: server-sent events (GET /api/v1/desk/events) bring a
   case that reaches the user's step without reloading; a deadline within the hour is highlighted.
   window.geogridDeskReady resolves once the first queue is drawn; window.geogridDesk exposes state for tests. */
(function () {
  "use strict";
  const g = window.geogrid;
  const API = "/api/v1";
  const PAGE = 100;  /* cases read at a time */
  const MOST = 500;  /* the most one answer lists (geogrid.store.desk.QUEUE_LIMIT) */
  const STATUS_COLOURS = {
    reported: "#1e88e5", accepted: "#fb8c00", escalated: "#8e24aa", dispatched: "#5e35b1", checked_in: "#3949ab",
    handled: "#43a047", closed: "#757575",
  };
  const ACTION_ORDER = ["check_in", "accept", "handle", "dispatch", "escalate", "assess", "close", "reject", "rate",
    "reopen", "mark_duplicate"];
  const map = g.map();
  const $ = function (id) { return document.getElementById(id); };
  const T = function (key) { return g.t(null, key); };
  const lang = g.config.lang === "en" ? "en" : "zh";
  const state = { taxonomy: null, items: [], counts: {}, selected: null, detail: null, photos: [], fresh: new Set(),
    loading: 0, source: null, reloadTimer: null, total: 0, wanted: PAGE };
  const layer = L.featureGroup().addTo(map);
  const cameraLayer = L.featureGroup().addTo(map);  /* the open case's cameras */
  const gridLayer = L.featureGroup().addTo(map);  /* the open case's grid (for the roles that see grid maps) */
  const openLayer = L.featureGroup().addTo(map);  /* the open case's point when it is not in the queue */
  const markers = {};
  let markReady;
  window.geogridDeskReady = new Promise(function (resolve) { markReady = resolve; });

  /* --- small helpers ---------------------------------------------------------------------------------- */
  function stateName(status) { return g.taxonomyName(state.taxonomy, "states", status); }
  function categoryName(code) { return g.taxonomyName(state.taxonomy, "categories", code); }
  function departmentName(code) { return g.taxonomyName(state.taxonomy, "departments", code); }
  function levelName(level) { return T("level_" + level); }
  function actionName(action) { return T("act_" + action); }
  const when = g.when, duration = g.duration;  /* a time and a length of time in the page's language */
  /* "截止 12-07 16:04 · 剩余 40 分钟" or "已超期 2 天"; late and due soon are the API's answer (late_now, due_soon) */
  function deadlineText(item) {
    if (!item.deadline_at) return "";
    const ms = new Date(item.deadline_at).getTime() - Date.now();
    if (item.late_now) return T("overdue_by") + " " + duration(ms);
    return T("deadline") + " " + when(item.deadline_at) + " · " + T("left") + " " + duration(ms);
  }
  function fill(sentence, values) {
    return sentence.replace(/\{(\w+)\}/g, function (_, key) { return values[key] === undefined ? "?" : String(values[key]); });
  }
  /* --- the queue ---------------------------------------------------------------------------------------- */
  function query() {
    const params = new URLSearchParams();
    const add = function (name, value) { if (value) params.append(name, value); };
    add("category", $("f-category").value);
    add("status", $("f-status").value);
    add("level", $("f-level").value);
    add("area", $("f-area").value.trim());
    add("since", $("f-since").value);
    add("until", $("f-until").value);
    if ($("f-overdue").checked) params.set("overdue", "true");
    return params.toString();
  }
  async function loadQueue() {
    state.loading += 1;
    try {
      /* as many cases as are shown (a live update keeps the pages read so far, up to the server's most) */
      const answer = (await g.api(API + "/desk?" + query() + "&limit=" + Math.min(state.wanted, MOST))).body;
      state.items = answer.items;
      state.counts = answer.counts;
      state.total = answer.total;
      drawCounts(answer);
      drawQueue(answer);
      drawMarkers();
    } catch (error) {
      g.toast(error.message, "error");
    } finally {
      state.loading -= 1;
    }
  }
  function refilter() {  /* new filters: the first page again */
    state.wanted = PAGE;
    return loadQueue();
  }
  async function loadMore() {
    state.loading += 1;
    try {
      const answer = (await g.api(API + "/desk?" + query() + "&limit=" + PAGE + "&offset=" + state.items.length)).body;
      const known = new Set(state.items.map(function (item) { return item.id; }));
      state.items = state.items.concat(answer.items.filter(function (item) { return !known.has(item.id); }));
      state.total = answer.total;
      state.wanted = state.items.length;
      drawQueue();
      drawMarkers();
    } catch (error) {
      g.toast(error.message, "error");
    } finally {
      state.loading -= 1;
    }
  }
  function drawCounts(answer) {
    const box = $("counts");
    box.textContent = "";
    Object.keys(answer.counts).forEach(function (status) {
      const n = answer.counts[status];
      const chip = g.el("button", { type: "button", class: "desk-count" + (n ? "" : " desk-zero") + ($("f-status").value === status ? " desk-on" : ""),
        "data-status": status, onclick: function () {
          $("f-status").value = $("f-status").value === status ? "" : status;
          refilter();
        } }, [g.el("i", { style: "background:" + STATUS_COLOURS[status] }), stateName(status) + " ", g.el("b", { text: String(n) })]);
      box.appendChild(chip);
    });
    $("total").textContent = fill(T("total"), { n: answer.total });
  }
  function rowClass(item) {
    return "desk-row" + (item.late_now ? " desk-late" : "") + (item.due_soon ? " desk-soon" : "") +
      (state.fresh.has(item.id) ? " desk-fresh" : "") + (state.selected === item.id ? " desk-selected" : "");
  }
  function drawQueue() {
    const list = $("queue");
    list.textContent = "";
    if (!state.items.length) {
      list.appendChild(g.el("li", { class: "desk-empty", text: T("no_cases") }));
      return;
    }
    state.items.forEach(function (item) {
      const badges = [g.el("span", { class: "desk-badge", style: "background:" + STATUS_COLOURS[item.status], text: stateName(item.status) })];
      if (item.late_now) badges.push(g.el("span", { class: "desk-badge desk-badge-late", text: T("overdue") }));
      if (item.due_soon) badges.push(g.el("span", { class: "desk-badge desk-badge-soon", text: T("due_soon") }));
      if (state.fresh.has(item.id)) badges.push(g.el("span", { class: "desk-badge desk-badge-new", text: T("new") }));
      const button = g.el("button", { type: "button", class: "desk-open", "data-case": String(item.id),
        onclick: function () { openCase(item.id); } }, [
        g.el("span", { class: "desk-main", text: T("case_no") + " #" + item.id + " · " + categoryName(item.category) }),
        g.el("span", { class: "desk-badges" }, badges),
        g.el("span", { class: "desk-sub", text: levelName(item.level) + " · " + (item.description || "").slice(0, 40) }),
        g.el("span", { class: "desk-deadline" + (item.late_now ? " desk-late-text" : ""), text: deadlineText(item) }),
      ]);
      list.appendChild(g.el("li", { class: rowClass(item), id: "row-" + item.id }, [button]));
    });
    if (state.items.length < state.total) {
      list.appendChild(g.el("li", { class: "desk-more" }, [g.el("button", { type: "button", id: "desk-more",
        text: fill(T("more"), { shown: state.items.length, n: state.total }), onclick: loadMore })]));
    }
  }
  function drawMarkers() {
    layer.clearLayers();
    Object.keys(markers).forEach(function (k) { delete markers[k]; });
    state.items.forEach(function (item) {
      if (item.location.lon === null || item.location.lon === undefined) return;
      const icon = L.divIcon({ className: "desk-marker" + (item.late_now ? " desk-late" : "") + (item.due_soon ? " desk-soon" : "") +
        (state.selected === item.id ? " desk-selected" : ""), iconSize: [34, 34],
        html: '<span style="background:' + STATUS_COLOURS[item.status] + '">' + item.level + "</span>" });
      const marker = L.marker(g.toDisplay(item.location.lon, item.location.lat), { icon: icon, title: T("case_no") + " #" + item.id,
        alt: T("case_no") + " #" + item.id, keyboard: true });
      marker.on("click", function () { openCase(item.id); });
      marker.addTo(layer);
      markers[item.id] = marker;
    });
  }
  function fitQueue() {
    if (layer.getLayers().length) map.fitBounds(layer.getBounds(), { padding: [30, 30], maxZoom: 17 });
  }

  /* --- the case beside the map ------------------------------------------------------------------------ */
  async function openCase(id) {
    state.selected = id;
    state.photos = [];
    const box = $("case");
    box.classList.remove("desk-hidden");
    document.body.classList.add("desk-case-open");
    box.textContent = T("loading");
    delete box.dataset.id;
    delete box.dataset.status;
    delete box.dataset.grid;
    drawQueue();
    drawMarkers();
    let item;
    try {
      item = (await g.api(API + "/incidents/" + id)).body;
    } catch (error) {
      box.textContent = error.message;
      return;
    }
    state.detail = item;
    drawCase(item);
    openLayer.clearLayers();
    if (!markers[item.id] && item.location.lon !== null && item.location.lon !== undefined) {
      L.marker(g.toDisplay(item.location.lon, item.location.lat), { icon: L.divIcon({ className: "desk-marker desk-selected",
        iconSize: [34, 34], html: '<span style="background:' + STATUS_COLOURS[item.status] + '">' + item.level + "</span>" }),
        title: T("case_no") + " #" + item.id, alt: T("case_no") + " #" + item.id }).addTo(openLayer);
    }
    map.invalidateSize();
    if (item.location.lon !== null && item.location.lon !== undefined) {
      map.setView(g.toDisplay(item.location.lon, item.location.lat), Math.max(map.getZoom(), 16));
    }
    loadNearby(item);
    loadCameras(item);
    loadGrid(item);
  }
  async function loadGrid(item) {
    gridLayer.clearLayers();
    if (!item.grid_code || g.config.user.role === "department_staff") return;  /* staff see cases, not grid maps */
    try {
      const grid = (await g.api(API + "/grids/" + encodeURIComponent(item.grid_code))).body;
      if (state.selected !== item.id) return;
      g.geoJSON({ type: "Feature", geometry: grid.geometry, properties: {} }, {
        style: { color: "#1565c0", weight: 2, dashArray: "6 4", fill: true, fillOpacity: 0.04 }, interactive: false,
      }).addTo(gridLayer);
      $("case").dataset.grid = item.grid_code;  /* drawn */
    } catch (error) { /* a grid of another plan or out of view: the case's point is enough */ }
  }
  function closeCase() {
    state.selected = null;
    state.detail = null;
    $("case").classList.add("desk-hidden");
    cameraLayer.clearLayers();
    gridLayer.clearLayers();
    openLayer.clearLayers();
    document.body.classList.remove("desk-case-open");
    map.invalidateSize();
    drawQueue();
    drawMarkers();
  }
  function fact(list, label, value) {
    if (value === null || value === undefined || value === "") return;
    list.appendChild(g.el("dt", { text: T(label) }));
    list.appendChild(g.el("dd", { text: String(value) }));
  }
  function drawCase(item) {
    const box = $("case");
    box.textContent = "";
    box.className = "geogrid-panel desk-case" + (item.overdue && item.status !== "closed" ? " desk-late" : "");
    box.dataset.id = String(item.id);
    box.dataset.status = item.status;
    box.dataset.level = String(item.level);
    box.appendChild(g.el("div", { class: "desk-case-head" }, [
      g.el("h2", { text: T("case_no") + " #" + item.id + " · " + categoryName(item.category) }),
      g.el("button", { type: "button", class: "desk-close", id: "case-close", title: T("close_case"), "aria-label": T("close_case"),
        onclick: closeCase, text: "×" }),
    ]));
    const queued = state.items.find(function (i) { return i.id === item.id; });
    const badges = [g.el("span", { class: "desk-badge", style: "background:" + STATUS_COLOURS[item.status], text: stateName(item.status) }),
      g.el("span", { class: "desk-level", text: levelName(item.level) })];
    if (queued && queued.late_now) badges.push(g.el("span", { class: "desk-badge desk-badge-late", text: T("overdue") }));
    if (queued && queued.due_soon) badges.push(g.el("span", { class: "desk-badge desk-badge-soon", text: T("due_soon") }));
    box.appendChild(g.el("div", { class: "desk-badges" }, badges));
    if (queued) box.appendChild(g.el("div", { class: "desk-deadline" + (queued.late_now ? " desk-late-text" : ""), text: deadlineText(queued) }));
    box.appendChild(g.el("p", { class: "desk-desc", id: "case-description", text: item.description || "" }));
    const facts = g.el("dl", { class: "desk-facts" });
    fact(facts, "reported_at", when(item.reported_at));
    fact(facts, "address", item.address);
    if (item.location.lon !== null && item.location.lon !== undefined) {
      fact(facts, "location", item.location.lon.toFixed(5) + ", " + item.location.lat.toFixed(5) + (item.grid_code ? " · " + item.grid_code : ""));
    }
    if (item.reporter) {
      fact(facts, "reporter", item.reporter.name || item.reported_by);
      fact(facts, "contact", item.reporter.contact);
    }
    fact(facts, "department", item.department ? departmentName(item.department) : null);
    const checkIn = (item.trace || []).filter(function (e) { return e.action === "check_in"; }).pop();
    if (checkIn) fact(facts, "checked_in_at", when(checkIn.at) + " · " + checkIn.username);
    box.appendChild(facts);
    box.appendChild(actionsBox(item));
    box.appendChild(g.el("h3", { text: T("photos") }));
    box.appendChild(photoBox(item));
    box.appendChild(g.el("h3", { text: T("trace") }));
    const trace = g.el("ol", { class: "desk-trace", id: "case-trace" });
    (item.trace || []).forEach(function (e) {
      const parts = [when(e.at), T("did_" + e.action), e.username];
      if (e.to_status) parts.push(stateName(e.to_status) + " · " + levelName(e.to_level));
      if (e.data && e.data.department) parts.push(departmentName(e.data.department));
      if (e.data && e.data.deadline_at) parts.push(T("deadline_for") + " " + when(e.data.deadline_at));
      if (e.data && e.data.rating) parts.push(T("rating") + " " + e.data.rating);
      if (e.data && e.data.duplicate_of) parts.push(T("duplicate_of") + " #" + e.data.duplicate_of);
      const li = g.el("li", { "data-action": e.action, text: parts.join(" · ") });
      if (e.note) li.appendChild(g.el("div", { class: "desk-note", text: e.note }));
      trace.appendChild(li);
    });
    box.appendChild(trace);
    box.appendChild(g.el("h3", { text: T("nearby") }));
    box.appendChild(g.el("ul", { class: "desk-nearby", id: "case-nearby" }, [g.el("li", { text: T("loading") })]));
    box.appendChild(g.el("h3", { text: T("cameras") }));
    box.appendChild(g.el("ul", { class: "desk-cameras", id: "case-cameras" }, [g.el("li", { text: T("loading") })]));
  }
  function photoBox(item) {
    const urls = (item.media_urls || []).slice();
    (item.trace || []).forEach(function (e) { ((e.data && e.data.media_urls) || []).forEach(function (u) { urls.push(u); }); });
    const box = g.el("div", { class: "desk-thumbs", id: "case-photos" });
    if (!urls.length) box.appendChild(g.el("span", { class: "desk-empty", text: T("no_photos") }));
    urls.forEach(function (url) {
      const own = url.indexOf("/media/") === 0;
      box.appendChild(g.el("a", { href: url, target: "_blank", rel: "noopener" },
        [g.el("img", { src: own ? url + "?size=thumbnail" : url, alt: T("photos"), "data-photo": url, loading: "lazy" })]));
    });
    return box;
  }
  async function loadNearby(item) {
    const list = () => $("case-nearby");
    if (item.location.lon === null || item.location.lon === undefined) { list().textContent = ""; return; }
    let found = [];
    try {
      const params = new URLSearchParams({ lon: item.location.lon, lat: item.location.lat, category: item.category });
      found = (await g.api(API + "/incidents/nearby?" + params)).body.items.filter(function (c) { return c.id !== item.id; });
    } catch (error) {
      found = null;  /* department staff do not search around a case: their view is what was dispatched to them */
    }
    if (state.selected !== item.id || !list()) return;
    list().textContent = "";
    if (!found || !found.length) { list().appendChild(g.el("li", { class: "desk-empty", text: T("no_nearby") })); return; }
    found.forEach(function (c) {
      list().appendChild(g.el("li", {}, [g.el("a", { href: "#", "data-case": String(c.id), onclick: function (event) {
        event.preventDefault(); openCase(c.id);
      }, text: T("case_no") + " #" + c.id }), " · " + stateName(c.status) + " · " + Math.round(c.distance_m) + " " + T("metres")]));
    });
  }
  async function loadCameras(item) {
    const list = () => $("case-cameras");
    cameraLayer.clearLayers();
    let found = [];
    try {
      found = (await g.api(API + "/incidents/" + item.id + "/cameras")).body.cameras || [];
    } catch (error) {
      found = [];
    }
    if (state.selected !== item.id || !list()) return;
    list().textContent = "";
    if (!found.length) { list().appendChild(g.el("li", { class: "desk-empty", text: T("no_cameras") })); return; }
    found.slice(0, 8).forEach(function (c) {
      list().appendChild(g.el("li", { "data-camera": c.camera_id, text: (c.name || c.camera_id) + " · " +
        Math.round(c.distance_m || 0) + " " + T("metres") + " · " + (c.sees_point ? T("sees") : T("not_sees")) }));
      L.circleMarker(g.toDisplay(c.lon, c.lat), { radius: 5, color: "#00796b", weight: 2, fillOpacity: 0.6 })
        .bindTooltip(c.name || c.camera_id).addTo(cameraLayer);
    });
  }

  /* --- actions: what the API allows now, each with the fields it takes ---------------------------------- */
  function actionsBox(item) {
    const box = g.el("section", { class: "desk-actions", id: "case-actions" });
    box.appendChild(g.el("h3", { text: T("actions") }));
    const allowed = ACTION_ORDER.filter(function (a) { return item.allowed_actions.indexOf(a) >= 0; });
    if (!allowed.length) {
      box.appendChild(g.el("p", { class: "desk-empty", text: T("no_action") }));
      return box;
    }
    const buttons = g.el("div", { class: "desk-buttons" });
    allowed.forEach(function (action) {
      buttons.appendChild(g.el("button", { type: "button", class: "desk-act desk-act-" + action, "data-action": action,
        text: actionName(action), onclick: function () { openForm(item, action); } }));
    });
    box.appendChild(buttons);
    box.appendChild(g.el("form", { class: "desk-form desk-hidden", id: "action-form", novalidate: "" }));
    return box;
  }
  function openForm(item, action) {
    const form = $("action-form");
    form.textContent = "";
    form.classList.remove("desk-hidden");
    form.dataset.action = action;
    state.photos = [];
    form.appendChild(g.el("h4", { text: actionName(action) }));
    if (action === "dispatch") {
      const select = g.el("select", { id: "act-department" });
      const own = state.taxonomy.categories[item.category] && state.taxonomy.categories[item.category].department;
      Object.keys(state.taxonomy.departments).forEach(function (code) {
        const option = g.el("option", { value: code, text: departmentName(code) });
        if (code === own) option.selected = true;
        select.appendChild(option);
      });
      form.appendChild(g.el("label", {}, [g.el("span", { text: T("dispatch_to") }), select]));
      const deadline = g.el("input", { id: "act-deadline", type: "datetime-local" });
      const soon = new Date(Date.now() + 48 * 3600 * 1000 - new Date().getTimezoneOffset() * 60000);
      deadline.value = soon.toISOString().slice(0, 16);
      form.appendChild(g.el("label", {}, [g.el("span", { text: T("deadline_for") }), deadline]));
    }
    if (action === "assess" || action === "rate") {
      const select = g.el("select", { id: "act-rating" });
      [5, 4, 3, 2, 1].forEach(function (n) { select.appendChild(g.el("option", { value: String(n), text: T("rating_" + n) })); });
      form.appendChild(g.el("label", {}, [g.el("span", { text: T("rating") }), select]));
    }
    if (action === "mark_duplicate") {
      form.appendChild(g.el("label", {}, [g.el("span", { text: T("duplicate_of") }),
        g.el("input", { id: "act-duplicate", type: "number", min: "1", inputmode: "numeric" })]));
    }
    form.appendChild(g.el("label", {}, [g.el("span", { text: T("note") }),
      g.el("textarea", { id: "act-note", rows: "2", maxlength: "4000" })]));
    if (action === "handle" || action === "check_in" || action === "close" || action === "reject") {
      const thumbs = g.el("div", { class: "desk-thumbs", id: "act-thumbs" });
      const input = g.el("input", { id: "act-photos", type: "file", accept: "image/*", capture: "environment", multiple: "" });
      input.addEventListener("change", function () { addPhotos(input, thumbs); });
      form.appendChild(g.el("label", {}, [g.el("span", { text: T("step_photos") }), input]));
      form.appendChild(thumbs);
    }
    form.appendChild(g.el("div", { class: "desk-buttons" }, [
      g.el("button", { type: "submit", id: "act-send", class: "desk-primary", text: T("send") }),
      g.el("button", { type: "button", text: T("cancel"), onclick: function () { form.classList.add("desk-hidden"); } }),
    ]));
    form.onsubmit = function (event) { event.preventDefault(); send(item, action); };
    form.scrollIntoView({ block: "nearest" });
  }
  async function addPhotos(input, thumbs) {
    const files = [...input.files];
    if (!files.length) return;
    g.toast(T("uploading"));
    for (const file of files) {
      const form = new FormData();
      form.append("file", file, file.name || "photo.jpg");
      try {
        const answer = await g.api(API + "/media", { method: "POST", body: form });
        state.photos.push(answer.body);
        thumbs.appendChild(g.el("img", { src: answer.body.thumbnail_url, alt: T("photos"), "data-photo": answer.body.url }));
      } catch (error) {
        g.toast(error.message, "error");
        input.value = "";
        return;
      }
    }
    input.value = "";
    g.toast(T("photo_added") + " (" + state.photos.length + ")");
  }
  async function send(item, action) {
    const body = { action: action, note: ($("act-note").value || "").trim() || null,
      media_urls: state.photos.map(function (p) { return p.url; }) };
    if (action === "dispatch") {
      body.department = $("act-department").value;
      if ($("act-deadline").value) body.deadline_at = new Date($("act-deadline").value).toISOString();
    }
    if (action === "assess" || action === "rate") body.rating = Number($("act-rating").value);
    if (action === "mark_duplicate") body.duplicate_of = Number($("act-duplicate").value) || null;
    const button = $("act-send");
    button.disabled = true;
    button.textContent = T("sending");
    try {
      await g.api(API + "/incidents/" + item.id + "/actions", { method: "POST", json: body });
      g.toast(actionName(action) + " · " + T("done"));
      state.fresh.delete(item.id);
      await loadQueue();
      await openCase(item.id);
    } catch (error) {
      const message = error.message;  /* geogrid.js says a refusal's code in the page's language */
      const box = $("case-actions");
      const old = $("act-refusal");
      if (old) old.remove();
      if (box) box.appendChild(g.el("p", { class: "desk-refusal", id: "act-refusal", role: "alert", text: T("refused") + "：" + message }));
      g.toast(message, "error");
      button.disabled = false;
      button.textContent = T("send");
    }
  }

  /* --- live: the server says when a case reaches or leaves my step ---------------------------------------- */
  function listen() {
    if (!window.EventSource) return;
    const source = new EventSource(API + "/desk/events");
    state.source = source;
    let first = true;
    source.addEventListener("ready", function () {
      if (!first) soon();  /* connected again: what changed meanwhile was not announced, so read the queue again */
      first = false;
      $("live").textContent = T("live");
      $("live").className = "desk-live desk-on";
    });
    source.addEventListener("arrived", function (event) {
      const data = JSON.parse(event.data);
      state.fresh.add(data.id);
      g.toast(T("arrived") + "：" + T("case_no") + " #" + data.id);
      soon();
      if (state.selected === data.id) refreshOpen(data.id);
    });
    ["left", "changed"].forEach(function (kind) {
      source.addEventListener(kind, function (event) {
        const data = JSON.parse(event.data);
        if (kind === "left") state.fresh.delete(data.id);
        soon();
        if (state.selected === data.id) refreshOpen(data.id);
      });
    });
    source.onerror = function () {
      $("live").textContent = T("offline");
      $("live").className = "desk-live desk-off";
    };
  }
  /* the open case changed elsewhere: draw it again, unless the user is filling in an action's form */
  function refreshOpen(id) {
    const form = $("action-form");
    if (form && !form.classList.contains("desk-hidden")) return;
    openCase(id);
  }
  function soon() {
    window.clearTimeout(state.reloadTimer);
    state.reloadTimer = window.setTimeout(loadQueue, 200);
  }

  /* --- start ---------------------------------------------------------------------------------------------- */
  async function start() {
    g.labelPage(T, T("title"));
    g.addBasemap(map);
    if (window.matchMedia("(min-width: 701px)").matches) $("filter-box").open = true;  /* a phone keeps them folded */
    if (g.config.user.role === "leader" || g.config.user.role === "admin") {
      const link = $("open-leader");
      link.href = "/maps/leader?lang=" + g.config.lang;
      $("leader-link").classList.remove("desk-hidden");
    }
    try {
      state.taxonomy = (await g.api(API + "/taxonomy")).body;
    } catch (error) {
      g.toast(error.message, "error");
      return;
    }
    Object.keys(state.taxonomy.categories).forEach(function (code) {
      $("f-category").appendChild(g.el("option", { value: code, text: categoryName(code) }));
    });
    ["reported", "accepted", "escalated", "dispatched", "checked_in", "handled"].forEach(function (code) {
      $("f-status").appendChild(g.el("option", { value: code, text: stateName(code) }));
    });
    $("filters").addEventListener("submit", function (event) { event.preventDefault(); refilter(); });
    $("f-reset").addEventListener("click", function () { $("filters").reset(); refilter(); });
    await loadQueue();
    fitQueue();
    listen();
    const asked = Number(new URL(window.location.href).searchParams.get("case"));  /* ?case=ID opens one case */
    if (asked) await openCase(asked);
    window.setInterval(loadQueue, 60000);  /* deadlines move on: the hour's highlight and the overdue ones */
    window.geogridDeskReadyAt = Date.now();
    markReady();
  }
  window.geogridDesk = { state: state, openCase: openCase, loadQueue: loadQueue };
  start();
})();
