/* The bar chart of a backtest's delta by level (commissions/templates/admin/commissions/backtest/
   change_form.html): data from the page's #backtest-chart-data (the same figures as the table),
   drawn by the vendored Apache ECharts as SVG. Gains are green, losses red. */
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("backtest-delta-chart");
    var source = document.getElementById("backtest-chart-data");
    if (!el || !source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      title: { text: data.title, left: "center", textStyle: { fontSize: 14 } },
      grid: { left: 70, right: 30, top: 50, bottom: 40 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
                 valueFormatter: function (v) { return v + " " + data.currency; } },
      xAxis: { type: "category", data: data.labels, axisTick: { alignWithLabel: true } },
      yAxis: { type: "value", name: data.currency },
      series: [{
        name: data.name, type: "bar", barMaxWidth: 80,
        data: data.deltas.map(function (text) {
          var value = Number(text);
          return { value: value, label: { formatter: text, position: value < 0 ? "bottom" : "top" },
                   itemStyle: { color: value < 0 ? "#cf222e" : "#1a7f37" } };
        }),
        label: { show: true, position: "top" }
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
