/* Draws each dashboard chart from its table (dashboard/charts.py) with ECharts. Without
   the library the tables beneath the charts are the dashboard. */
(function () {
  "use strict";
  if (!window.echarts) return;
  document.documentElement.classList.add("charts-drawn");
  var palette = ["#2f6fde", "#e07b24", "#2e9d63", "#c0392b", "#8e44ad", "#16a2b8"];
  var drawn = [];

  function column(rows, index) {
    return rows.map(function (row) { return row[index]; });
  }

  function series(spec, type) {
    return spec.series.map(function (index) {
      return { name: spec.columns[index], type: type, data: column(spec.rows, index) };
    });
  }

  function optionFor(spec) {
    var names = column(spec.rows, 0);
    var base = {
      color: palette,
      tooltip: { trigger: spec.kind === "pie" || spec.kind === "heatmap" ? "item" : "axis", confine: true },
      grid: { left: 8, right: 12, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0, type: "scroll" }
    };
    if (spec.kind === "pie") {
      base.series = [{
        type: "pie", radius: ["35%", "65%"], top: 24,
        data: spec.rows.map(function (row) { return { name: row[0], value: row[1] }; })
      }];
      return base;
    }
    if (spec.kind === "heatmap") {
      var ys = [], xs = [], max = 0;
      spec.rows.forEach(function (row) {
        if (ys.indexOf(row[0]) < 0) ys.push(row[0]);
        if (xs.indexOf(row[1]) < 0) xs.push(row[1]);
        max = Math.max(max, row[2]);
      });
      base.legend = undefined;
      base.grid.bottom = 48;
      base.xAxis = { type: "category", data: xs, axisLabel: { rotate: 45, interval: 0 } };
      base.yAxis = { type: "category", data: ys };
      base.visualMap = { min: 0, max: max || 1, orient: "horizontal", left: "center", bottom: 0, itemHeight: 80, calculable: true };
      base.series = [{
        type: "heatmap", label: { show: xs.length * ys.length <= 60 },
        data: spec.rows.map(function (row) { return [xs.indexOf(row[1]), ys.indexOf(row[0]), row[2]]; })
      }];
      return base;
    }
    if (spec.kind === "line") {
      // The first drawn column is a count (bars, left axis); the others are rates (lines, right axis).
      var drawnSeries = series(spec, "line");
      drawnSeries[0].type = "bar";
      for (var i = 1; i < drawnSeries.length; i++) { drawnSeries[i].yAxisIndex = 1; drawnSeries[i].smooth = true; }
      base.xAxis = { type: "category", data: names };
      base.yAxis = [{ type: "value" }, { type: "value", max: 100, axisLabel: { formatter: "{value}%" } }];
      base.series = drawnSeries;
      return base;
    }
    var horizontal = spec.kind === "hbar";
    var category = { type: "category", data: names, axisLabel: { interval: 0, width: 96, overflow: "truncate" } };
    base.xAxis = horizontal ? { type: "value" } : category;
    base.yAxis = horizontal ? category : { type: "value" };
    if (horizontal) category.inverse = true;
    base.series = series(spec, "bar");
    return base;
  }

  function draw() {
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var source = document.getElementById(element.getAttribute("data-chart"));
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      var rows = spec.kind === "heatmap" ? new Set(column(spec.rows, 0)).size : spec.rows.length;
      if (spec.kind === "hbar" || spec.kind === "heatmap") element.style.height = Math.max(240, 48 + rows * 26) + "px";
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      chart.setOption(optionFor(spec));
      drawn.push(chart);
      // The table stays one tap away once the chart shows the same numbers.
      var table = element.parentNode.querySelector("details.dash-table");
      if (table) table.open = false;
    });
  }

  window.addEventListener("resize", function () { drawn.forEach(function (chart) { chart.resize(); }); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
