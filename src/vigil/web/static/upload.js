// Streams the file as the request body (XHR, for upload progress), then polls the import job.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  var bar = document.getElementById("upload-bar");
  var stage = document.getElementById("upload-stage");
  var out = document.getElementById("upload-result");

  function show(text, share) {
    stage.textContent = text;
    if (share !== null) {
      bar.style.width = Math.round(100 * share) + "%";
      bar.parentNode.setAttribute("aria-valuenow", String(Math.round(100 * share)));
    }
  }

  function poll(id) {
    fetch("/api/incidents/uploads/" + id, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        if (job.state === "done") {
          show("Imported " + job.result.rows_imported + " incidents into " + job.dataset +
               " (" + job.result.rows_rejected + " rejected, " + job.result.rows_duplicate + " duplicates).", 1);
          out.hidden = false; out.textContent = JSON.stringify(job.result, null, 2);
          document.body.dataset.upload = "done";
        } else if (job.state === "failed") {
          show("Import failed: " + job.error, null);
          stage.className = "flash error";
          document.body.dataset.upload = "failed";
        } else {
          var share = job.total > 0 ? job.done / job.total : 0;
          show("Importing" + (job.stage ? " (" + job.stage + ")" : "") + "…", 0.5 + 0.5 * share);
          setTimeout(function () { poll(id); }, 500);
        }
      });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var file = document.getElementById("upload-file").files[0];
    if (!file) return;
    var params = new URLSearchParams({ filename: file.name, dataset: document.getElementById("upload-dataset").value });
    var how = document.getElementById("upload-how").value;
    if (how) params.set(how.split(":")[0], how.split(":")[1]);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/incidents/uploads?" + params.toString());
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-CSRF-Token", document.getElementById("csrf").value);
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) show("Uploading " + Math.round(e.loaded / 1024) + " of " + Math.round(e.total / 1024) + " KiB", 0.5 * e.loaded / e.total);
    };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status === 202) { poll(body.id); }
      else { show("Refused: " + (body.detail || xhr.status), null); stage.className = "flash error"; document.body.dataset.upload = "failed"; }
    };
    xhr.send(file);
  });
})();
