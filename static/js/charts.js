// Draws the performance charts with the vendored TradingView Lightweight Charts
// (static/vendor/lightweight-charts). Each container names its data: a json_script element
// (no inline script: the pages get a Content-Security-Policy later). Once drawn, the
// container carries data-points="<count>" (the browser tests read it).
(function () {
  "use strict";

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function draw(container) {
    var source = document.getElementById(container.dataset.source);
    if (!source || !window.LightweightCharts) {
      return;
    }
    var points = JSON.parse(source.textContent);
    var charts = window.LightweightCharts;
    var chart = charts.createChart(container, {
      autoSize: true,
      layout: {
        background: { type: "solid", color: cssVar("--panel", "#171d24") },
        textColor: cssVar("--muted", "#8b98a5"),
        attributionLogo: true,
      },
      grid: {
        vertLines: { color: cssVar("--line", "#26303b") },
        horzLines: { color: cssVar("--line", "#26303b") },
      },
      rightPriceScale: { borderColor: cssVar("--line", "#26303b") },
      timeScale: { borderColor: cssVar("--line", "#26303b"), timeVisible: true },
      localization: {
        priceFormatter: function (value) {
          var sign = value < 0 ? "−" : "";
          return sign + "$" + Math.abs(value).toFixed(2);
        },
      },
    });
    var series = chart.addSeries(charts.LineSeries, {
      color: cssVar("--accent-2", "#2f81f7"),
      lineWidth: 2,
      priceFormat: { type: "price", precision: 2, minMove: 0.01 },
    });
    series.setData(points);
    chart.timeScale().fitContent();
    container.dataset.points = String(series.data().length);
  }

  function drawAll() {
    document.querySelectorAll("[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
