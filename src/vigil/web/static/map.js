// The risk map: the risk surface in colour bands of area, borough outlines and names above it,
// the selected area outlined above both (no tile server: every layer is our own GeoJSON), and a
// side panel with the area's name, drivers and history.
//
// Layers live in their own panes with fixed z-indexes, so the drawing order never depends on
// which response arrives first: surface (410) < boroughs (420) < selected area (430).
(function () {
  "use strict";
  var script = document.getElementById("map-script");
  var hasSurface = script && script.dataset.hasSurface === "yes";
  var forecast = "/api/forecasts/" + encodeURIComponent((script && script.dataset.forecast) || "current");
  // band colours, highest band first (vigil.app.map_classes.BANDS, through the page)
  var COLOURS = (script && script.dataset.bands ? script.dataset.bands.split(" ") : []);
  var map = L.map("map", { zoomSnap: 0.5 }).setView([51.49, -0.12], 10);
  var PANES = { surface: 410, boroughs: 420, selected: 430 };
  Object.keys(PANES).forEach(function (name) {
    var pane = map.createPane(name);
    pane.style.zIndex = String(PANES[name]);
    pane.classList.add("vigil-pane-" + name);
  });
  pane("selected").style.pointerEvents = "none";
  pane("boroughs").style.pointerEvents = "none";
  var surfaceLayer = null;
  var selectedLayer = null;
  var boroughLabels = [];
  var LABEL_ZOOM = 11;
  // wards: fetched the first time the map is zoomed in to street scale, named from WARD_ZOOM
  var WARD_LAYER_ZOOM = 12;
  var WARD_ZOOM = 13;
  var wardLabels = [];
  var wardsAsked = false;

  function pane(name) { return map.getPane(name); }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error(url + ": HTTP " + r.status);
        return r.json();
      });
  }

  function toggle(labels, on) {
    labels.forEach(function (t) {
      var el = t.getElement && t.getElement();
      if (el) el.hidden = !on;
    });
  }

  function showLabels() {
    toggle(boroughLabels, map.getZoom() >= LABEL_ZOOM);
    toggle(wardLabels, map.getZoom() >= WARD_ZOOM);
    if (!wardsAsked && map.getZoom() >= WARD_LAYER_ZOOM) {
      wardsAsked = true;
      getJSON("/api/areas/wards").then(addWards);
    }
  }

  function addWards(data) {
    var layer = L.geoJSON(data, {
      pane: "boroughs",
      renderer: L.svg({ pane: "boroughs" }),
      style: { color: "#505a5f", weight: 1, dashArray: "4 3", fill: false, interactive: false, className: "vigil-ward" },
    }).addTo(map);
    layer.eachLayer(function (l) {
      var t = L.tooltip({ permanent: true, direction: "center", className: "vigil-ward-label", interactive: false })
        .setLatLng(l.getBounds().getCenter()).setContent(l.feature.properties.name).addTo(map);
      wardLabels.push(t);
    });
    toggle(wardLabels, map.getZoom() >= WARD_ZOOM);
    document.body.dataset.wards = "loaded";
  }

  getJSON("/api/areas/boroughs").then(function (data) {
    var layer = L.geoJSON(data, {
      pane: "boroughs",
      renderer: L.svg({ pane: "boroughs" }),
      style: { color: "#0b0c0c", weight: 1.5, fill: false, interactive: false },
    }).addTo(map);
    layer.eachLayer(function (l) {
      var centre = l.getBounds().getCenter();
      var t = L.tooltip({ permanent: true, direction: "center", className: "vigil-borough-label", interactive: false })
        .setLatLng(centre).setContent(l.feature.properties.name).addTo(map);
      boroughLabels.push(t);
    });
    showLabels();
    if (!hasSurface) map.fitBounds(layer.getBounds(), { animate: false });
    document.body.dataset.boroughs = "loaded";
  });
  map.on("zoomend", function () {
    showLabels();
    document.body.dataset.zoom = String(map.getZoom());
  });

  function outline(areaId) {
    if (!surfaceLayer) return;
    if (selectedLayer) { map.removeLayer(selectedLayer); selectedLayer = null; }
    surfaceLayer.eachLayer(function (l) {
      if (l.feature.properties.area_id !== areaId) return;
      selectedLayer = L.geoJSON(l.feature, {
        pane: "selected",
        renderer: L.svg({ pane: "selected" }),
        style: { color: "#1d70b8", weight: 4, fill: false, className: "vigil-selected" },
        interactive: false,
      }).addTo(map);
      map.fitBounds(l.getBounds(), { maxZoom: 13, animate: false });
    });
    document.body.dataset.selected = areaId;
  }

  function showArea(areaId, latlng) {
    outline(areaId);
    getJSON(forecast + "/areas/" + encodeURIComponent(areaId)).then(function (a) {
      var panel = document.getElementById("area-detail");
      panel.hidden = false;
      document.getElementById("area-id").textContent = a.label;
      document.getElementById("area-risk").textContent = a.risk.toFixed(2);
      document.getElementById("area-rank").textContent = a.rank;
      document.getElementById("area-share").textContent = (100 * a.share_of_city).toFixed(2) + "%";
      var tbody = document.querySelector("#area-drivers tbody");
      tbody.innerHTML = "";
      var drivers = a.drivers || {};
      var keys = Object.keys(drivers);
      if (!keys.length) {
        tbody.innerHTML = "<tr><td>No breakdown: drivers are kept for the top areas only.</td></tr>";
      }
      keys.forEach(function (k) {
        var tr = document.createElement("tr");
        var share = a.risk > 0 ? (100 * drivers[k] / a.risk).toFixed(0) + "%" : "";
        tr.innerHTML = "<th>" + k.replace("_", " ") + "</th><td>" + drivers[k].toFixed(2) + "</td><td>" + share + "</td>";
        tbody.appendChild(tr);
      });
      var hist = document.getElementById("area-history");
      hist.innerHTML = "";
      var max = Math.max.apply(null, a.history.map(function (h) { return h.count; }).concat([1]));
      if (!a.history.length) hist.textContent = "No incident history in the store for this area.";
      a.history.forEach(function (h) {
        var bar = document.createElement("div");
        bar.className = "bar";
        bar.title = h.month + ": " + h.count;
        bar.innerHTML = "<span style='height:" + Math.round(60 * h.count / max) + "px'></span><small>" + h.month.slice(2) + "</small>";
        hist.appendChild(bar);
      });
      var link = document.getElementById("area-open-case");
      if (link) link.href = "/cases/new?area_id=" + encodeURIComponent(a.area_id);
      var where = latlng || (selectedLayer && selectedLayer.getBounds().getCenter());
      if (where) {
        var p = document.createElement("div");
        p.className = "vigil-popup";
        var strong = document.createElement("strong");
        strong.textContent = a.label;
        p.appendChild(strong);
        p.appendChild(document.createElement("br"));
        p.appendChild(document.createTextNode(a.risk.toFixed(2) + " expected incidents, rank " + a.rank));
        L.popup({ autoPan: false }).setLatLng(where).setContent(p).openOn(map);
      }
      document.body.dataset.areaShown = a.area_id;
    });
  }

  document.querySelectorAll(".area-link").forEach(function (el) {
    el.addEventListener("click", function (ev) {
      ev.preventDefault();
      showArea(el.dataset.area);
    });
  });

  if (hasSurface) {
    getJSON(forecast + "/geojson").then(function (data) {
      surfaceLayer = L.geoJSON(data, {
        pane: "surface",
        renderer: L.canvas({ pane: "surface" }),
        style: function (f) {
          return { stroke: false, fillOpacity: 0.8, fillColor: COLOURS[f.properties.band] || "#fef0d9" };
        },
        onEachFeature: function (f, layer) {
          layer.on("click", function (e) { showArea(f.properties.area_id, e.latlng); });
        },
      }).addTo(map);
      // not animated: a zoom animation still running would undo an area picked meanwhile
      map.fitBounds(surfaceLayer.getBounds(), { animate: false });
      document.body.dataset.surface = "loaded";
    });
  }
})();
