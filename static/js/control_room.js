// The control room: charts redraw from the JSON each poll brings; a red banner appears when polls
// stop arriving; a status change seen in a poll tells the other panels (migrationChanged).
// The poll period comes from the banner's data-poll-seconds.
(function () {
  var lastOk = Date.now(), lastStatus = null;
  function draw() {
    var node = document.getElementById("chart-data");
    if (!node || !window.Plotly) return;
    var figures = JSON.parse(node.textContent);
    [["latency", "chart-latency"], ["success", "chart-success"]].forEach(function (pair) {
      var fig = figures[pair[0]], el = document.getElementById(pair[1]);
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
      Plotly.react(el, fig.data, fig.layout, { displayModeBar: false, responsive: true });
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
  document.addEventListener("DOMContentLoaded", function () {
    var banner = document.getElementById("live-stale");
    if (!banner) return; // not the control room
    var pollMs = Number(banner.dataset.pollSeconds || 5) * 1000;
    fresh();
    window.addEventListener("load", draw);
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
