// The risk map: borough outlines and the risk choropleth from GeoJSON (no tile server), a legend,
// and a side panel with an area's drivers and history on click.
(function () {
  "use strict";
  var script = document.getElementById("map-script");
  var hasSurface = script && script.dataset.hasSurface === "yes";
  var map = L.map("map", { preferCanvas: true, zoomSnap: 0.5 }).setView([51.49, -0.12], 10);
  // Five classes on the surface's own quantiles of non-zero areas: robust to a few extreme cells.
  var COLOURS = ["#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"];
  var breaks = [];
  var surfaceLayer = null;

  function colour(pct) {
    for (var i = breaks.length - 1; i >= 0; i--) {
      if (pct >= breaks[i]) return COLOURS[i];
    }
    return COLOURS[0];
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error(url + ": HTTP " + r.status);
        return r.json();
      });
  }

  getJSON("/api/areas/boroughs").then(function (data) {
    var layer = L.geoJSON(data, {
      style: { color: "#334", weight: 1.2, fill: false, interactive: false },
    }).addTo(map);
    if (!hasSurface) map.fitBounds(layer.getBounds());
    layer.bringToFront();
    document.body.dataset.boroughs = "loaded";
  });

  function addLegend() {
    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "legend");
      div.id = "legend";
      var labels = ["lowest fifth", "", "", "", "highest fifth"];
      var html = "<strong>Expected incidents</strong><br><small>(quintiles of areas with any risk)</small>";
      for (var i = COLOURS.length - 1; i >= 0; i--) {
        html += '<div><i style="background:' + COLOURS[i] + '"></i> ' +
          (breaks[i] !== undefined ? "&ge; " + breaks[i].toFixed(2) : "") +
          (labels[i] ? " (" + labels[i] + ")" : "") + "</div>";
      }
      div.innerHTML = html;
      return div;
    };
    legend.addTo(map);
  }

  function showArea(areaId) {
    getJSON("/api/forecasts/current/areas/" + encodeURIComponent(areaId)).then(function (a) {
      var panel = document.getElementById("area-detail");
      panel.hidden = false;
      document.getElementById("area-id").textContent = a.label;
      document.getElementById("area-risk").textContent = a.risk.toFixed(1);
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
      document.body.dataset.areaShown = a.area_id;
    });
  }

  document.querySelectorAll(".area-link").forEach(function (el) {
    el.addEventListener("click", function (ev) {
      ev.preventDefault();
      showArea(el.dataset.area);
      if (surfaceLayer) {
        surfaceLayer.eachLayer(function (l) {
          if (l.feature.properties.area_id === el.dataset.area) map.fitBounds(l.getBounds(), { maxZoom: 14 });
        });
      }
    });
  });

  if (hasSurface) {
    getJSON("/api/forecasts/current/geojson").then(function (data) {
      var risks = data.features.map(function (f) { return f.properties.risk; }).sort(function (a, b) { return a - b; });
      for (var q = 0; q < COLOURS.length; q++) {
        breaks.push(risks.length ? risks[Math.floor(q * (risks.length - 1) / COLOURS.length)] : 0);
      }
      surfaceLayer = L.geoJSON(data, {
        style: function (f) {
          return { stroke: false, fillOpacity: 0.75, fillColor: colour(f.properties.risk) };
        },
        onEachFeature: function (f, layer) {
          layer.on("click", function () { showArea(f.properties.area_id); });
        },
      }).addTo(map);
      map.fitBounds(surfaceLayer.getBounds());
      addLegend();
      document.body.dataset.surface = "loaded";
    });
  }
})();
