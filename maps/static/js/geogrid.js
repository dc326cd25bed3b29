/* geogrid: what every map page shares — the API with the signed-in user's token, labels in Chinese or
   English, the configured base map, and the GCJ-02 shift that lines overlays up with an Amap base map. */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("geogrid-config").textContent || "{}");
  /* the sign-in token is an HttpOnly cookie the browser sends by itself: scripts never see it */
  async function signOut() {
    try { await fetch("/maps/logout", { method: "POST", credentials: "same-origin" }); } catch (e) { /* offline */ }
    window.location.href = "/maps/login?lang=" + (config.lang || "zh");
  }

  /* fetch an API path as the signed-in user; answers parsed JSON or throws an Error carrying the API's detail */
  async function api(path, options) {
    const opts = Object.assign({ method: "GET", headers: {} }, options || {});
    opts.credentials = "same-origin";
    opts.headers = Object.assign({ "X-Requested-With": "geogrid" }, opts.headers);  /* writes by cookie need it */
    if (opts.json !== undefined) {
      opts.body = JSON.stringify(opts.json);
      opts.headers["Content-Type"] = "application/json";
    }
    const response = await fetch(path, opts);
    if (response.status === 401) { signOut(); throw new Error("401"); }
    const text = await response.text();
    const body = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const detail = body && body.detail !== undefined ? body.detail : response.statusText;
      const text = typeof detail === "string" ? detail : JSON.stringify(detail);
      const said = refusalSentence(body);
      const error = new Error(said !== null ? said : config.lang === "en" ? text : refusalText(response.status));
      error.detail = text;  /* the API's own words (English), for scripts that read them */
      error.body = body;
      error.status = response.status;
      error.headers = response.headers;
      throw error;
    }
    return { body: body, headers: response.headers, status: response.status };
  }

  /* an API refusal that carries a code (body.code, body.params) in the page's language: the code's sentence from
     the catalogue filled from its params (the twin of maps/i18n.py refusal_text): a word the catalogue knows
     ("term.<param>.<value>"; a list's items by the param's name less its plural s), a list joined, a flag (an
     object) by its reason; null for no code, or one the catalogue does not know */
  function refusalSentence(body) {
    const served = config.labels || {};
    const sentence = body && typeof body.code === "string" ? served["refusal." + body.code] : undefined;
    if (sentence === undefined) return null;
    const en = config.lang === "en";
    function said(name, value) {
      if (value !== null && typeof value === "object" && !Array.isArray(value)) return flagReason(value);
      if (Array.isArray(value)) {
        const flags = value.some(function (v) { return v !== null && typeof v === "object"; });
        const item = name.endsWith("s") ? name.slice(0, -1) : name;
        return value.map(function (v) { return said(item, v); }).join(flags ? (en ? "; " : "；") : (en ? ", " : "、"));
      }
      const term = served["term." + name + "." + value];
      return term !== undefined ? term : String(value);
    }
    const params = body.params || {};
    return sentence.replace(/\{(\w+)\}/g, function (_, key) {
      return params[key] === undefined || params[key] === null ? "?" : said(key, params[key]);
    });
  }

  /* an API refusal without a code in the page's language (Chinese pages: a sentence per status from the catalogue) */
  function refusalText(status) {
    const served = config.labels || {};
    return served["http_" + status] || (status >= 500 ? served.http_5xx : served.http_other) || String(status);
  }

  /* the name of a taxonomy entry (a state, category, channel or department: taxonomy[kind][code]) in the page's
     language, else in Chinese, else the code itself */
  function taxonomyName(taxonomy, kind, code) {
    const entry = taxonomy && taxonomy[kind] && taxonomy[kind][code];
    return entry ? (entry[config.lang === "en" ? "en" : "zh"] || entry.zh) : code;
  }

  /* a moment (ISO text) as "12-07 16:04" in the page's language, and a length of time in minutes, hours or days
     (the page's catalogue has "minutes", "hours" and "days") */
  function when(iso) {
    if (!iso) return "—";
    return new Date(iso).toLocaleString(config.lang === "en" ? "en-GB" : "zh-CN",
      { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });
  }
  function duration(ms) {
    const minutes = Math.round(Math.abs(ms) / 60000);
    if (minutes < 60) return minutes + " " + t(null, "minutes");
    if (minutes < 48 * 60) return Math.round(minutes / 60) + " " + t(null, "hours");
    return Math.round(minutes / 1440) + " " + t(null, "days");
  }

  /* the label `key` in the page's language, from the catalogue the server serves with the page (maps/i18n.py,
     config.labels); no script keeps a table of its own (the first argument is kept for the pages' calls) */
  function t(_, key) {
    const served = config.labels || {};
    return Object.prototype.hasOwnProperty.call(served, key) ? served[key] : key;
  }

  /* a flag's reason in the page's language: its rule's sentence from the catalogue, filled from the flag's fields
     (the twin of maps/i18n.py flag_reason); a rule without a sentence keeps the engine's reason */
  function flagReason(flag) {
    const sentence = (config.labels || {})["flag_reason." + flag.rule];
    if (sentence === undefined) return flag.reason || flag.rule || "";
    const ids = flag.building_ids || [];
    const values = Object.assign({}, flag, {
      count: ids.length, count_atoms: flag.atoms === undefined ? "?" : flag.atoms,
      ids: ids.slice(0, 5).join(config.lang === "en" ? ", " : "、") + (ids.length > 5 ? "…" : ""),
    });
    return sentence.replace(/\{(\w+)\}/g, function (_, key) {
      return values[key] === undefined || values[key] === null ? "?" : String(values[key]);
    });
  }

  /* an SVG icon (drawn by us: no font needs the glyph) — "play" or "pause" */
  const ICONS = { play: "M3 1.5v13l11-6.5z", pause: "M3 1.5h3.5v13H3zM9.5 1.5H13v13H9.5z" };
  function icon(name) {
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 16 16");
    svg.setAttribute("class", "geogrid-icon geogrid-icon-" + name);
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(NS, "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  /* --- GCJ-02 (Amap) ----------------------------------------------------------------------------- */
  const A = 6378245.0, EE = 0.00669342162296594323;
  function outOfChina(lon, lat) { return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271; }
  function dLat(x, y) {
    let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    return r;
  }
  function dLon(x, y) {
    let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    return r;
  }
  function wgs84ToGcj02(lon, lat) {
    if (outOfChina(lon, lat)) return [lon, lat];
    const radLat = lat / 180 * Math.PI;
    let magic = Math.sin(radLat);
    magic = 1 - EE * magic * magic;
    const sqrtMagic = Math.sqrt(magic);
    const la = (dLat(lon - 105, lat - 35) * 180) / ((A * (1 - EE)) / (magic * sqrtMagic) * Math.PI);
    const lo = (dLon(lon - 105, lat - 35) * 180) / (A / sqrtMagic * Math.cos(radLat) * Math.PI);
    return [lon + lo, lat + la];
  }
  /* the inverse by fixed-point iteration: within 1e-7 degrees (about 1 cm) */
  function gcj02ToWgs84(lon, lat) {
    if (outOfChina(lon, lat)) return [lon, lat];
    let x = lon, y = lat;
    for (let i = 0; i < 30; i++) {
      const f = wgs84ToGcj02(x, y);
      const ex = f[0] - lon, ey = f[1] - lat;
      x -= ex; y -= ey;
      if (Math.abs(ex) < 1e-9 && Math.abs(ey) < 1e-9) break;
    }
    return [x, y];
  }

  const shifted = config.basemap === "amap";
  /* [lon, lat] (WGS-84) -> Leaflet LatLng on the current base map */
  function toDisplay(lon, lat) {
    const p = shifted ? wgs84ToGcj02(lon, lat) : [lon, lat];
    return L.latLng(p[1], p[0]);
  }
  /* a Leaflet LatLng on the current base map -> [lon, lat] in WGS-84 (what the API takes) */
  function fromDisplay(latlng) {
    return shifted ? gcj02ToWgs84(latlng.lng, latlng.lat) : [latlng.lng, latlng.lat];
  }
  /* L.geoJSON whose coordinates are shifted to the base map */
  function geoJSON(data, options) {
    const opts = Object.assign({}, options || {}, {
      coordsToLatLng: function (c) { return toDisplay(c[0], c[1]); },
    });
    return L.geoJSON(data, opts);
  }

  /* --- base maps ------------------------------------------------------------------------------------ */
  function addBasemap(map) {
    const choice = (config.basemaps || {})[config.basemap];
    if (choice && choice.url) {
      L.tileLayer(choice.url, { attribution: choice.attribution || "", subdomains: choice.subdomains || "abc",
        maxZoom: 19 }).addTo(map);
    }
    const names = Object.keys(config.basemaps || {});
    if (names.length < 2) return;
    const control = L.control({ position: "bottomleft" });
    control.onAdd = function () {
      const box = L.DomUtil.create("div", "geogrid-basemap leaflet-bar");
      const select = L.DomUtil.create("select", "", box);
      select.setAttribute("aria-label", t(null, "base_map"));
      names.forEach(function (name) {
        const option = L.DomUtil.create("option", "", select);
        option.value = name;
        option.textContent = config.basemaps[name].label;
        if (name === config.basemap) option.selected = true;
      });
      L.DomEvent.disableClickPropagation(box);
      select.addEventListener("change", function () {
        const url = new URL(window.location.href);
        url.searchParams.set("basemap", select.value);
        window.location.href = url.toString();
      });
      return box;
    };
    control.addTo(map);
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(function ([k, v]) {
      if (k === "text") node.textContent = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    });
    (children || []).forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  function toast(message, kind) {
    const box = document.getElementById("geogrid-toast");
    if (!box) return;
    box.textContent = message;
    box.className = "geogrid-toast " + (kind || "info");
    window.clearTimeout(box._timer);
    box._timer = window.setTimeout(function () { box.className = "geogrid-toast hidden"; }, 5000);
  }

  function map() {
    return window[config.mapName];
  }

  /* the panel's bar (who is signed in, the other language, sign-out), its title and every [data-label]
     element, in the page's language; T is the page's label function */
  function labelPage(T, title) {
    document.getElementById("who").textContent = config.user.username + " · " + config.user.scope;
    const other = document.getElementById("switch-lang");
    other.textContent = T("other");
    const url = new URL(window.location.href);
    url.searchParams.set("lang", config.lang === "en" ? "zh" : "en");
    other.href = url.pathname + url.search;
    const out = document.getElementById("sign-out");
    out.textContent = T("sign_out");
    out.addEventListener("click", signOut);
    document.getElementById("title").textContent = title || document.title;
    document.querySelectorAll("[data-label]").forEach(function (node) { node.textContent = T(node.dataset.label); });
    document.querySelectorAll("[data-aria-label]").forEach(function (node) {
      node.setAttribute("aria-label", T(node.dataset.ariaLabel));
    });
    localizeControls();
    window.setTimeout(localizeControls, 0);  /* controls the page's script adds right after */
  }

  /* Leaflet's own control texts (zoom buttons, the layers button, the attribution's link) in the page's language */
  function localizeControls() {
    const say = function (key) { return t(null, key); };
    const titled = { ".leaflet-control-zoom-in": "zoom_in", ".leaflet-control-zoom-out": "zoom_out",
      ".leaflet-control-layers-toggle": "layers" };
    Object.entries(titled).forEach(function ([selector, key]) {
      document.querySelectorAll(selector).forEach(function (node) {
        node.setAttribute("title", say(key));
        node.setAttribute("aria-label", say(key));
      });
    });
    const m = map();
    if (m && m.attributionControl && !m._geogridPrefix) {
      m._geogridPrefix = true;
      const link = el("a", { href: "https://leafletjs.com", title: say("leaflet_title"), text: "Leaflet" });
      m.attributionControl.setPrefix(link.outerHTML);
    }
  }

  window.geogrid = { config, signOut, api, t, when, duration, taxonomyName, icon, flagReason, refusalSentence, toDisplay, fromDisplay, geoJSON,
    addBasemap, el, toast, map, labelPage, wgs84ToGcj02, gcj02ToWgs84 };
})();
