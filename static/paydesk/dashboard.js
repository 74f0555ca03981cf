// Draws the dashboard's charts from the data the page carries (#dashboard-charts), again after
// the filters swap the figures in. The tables under the charts hold the same numbers.
(function () {
  "use strict";

  function draw() {
    const source = document.getElementById("dashboard-charts");
    if (!source || !window.Chart) return;
    const charts = JSON.parse(source.textContent);
    const rtl = document.documentElement.dir === "rtl";
    const locale = document.documentElement.lang || "en";
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      const spec = charts[canvas.dataset.chart];
      if (!spec) return;
      const previous = window.Chart.getChart(canvas);
      if (previous) previous.destroy();
      const counts = { beginAtZero: true, ticks: { precision: 0 } };
      new window.Chart(canvas, {
        type: spec.type,
        data: { labels: spec.labels, datasets: spec.datasets },
        options: {
          locale: locale,
          indexAxis: spec.horizontal ? "y" : "x",
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          scales: {
            x: Object.assign({ reverse: rtl }, spec.horizontal ? counts : {}),
            y: Object.assign({ position: rtl ? "right" : "left" }, spec.horizontal ? {} : counts),
          },
          plugins: { legend: { position: "bottom", rtl: rtl }, tooltip: { rtl: rtl } },
        },
      });
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.id === "dashboard-body") draw();
  });
})();
