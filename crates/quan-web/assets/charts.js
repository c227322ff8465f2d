// The console's charts (loaded only on chart pages, after ECharts): the
// grab dashboard, fed each second over server-sent events, and the report's
// district map, drawn from the boundaries quan serves. No inline scripts:
// everything the page needs is in data- attributes.
(function () {
  "use strict";
  var OUTCOMES = ["claimed", "sold_out", "limit_reached", "not_eligible", "busy", "other"];
  var NAMES = { claimed: "领取成功", sold_out: "已抢完", limit_reached: "达到上限", not_eligible: "不符合条件", busy: "繁忙重试", other: "其他" };
  var COLORS = ["#07c160", "#fa9d3b", "#10aeff", "#576b95", "#fa5151", "#b2b2b2"];

  function two(n) { return (n < 10 ? "0" : "") + n; }
  function beijingTime(unixS) {
    var d = new Date((unixS + 8 * 3600) * 1000);
    return two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + ":" + two(d.getUTCSeconds());
  }
  function text(id, v) { var e = document.getElementById(id); if (e) e.textContent = v; }

  function grab(box) {
    var rate = echarts.init(document.getElementById("chart-rate"));
    var outcomes = echarts.init(document.getElementById("chart-outcomes"));
    var stock = echarts.init(document.getElementById("chart-stock"));
    window.quanCharts = { rate: rate, outcomes: outcomes, stock: stock, updates: 0 };
    rate.setOption({
      animation: false, color: COLORS, tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0, data: OUTCOMES.map(function (o) { return NAMES[o]; }) },
      grid: { left: 48, right: 16, top: 56, bottom: 28 },
      xAxis: { type: "category", data: [] }, yAxis: { type: "value", name: "次/秒", minInterval: 1 },
      series: OUTCOMES.map(function (o) { return { name: NAMES[o], type: "line", stack: "answers", areaStyle: {}, symbol: "none", data: [] }; })
    });
    outcomes.setOption({ animation: false, color: COLORS, title: { text: "应答结果（近60秒）", textStyle: { fontSize: 13 } },
      tooltip: { trigger: "item" }, series: [{ type: "pie", radius: ["35%", "65%"], top: 24, data: [] }] });
    stock.setOption({ animation: false, title: { text: "剩余库存", textStyle: { fontSize: 13 } }, tooltip: {},
      grid: { left: 48, right: 16, top: 36, bottom: 28 }, xAxis: { type: "category", data: [] }, yAxis: { type: "value" },
      series: [{ type: "bar", itemStyle: { color: "#07c160" }, data: [] }] });
    window.addEventListener("resize", function () { rate.resize(); outcomes.resize(); stock.resize(); });

    var source = new EventSource(box.getAttribute("data-events"));
    source.addEventListener("figures", function (ev) {
      var d = JSON.parse(ev.data);
      var left = d.stock.reduce(function (s, k) { return s + k[1]; }, 0);
      text("fig-rate", d.claims_per_s);
      text("fig-stock", left);
      text("fig-claimed", d.totals[0]);
      text("fig-p99", d.p99_ms === null ? "–" : d.p99_ms + " ms");
      text("fig-nodes", d.nodes);
      if (d.points.length) text("fig-at", beijingTime(d.points[d.points.length - 1].second));
      rate.setOption({
        xAxis: { data: d.points.map(function (p) { return beijingTime(p.second); }) },
        series: OUTCOMES.map(function (o, i) { return { data: d.points.map(function (p) { return p.answers[i]; }) }; })
      });
      outcomes.setOption({ series: [{ data: OUTCOMES.map(function (o, i) { return { name: NAMES[o], value: d.totals[i] }; }) }] });
      stock.setOption({ xAxis: { data: d.stock.map(function (k) { return k[0]; }) }, series: [{ data: d.stock.map(function (k) { return k[1]; }) }] });
      OUTCOMES.forEach(function (o, i) {
        var cell = document.querySelector("#outcomes tr[data-outcome='" + o + "'] td:last-child");
        if (cell) cell.textContent = d.totals[i];
      });
      window.quanCharts.updates += 1;
      window.quanCharts.last = d;
    });
  }

  function map(box) {
    var chart = echarts.init(box);
    window.quanCharts = { map: chart };
    var metric = box.getAttribute("data-metric");
    Promise.all([
      fetch(box.getAttribute("data-geojson"), { credentials: "same-origin" }).then(function (r) { return r.json(); }),
      fetch(box.getAttribute("data-figures"), { credentials: "same-origin" }).then(function (r) { return r.json(); })
    ]).then(function (got) {
      var geo = got[0], figures = got[1];
      echarts.registerMap("quan-districts", geo);
      var values = figures.districts.map(function (d) { return d.value; });
      var max = Math.max.apply(null, values.concat([1]));
      chart.setOption({
        title: { text: figures.title, left: "center", textStyle: { fontSize: 14 } },
        tooltip: { trigger: "item", formatter: function (p) { return p.name + "：" + (p.value === undefined || isNaN(p.value) ? "无" : p.value + figures.unit); } },
        visualMap: { min: 0, max: max, left: 8, bottom: 8, calculable: true, inRange: { color: ["#e8f7ef", "#07c160", "#06753c"] } },
        series: [{ type: "map", map: "quan-districts", roam: false, nameProperty: "name", label: { show: true, fontSize: 10 },
          data: figures.districts.map(function (d) { return { name: d.name, value: d.value, code: d.code }; }) }]
      });
      window.quanCharts.metric = metric;
      window.quanCharts.ready = true;
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  // A merchant's position on its city's districts (both GCJ-02).
  function point(box) {
    var chart = echarts.init(box);
    var at = box.getAttribute("data-point").split(",").map(Number);
    window.quanCharts = { point: chart };
    fetch(box.getAttribute("data-geojson"), { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (geo) {
      echarts.registerMap("quan-city", geo);
      chart.setOption({
        geo: { map: "quan-city", roam: true, label: { show: true, fontSize: 10 }, itemStyle: { areaColor: "#f2f2f2" } },
        series: [{ type: "effectScatter", coordinateSystem: "geo", symbolSize: 12, itemStyle: { color: "#fa5151" },
          data: [{ name: box.getAttribute("data-name"), value: at }] }]
      });
      window.quanCharts.ready = true;
    });
  }

  // A boundary file chosen for import, drawn before it is sent.
  function previewFile(input) {
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      var box = document.getElementById("preview-map");
      if (!file || !box) return;
      var reader = new FileReader();
      reader.onload = function () {
        var geo;
        try { geo = JSON.parse(reader.result); } catch (e) { box.textContent = "不是有效的 GeoJSON"; return; }
        var chart = echarts.getInstanceByDom(box) || echarts.init(box);
        echarts.registerMap("quan-preview", geo);
        chart.setOption({ series: [{ type: "map", map: "quan-preview", label: { show: true, fontSize: 10 },
          data: (geo.features || []).map(function (f) { return { name: (f.properties || {}).name, value: 1 }; }) }] }, true);
        window.quanCharts = { preview: chart, features: (geo.features || []).length, ready: true };
      };
      reader.readAsText(file);
    });
  }

  function start() {
    var f = document.getElementById("geojson-file");
    if (f) previewFile(f);
    var p = document.getElementById("merchant-map");
    if (p) point(p);
    var g = document.getElementById("grab");
    if (g) grab(g);
    var m = document.getElementById("report-map");
    if (m) map(m);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
