// The control room: charts redraw from the JSON each poll brings; a red banner appears when polls
// stop arriving; a status change seen in a poll tells the other panels (migrationChanged).
// The poll period comes from the banner's data-poll-seconds.
// Plotly (about 1 MB of JS) is not a page script: it would hold back the first render and every
// button until it is evaluated. The page preloads it; this file adds it once the page has loaded
// (its URL is the charts' data-plotly-src) and draws the charts when it has run.
(function () {
  var lastOk = Date.now(), lastStatus = null;
  // One chart per task: a click (the rollback button) waits for one chart at most, not both.
  function draw() {
    var node = document.getElementById("chart-data");
    if (!node || !window.Plotly) return;
    var figures = JSON.parse(node.textContent);
    [["latency", "chart-latency"], ["success", "chart-success"]].forEach(function (pair) {
      setTimeout(function () { drawOne(figures[pair[0]], document.getElementById(pair[1])); }, 0);
    });
    // New path vs old path, one chart per KPI; their divs are kept across polls (hx-preserve).
    (figures.cohorts || []).forEach(function (entry) {
      setTimeout(function () { drawOne(entry.figure, document.getElementById(entry.id)); }, 0);
    });
  }
  function drawOne(fig, el) {
    if (!fig || !el) return;
    if (fig.empty) {
      if (el.data) Plotly.purge(el);
      var empty = document.createElement("p");
      empty.className = "empty";
      empty.textContent = fig.empty;
      el.replaceChildren(empty);
      return;
    }
    if (!el.data) el.replaceChildren();
    Plotly.react(el, fig.data, themed(fig.layout), { displayModeBar: false, responsive: true });
  }
  // The charts take the page's colours (light, dark, or the system's), read from its CSS variables.
  function themed(layout) {
    var css = getComputedStyle(document.documentElement);
    var colour = function (name) { return css.getPropertyValue(name).trim(); };
    var axis = { gridcolor: colour("--line"), linecolor: colour("--line"), zerolinecolor: colour("--line") };
    return Object.assign({}, layout, {
      paper_bgcolor: colour("--card"),
      plot_bgcolor: colour("--surface-2"),
      font: Object.assign({}, layout.font, { color: colour("--text") }),
      xaxis: Object.assign({}, layout.xaxis, axis),
      yaxis: Object.assign({}, layout.yaxis, axis),
      annotations: (layout.annotations || []).map(function (note) {
        return Object.assign({}, note, { bgcolor: colour("--card") });
      }),
    });
  }
  function fresh() {
    lastOk = Date.now();
    document.getElementById("live-stale").hidden = true;
    var live = document.getElementById("live");
    if (live) {
      var status = live.dataset.status;
      if (lastStatus !== null && status !== lastStatus && window.htmx) htmx.trigger(document.body, "migrationChanged");
      lastStatus = status;
    }
    draw();
  }
  function loadPlotly() {
    var holder = document.querySelector("[data-plotly-src]");
    if (!holder || window.Plotly) return draw();
    var script = document.createElement("script");
    script.src = holder.dataset.plotlySrc;
    script.addEventListener("load", draw);
    document.head.appendChild(script);
  }
  // Evaluating Plotly holds the main thread for hundreds of ms in one go: start it once the page
  // has loaded and the browser is idle, so a click that comes with the first paint (the rollback
  // button) is answered first.
  function whenIdle(fn) {
    if (window.requestIdleCallback) requestIdleCallback(fn, { timeout: 500 });
    else setTimeout(fn, 0);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var banner = document.getElementById("live-stale");
    if (!banner) return; // not the control room
    var pollMs = Number(banner.dataset.pollSeconds || 5) * 1000;
    fresh();
    window.addEventListener("load", function () { whenIdle(loadPlotly); });
    if (window.matchMedia) matchMedia("(prefers-color-scheme: dark)").addEventListener("change", draw);
    document.body.addEventListener("htmx:afterSettle", function (event) {
      if (event.detail.target && event.detail.target.id === "live") fresh();
    });
    setInterval(function () {
      if (Date.now() - lastOk > 3 * pollMs) {
        banner.querySelector("[data-stale-time]").textContent = new Date(lastOk).toLocaleTimeString();
        banner.hidden = false;
      }
    }, 1000);
  });
})();
