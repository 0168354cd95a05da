// The survey report's charts: figures are built on the server (already suppressed), drawn here.
(function () {
  "use strict";
  var charts = [["stress-figure", "stress-chart"], ["needs-figure", "needs-chart"], ["heatmap-figure", "heatmap-chart"]];
  function draw() {
    var printing = document.querySelector(".report-print") !== null;
    charts.forEach(function (pair) {
      var data = document.getElementById(pair[0]);
      var target = document.getElementById(pair[1]);
      if (!data || !target) return;
      var figure = JSON.parse(data.textContent);
      Plotly.newPlot(target, figure.data, figure.layout, {displaylogo: false, responsive: !printing, staticPlot: printing});
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
