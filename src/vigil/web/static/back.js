// The error page's "Go back" link returns to the previous page when there is one (a static
// file: the Content-Security-Policy allows no inline script or javascript: links).
(function () {
  var link = document.getElementById("go-back");
  if (!link || window.history.length < 2) return;
  link.addEventListener("click", function (event) {
    event.preventDefault();
    window.history.back();
  });
})();
