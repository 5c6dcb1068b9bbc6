/* The console's dashboard charts (fenxiao/dashboard.py): Apache ECharts (vendored) fed by the
   figures the page embeds with json_script, the same JSON the reports API serves. Clicking a
   bar, a point or a slice opens the list behind it. */
(function () {
  "use strict";
  var form = document.getElementById("dashboard-range");
  if (form) {
    form.querySelectorAll("input[type=date]").forEach(function (input) {
      input.addEventListener("change", function () { form.elements.range.value = "custom"; });
    });
  }
  var dataNode = document.getElementById("dashboard-data");
  if (!dataNode || typeof echarts === "undefined") { return; }
  var data = JSON.parse(dataNode.textContent);
  var words = JSON.parse(document.getElementById("dashboard-labels").textContent);
  var summary = data.summary, buckets = summary.buckets;
  var labels = buckets.map(function (b) { return summary.interval === "month" ? b.start.slice(0, 7) : b.start; });
  var num = function (s) { return s === null || s === undefined ? 0 : Number(s); };
  var charts = [];

  function draw(id, option, urlOf) {
    var node = document.getElementById(id);
    if (!node) { return; }
    var chart = echarts.init(node, null, { renderer: "canvas" });
    option.animation = false;
    option.tooltip = option.tooltip || { trigger: "axis" };
    chart.setOption(option);
    if (urlOf) {
      chart.on("click", function (p) { var url = urlOf(p); if (url) { window.location.href = url; } });
    }
    charts.push(chart);
  }
  var grid = { left: 56, right: 56, top: 40, bottom: 40, containLabel: true };
  var time = { type: "category", data: labels };
  var bucketUrl = function (key) { return function (p) { return data.bucket_links[p.dataIndex][key]; }; };

  draw("chart-sales", {
    legend: { data: [words.net_sales, words.orders] }, grid: grid, xAxis: time,
    yAxis: [{ type: "value", name: summary.currency }, { type: "value", name: words.orders, minInterval: 1 }],
    series: [
      { name: words.net_sales, type: "bar", data: buckets.map(function (b) { return num(b.net_sales); }) },
      { name: words.orders, type: "line", yAxisIndex: 1, data: buckets.map(function (b) { return b.orders; }) }
    ]
  }, bucketUrl("orders"));

  draw("chart-levels", {
    legend: {}, grid: grid, xAxis: time, yAxis: { type: "value", name: summary.currency },
    series: ["1", "2", "3"].map(function (level) {
      return { name: words.level.replace("%(n)s", level), type: "bar", stack: "levels",
               data: buckets.map(function (b) { return num(b.commission_by_level[level].net); }) };
    })
  }, function (p) { return data.bucket_links[p.dataIndex].levels[String(p.seriesIndex + 1)]; });

  draw("chart-recruits", {
    grid: grid, xAxis: time, yAxis: { type: "value", minInterval: 1 },
    series: [{ name: words.new_distributors, type: "bar", data: buckets.map(function (b) { return b.new_distributors; }) }]
  }, bucketUrl("distributors"));

  var statuses = ["frozen", "available", "reversed"];
  draw("chart-status", {
    tooltip: { trigger: "item" }, grid: grid,
    xAxis: { type: "category", data: statuses.map(function (s) { return words[s]; }) },
    yAxis: { type: "value", name: summary.currency },
    series: [{ type: "bar", data: statuses.map(function (s, i) {
      return { value: num(data.status[s]), itemStyle: { color: ["#5470c6", "#91cc75", "#ee6666"][i] } };
    }), label: { show: true, position: "top", formatter: function (p) { return data.status[statuses[p.dataIndex]]; } } }]
  }, function (p) { return data.status_links[statuses[p.dataIndex]]; });

  var top = data.top.results.slice().reverse();
  draw("chart-top", {
    tooltip: { trigger: "item" }, grid: { left: 12, right: 48, top: 16, bottom: 24, containLabel: true },
    xAxis: { type: "value", name: summary.currency },
    yAxis: { type: "category", data: top.map(function (r) { return r.name + " (" + r.distributor_external_id + ")"; }) },
    series: [{ name: words.direct_sales, type: "bar", data: top.map(function (r) { return num(r.score); }),
               label: { show: true, position: "right" } }]
  }, function (p) { return top[p.dataIndex].url; });

  var chans = data.channels.results;
  draw("chart-channels", {
    tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" }, legend: { type: "scroll", bottom: 0 },
    series: [{ type: "pie", radius: ["35%", "65%"], data: chans.map(function (r) {
      return { name: r.channel || words.no_channel, value: num(r.net_sales) };
    }), label: { formatter: "{b}\n{d}%" } }]
  }, function (p) { return data.channel_links[chans[p.dataIndex].channel || ""]; });

  var targets = data.targets.slice().reverse();
  draw("chart-targets", {
    tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 12, right: 56, top: 36, bottom: 24, containLabel: true },
    xAxis: { type: "value", name: "%", max: function (v) { return Math.max(100, Math.ceil(v.max / 10) * 10); } },
    yAxis: { type: "category", data: targets.map(function (t) { return t.name; }) },
    series: [
      { name: words.progress, type: "bar", data: targets.map(function (t) { return num(t.percent); }),
        label: { show: true, position: "right", formatter: "{c}%" } },
      { name: words.expected, type: "scatter", symbol: "rect", symbolSize: [3, 18],
        data: targets.map(function (t) { return num(t.expected); }) }
    ]
  }, function (p) { return targets[p.dataIndex].url; });

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
