// Case page: the frozen evidence map with the case area, and the countdown to expiry.
(function () {
  "use strict";
  var el = document.getElementById("evidence-map");
  if (el) {
    var map = L.map(el, { preferCanvas: true });
    var area = L.geoJSON(JSON.parse(document.getElementById("case-area").textContent), {
      style: { color: "#14213d", weight: 3, fill: false },
    }).addTo(map);
    map.fitBounds(area.getBounds().pad(3));
    fetch("/api/cases/" + el.dataset.case + "/evidence", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { document.body.dataset.evidence = "none"; return; }
        var risks = data.features.map(function (f) { return f.properties.risk; });
        var max = Math.max.apply(null, risks.concat([1e-9]));
        L.geoJSON(data, {
          style: function (f) {
            var t = Math.sqrt(f.properties.risk / max);
            return { stroke: false, fillColor: "#b30000", fillOpacity: 0.1 + 0.7 * t };
          },
        }).addTo(map);
        area.bringToFront();
        document.body.dataset.evidence = "loaded";
      });
  }
  var cd = document.getElementById("countdown");
  if (cd && cd.dataset.live === "yes" && cd.dataset.end) {
    // count from the server's clock (which tests move), not the browser's
    var left = new Date(cd.dataset.end) - new Date(cd.dataset.now);
    var t0 = Date.now();
    var tick = function () {
      var ms = left - (Date.now() - t0);
      if (ms <= 0) { cd.textContent = "expired: reload"; return; }
      var h = Math.floor(ms / 3.6e6), m = Math.floor((ms % 3.6e6) / 6e4), s = Math.floor((ms % 6e4) / 1e3);
      cd.textContent = h + " h " + String(m).padStart(2, "0") + " min " + String(s).padStart(2, "0") + " s";
    };
    tick();
    setInterval(tick, 1000);
  }
})();
