/* The live map: draws the gateway's routes, then follows the app's event stream (/events):
 * a "snapshot" (every entity) when the stream opens, "update" (changed and removed
 * entities) as notifications reach the app, and "status". The page never calls the broker.
 *
 * window.kaido exposes the markers (vehicles, spots: Map id -> {marker, view}) for tests.
 */
(function () {
  "use strict";

  const SPOT_SIZE = 12; // px, one parking spot
  const SPOT_GAP = 3; // px between spots of a car park
  const SPOT_COLUMNS = 4; // spots per row of a car park's block
  const BUS_SIZE = 26; // px
  const NARA = [34.683, 135.815];

  const map = L.map("map", { zoomSnap: 0.25, minZoom: 11, maxZoom: 19 });
  map.attributionControl.setPrefix(
    '<a href="https://leafletjs.com">Leaflet</a> · routes: examples/gateway (approximate)'
  );
  map.setView(NARA, 14);
  map.createPane("grid").style.zIndex = 200;
  map.createPane("routes").style.zIndex = 300;
  map.createPane("sites").style.zIndex = 620;
  // Car park names on the map from zoom 15 on (below, they run into each other).
  const showNames = () => map.getContainer().classList.toggle("show-site-names", map.getZoom() >= 15);
  map.on("zoomend", showNames);
  showNames();

  const vehicles = new Map(); // id -> {marker, view}
  const spots = new Map(); // id -> {marker, view}
  const sites = new Map(); // refParkingSite -> {name, label (marker)}
  const routeColors = new Map(); // routeShortName -> colour
  const state = { fitted: false, backgroundBounds: null };

  const $ = (id) => document.getElementById(id);

  function escapeHtml(text) {
    return String(text == null ? "" : text).replace(
      /[&<>"']/g,
      (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]
    );
  }

  // Background: a light grid (every 0.005°) and the gateway's routes, stops and car parks.

  function drawGrid(bounds) {
    const step = 0.005;
    const south = Math.floor((bounds.getSouth() - 0.03) / step) * step;
    const north = Math.ceil((bounds.getNorth() + 0.03) / step) * step;
    const west = Math.floor((bounds.getWest() - 0.05) / step) * step;
    const east = Math.ceil((bounds.getEast() + 0.05) / step) * step;
    const style = { pane: "grid", color: "#d8d2c2", weight: 1, interactive: false };
    for (let lat = south; lat <= north + 1e-9; lat += step) {
      L.polyline([[lat, west], [lat, east]], style).addTo(map);
    }
    for (let lon = west; lon <= east + 1e-9; lon += step) {
      L.polyline([[south, lon], [north, lon]], style).addTo(map);
    }
  }

  function drawBackground(collection) {
    const layer = L.geoJSON(collection, {
      pane: "routes",
      filter: (f) => f.properties.kind !== "site",
      style: (f) => ({ color: f.properties.color, weight: 5, opacity: 0.45 }),
      pointToLayer: (f, latlng) =>
        L.circleMarker(latlng, {
          pane: "routes",
          radius: 3,
          color: "#495057",
          weight: 1,
          fillColor: "#fff",
          fillOpacity: 1,
        }).bindTooltip(escapeHtml(f.properties.name), { className: "stop-label" }),
    }).addTo(map);
    const legend = $("routes");
    for (const f of collection.features) {
      const p = f.properties;
      if (p.kind === "route") {
        routeColors.set(p.name, p.color);
        const item = document.createElement("li");
        item.innerHTML =
          `<span class="swatch line" style="background:${escapeHtml(p.color)}"></span>` +
          `<span><b>${escapeHtml(p.name)}</b><br><small>${escapeHtml(p.description)}</small></span>`;
        legend.appendChild(item);
      } else if (p.kind === "site") {
        const [lon, lat] = f.geometry.coordinates;
        siteEntry(p.id, p.name, L.latLng(lat, lon));
      }
    }
    for (const siteId of sites.keys()) layoutSite(siteId); // their names are known now
    renderPanel();
    state.backgroundBounds = layer.getBounds();
    drawGrid(state.backgroundBounds);
    for (const entry of vehicles.values()) styleBus(entry); // colours now known
    if (!state.fitted) map.fitBounds(state.backgroundBounds, { padding: [30, 30], animate: false });
  }

  // Parking spots: a square each, coloured by status; the spots of a car park form a block
  // (at city zoom they are metres apart and would all fall on one pixel), with a label.

  function statusClass(status) {
    return status === "free" || status === "occupied" ? `spot-${status}` : "spot-other";
  }

  function siteEntry(siteId, name, latlng) {
    let site = sites.get(siteId);
    if (!site) {
      site = { id: siteId, name: name || siteId.split(":").pop(), latlng: latlng, label: null };
      sites.set(siteId, site);
    } else if (name) {
      site.name = name;
      site.latlng = latlng || site.latlng;
    }
    return site;
  }

  function siteSpots(siteId) {
    return [...spots.values()]
      .filter((e) => e.marker && e.view.group === siteId)
      .sort((a, b) => (a.view.id < b.view.id ? -1 : 1));
  }

  function spotIcon(entry, index, total) {
    const columns = Math.min(SPOT_COLUMNS, total);
    const rows = Math.ceil(total / columns);
    const cell = SPOT_SIZE + SPOT_GAP;
    const x = (index % columns) * cell - ((columns - 1) * cell) / 2;
    const y = Math.floor(index / columns) * cell - ((rows - 1) * cell) / 2;
    return L.divIcon({
      className: `spot-marker ${statusClass(entry.view.status)}`,
      iconSize: [SPOT_SIZE, SPOT_SIZE],
      iconAnchor: [SPOT_SIZE / 2 - x, SPOT_SIZE / 2 - y],
      html: "",
    });
  }

  function decorateSpot(entry) {
    const el = entry.marker.getElement();
    if (!el) return;
    el.dataset.id = entry.view.id;
    el.dataset.status = entry.view.status || "";
    el.className = el.className.replace(/\bspot-(free|occupied|other)\b/g, "").trim();
    el.classList.add(statusClass(entry.view.status));
  }

  function spotTooltip(view) {
    const site = sites.get(view.group);
    return (
      `<b>${escapeHtml(view.label || view.id)}</b> ${escapeHtml(view.status || "?")}` +
      (site ? `<br>${escapeHtml(site.name)}` : "")
    );
  }

  function placeSpot(entry, index, total) {
    const slot = `${index}/${total}`;
    if (entry.slot !== slot) {
      entry.slot = slot; // a new icon only when the spot's place in the block changes
      entry.marker.setIcon(spotIcon(entry, index, total));
    }
    decorateSpot(entry);
  }

  function layoutSite(siteId) {
    if (!siteId) return; // a spot of no car park stands alone (see upsertSpot)
    const members = siteSpots(siteId);
    members.forEach((entry, i) => placeSpot(entry, i, members.length));
    const site = sites.get(siteId);
    if (!site) return;
    if (!members.length) {
      if (site.label) site.label.remove();
      site.label = null;
      return;
    }
    // A label to the right of the block: "name · 3/4 free" (the name from zoom 15 on).
    const free = members.filter((e) => e.view.status === "free").length;
    const cell = SPOT_SIZE + SPOT_GAP;
    const columns = Math.min(SPOT_COLUMNS, members.length);
    const rows = Math.ceil(members.length / columns);
    const icon = L.divIcon({
      className: "site-label",
      html:
        `<span class="site-name">${escapeHtml(site.name)} · </span>` +
        `${free}/${members.length} free`,
      iconSize: null,
      iconAnchor: [-6 - (columns * cell) / 2, (rows * cell) / 2 - 2],
    });
    const at = members[0].marker.getLatLng();
    if (site.label) {
      site.label.setLatLng(at).setIcon(icon);
    } else {
      site.label = L.marker(at, { icon, pane: "sites", interactive: false, keyboard: false });
      site.label.addTo(map);
    }
  }

  function upsertSpot(view) {
    let entry = spots.get(view.id);
    const oldGroup = entry ? entry.view.group : undefined;
    if (view.lat == null || view.lon == null) {
      removeEntity(view.id);
      spots.set(view.id, { marker: null, view }); // counted, not drawn
      return;
    }
    if (!entry || !entry.marker) {
      entry = { marker: null, view, slot: "0/1" };
      entry.marker = L.marker([view.lat, view.lon], {
        icon: spotIcon(entry, 0, 1),
        keyboard: false,
      });
      spots.set(view.id, entry);
      const shown = entry;
      entry.marker.bindTooltip(() => spotTooltip(shown.view), { direction: "top" });
      entry.marker.addTo(map);
    } else {
      entry.view = view;
      entry.marker.setLatLng([view.lat, view.lon]);
    }
    if (view.group && !sites.has(view.group)) siteEntry(view.group, null, null);
    if (oldGroup !== undefined && oldGroup !== view.group) layoutSite(oldGroup);
    if (view.group) layoutSite(view.group);
    else placeSpot(entry, 0, 1);
  }

  // Buses: a disc in the colour of the line, the fleet number, an arrow for the bearing.

  function styleBus(entry) {
    const el = entry.marker.getElement();
    if (!el) return;
    const v = entry.view;
    el.dataset.id = v.id;
    el.dataset.lat = String(v.lat);
    el.dataset.lon = String(v.lon);
    el.style.background = routeColors.get(v.group) || "#495057";
    el.classList.toggle("stopped", v.status === "stopped");
    el.querySelector(".bus-label").textContent = (v.label || v.id.split(":").pop()).slice(-4);
    const arrow = el.querySelector(".bus-arrow");
    arrow.style.transform = `rotate(${v.bearing == null ? 0 : v.bearing}deg)`;
  }

  function busTooltip(v) {
    const parts = [`<b>${escapeHtml(v.group || "bus")}</b> ${escapeHtml(v.label || v.id)}`];
    if (v.speed != null) parts.push(`${Math.round(v.speed)} km/h`);
    if (v.occupancy != null) parts.push(`${Math.round(v.occupancy * 100)}% full`);
    if (v.status) parts.push(escapeHtml(v.status));
    return parts.join(" · ");
  }

  function upsertVehicle(view) {
    let entry = vehicles.get(view.id);
    if (view.lat == null || view.lon == null) {
      removeEntity(view.id);
      vehicles.set(view.id, { marker: null, view });
      return;
    }
    if (!entry || !entry.marker) {
      const icon = L.divIcon({
        className: "bus-marker",
        iconSize: [BUS_SIZE, BUS_SIZE],
        html: '<span class="bus-arrow"></span><span class="bus-label"></span>',
      });
      const marker = L.marker([view.lat, view.lon], { icon, keyboard: false, zIndexOffset: 1000 });
      entry = { marker, view };
      vehicles.set(view.id, entry);
      marker.bindTooltip(() => busTooltip(entry.view), { direction: "top", offset: [0, -10] });
      marker.addTo(map);
    } else {
      entry.view = view;
      entry.marker.setLatLng([view.lat, view.lon]);
    }
    styleBus(entry);
  }

  function removeEntity(id) {
    for (const collection of [vehicles, spots]) {
      const entry = collection.get(id);
      if (!entry) continue;
      collection.delete(id);
      if (entry.marker) entry.marker.remove();
      if (collection === spots) layoutSite(entry.view.group);
    }
  }

  function applyView(view) {
    if (view.kind === "vehicle") upsertVehicle(view);
    else if (view.kind === "spot") upsertSpot(view);
  }

  // The panel: counts, free spots per car park, connection status.

  function renderPanel() {
    const buses = [...vehicles.values()];
    const all = [...spots.values()];
    $("bus-count").textContent = buses.length;
    $("running-count").textContent = buses.filter((e) => e.view.status === "running").length;
    $("spot-count").textContent = all.length;
    $("free-count").textContent = all.filter((e) => e.view.status === "free").length;
    const rows = [];
    const groups = [...new Set(all.map((e) => e.view.group))].sort((a, b) =>
      String(a).localeCompare(String(b))
    );
    for (const group of groups) {
      const members = all.filter((e) => e.view.group === group);
      const free = members.filter((e) => e.view.status === "free").length;
      const site = sites.get(group);
      const name = site ? site.name : group || "(no car park)";
      rows.push(
        `<tr data-site="${escapeHtml(group || "")}"><td>${escapeHtml(name)}</td>` +
          `<td><b>${free}</b> / ${members.length}</td></tr>`
      );
    }
    document.querySelector("#sites tbody").innerHTML = rows.join("");
  }

  function setStatus(status, detail) {
    $("connection").className = `status-${status}`;
    $("status-text").textContent = status === "live" ? "live" : detail || status;
    $("status-text").title = detail || "";
    kaido.status = status;
  }

  function setMeta(data) {
    if (data.lastUpdate) {
      $("last-update").textContent = new Date(data.lastUpdate).toLocaleTimeString();
    }
    if (data.notifications != null) kaido.notifications = data.notifications;
    $("notification-count").textContent = kaido.notifications;
    if (data.broker) $("broker").textContent = data.broker;
  }

  function fitToEntities() {
    const points = [...vehicles.values(), ...spots.values()]
      .filter((e) => e.marker)
      .map((e) => e.marker.getLatLng());
    if (!points.length) return;
    const bounds = L.latLngBounds(points);
    if (state.backgroundBounds) bounds.extend(state.backgroundBounds);
    map.fitBounds(bounds, { padding: [30, 30], maxZoom: 16, animate: false });
    state.fitted = true;
  }

  function onSnapshot(data) {
    const ids = new Set(data.entities.map((v) => v.id));
    for (const id of [...vehicles.keys(), ...spots.keys()]) {
      if (!ids.has(id)) removeEntity(id);
    }
    data.entities.forEach(applyView);
    setStatus(data.status, data.detail);
    setMeta(data);
    renderPanel();
    if (!state.fitted) fitToEntities();
    kaido.snapshots += 1;
  }

  function onUpdate(data) {
    data.removed.forEach(removeEntity);
    data.entities.forEach(applyView);
    setMeta(data);
    renderPanel();
    kaido.updates += 1;
  }

  const kaido = {
    map,
    vehicles,
    spots,
    sites,
    status: "starting",
    snapshots: 0,
    updates: 0,
    notifications: 0,
    /** [lat, lon] of an entity's marker, or null. */
    position(id) {
      const entry = vehicles.get(id) || spots.get(id);
      if (!entry || !entry.marker) return null;
      const p = entry.marker.getLatLng();
      return [p.lat, p.lng];
    },
  };
  window.kaido = kaido;

  fetch("background.geojson")
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
    .then(drawBackground)
    .catch((err) => console.warn("no background:", err));

  const source = new EventSource("events");
  source.addEventListener("snapshot", (e) => onSnapshot(JSON.parse(e.data)));
  source.addEventListener("update", (e) => onUpdate(JSON.parse(e.data)));
  source.addEventListener("status", (e) => {
    const data = JSON.parse(e.data);
    setStatus(data.status, data.detail);
  });
  source.addEventListener("error", () => {
    if (source.readyState !== EventSource.OPEN) setStatus("offline", "reconnecting to the app…");
  });
})();
