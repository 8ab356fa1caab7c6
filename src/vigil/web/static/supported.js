// Marks the page as one where GOV.UK Frontend's JavaScript runs (the template's inline snippet,
// moved to a file: the Content-Security-Policy allows no inline script).
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
