// golive's few lines of JavaScript: htmx settings, the error banner and confirmations.
// Every action also works as a plain form post when this file does not load.
// No inline handlers (the Content-Security-Policy refuses them): behaviour hangs on data- attributes.

// <button data-print>: print the page (the sign-off sheet).
document.addEventListener("click", function (event) {
  if (event.target.closest && event.target.closest("[data-print]")) window.print();
});

// Forms put keyboard focus on the first field with an error, so a person fixes it without hunting.
var INVALID = '[aria-invalid="true"], .has-error input, .has-error select, .has-error textarea';
function focusFirstError(root) {
  var field = root.querySelector && root.querySelector(INVALID);
  if (field) {
    field.focus();
    return true;
  }
  return false;
}

// An htmx swap replaces the element that had focus: put focus back where the person was. Ticking
// a checklist item done moves on to the next item's box, so a keyboard user ticks down the list.
var pendingFocus = null;
function rememberFocus(target) {
  var active = document.activeElement;
  if (!target || !target.id || !active || active === document.body || !target.contains(active)) return;
  pendingFocus = { id: target.id, wasOpenBox: active.matches(".ck-box:not(.ck-box-done)") };
}
function nextRowBox(row) {
  var rows = Array.prototype.slice.call(document.querySelectorAll(".ck-row"));
  for (var i = rows.indexOf(row) + 1; i < rows.length; i++) {
    var box = rows[i].querySelector("button.ck-box");
    if (box) return box;
  }
  return null;
}
function restoreFocus() {
  if (!pendingFocus) return;
  var element = document.getElementById(pendingFocus.id);
  var movesOn = pendingFocus.wasOpenBox;
  pendingFocus = null;
  if (!element || focusFirstError(element)) return;
  var box = element.querySelector("button.ck-box");
  var target = movesOn && element.dataset.state === "done" ? nextRowBox(element) || box : box;
  if (!target) {
    target = element;
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  }
  target.focus();
}

document.addEventListener("DOMContentLoaded", function () {
  focusFirstError(document);
  if (!window.htmx) return;
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    rememberFocus(event.detail.target);
  });
  document.body.addEventListener("htmx:afterSettle", restoreFocus);
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
