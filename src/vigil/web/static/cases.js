// The case list's status filter submits itself when a status is chosen (a static file, not an
// inline handler: the Content-Security-Policy allows no inline script).
(function () {
  var form = document.getElementById("status-filter");
  if (!form) return;
  var select = form.querySelector("select[name=status]");
  if (select) select.addEventListener("change", function () { form.submit(); });
})();
