// golive's few lines of JavaScript: htmx settings, the error banner and confirmations.
// Every action also works as a plain form post when this file does not load.
// No inline handlers (the Content-Security-Policy refuses them): behaviour hangs on data- attributes.

// <button data-print>: print the page (the sign-off sheet).
document.addEventListener("click", function (event) {
  if (event.target.closest && event.target.closest("[data-print]")) window.print();
});

document.addEventListener("DOMContentLoaded", function () {
  if (!window.htmx) return;
  htmx.config.defaultSwapStyle = "outerHTML";
  // Swap validation errors (422) and refusals (403/409) into the page like successes, so the
  // partial with its message replaces the old one; report other failures in the banner.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "(403|409|422)", swap: true, error: false },
    { code: "[45]..", swap: false, error: true },
  ];
  var banner = document.getElementById("error-banner");
  function showError(text) {
    banner.textContent = text;
    banner.hidden = false;
  }
  document.body.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    showError("The server answered " + xhr.status + " " + (xhr.statusText || "") + ". Nothing was changed; reload and try again.");
  });
  document.body.addEventListener("htmx:sendError", function () {
    showError("golive cannot be reached. Check your connection; your last action was not sent.");
  });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) banner.hidden = true;
  });
});
