/* warmline campaign figures: each chart (Chart.js) with a table of its counts beside it. */
(function () {
  "use strict";
  var page = JSON.parse(document.getElementById("wl-data").textContent);
  var S = page.strings;
  var LEGS = ["report_claim", "claim_arrival", "report_arrival"];
  var TITLES = { today: "stats.today", last_7_days: "stats.last_7_days", campaign: "stats.campaign" };
  var charts = [];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }
  function minutes(value) { return value === null ? "—" : value.toFixed(0); }

  function tile(key, value, id) {
    var box = el("div", { "class": "wl-tile", "data-figure": id });
    box.appendChild(el("b", {}, String(value)));
    box.appendChild(el("span", {}, S[key]));
    return box;
  }

  function table(head, rows, id) {
    var wrap = el("div", { "class": "wl-table-wrap" });
    var t = el("table", { "data-table": id });
    var tr = el("tr");
    head.forEach(function (h) { tr.appendChild(el("th", {}, h)); });
    t.appendChild(tr);
    rows.forEach(function (row) {
      var line = el("tr");
      row.forEach(function (cell) { line.appendChild(el("td", {}, String(cell))); });
      t.appendChild(line);
    });
    wrap.appendChild(t);
    return wrap;
  }

  function groupChart(parent, titleKey, id, groups, name) {
    var box = el("section", { "class": "wl-chart", "data-chart": id });
    box.appendChild(el("h2", {}, S[titleKey]));
    var holder = el("div", { "class": "wl-canvas" });
    var canvas = el("canvas", { "aria-label": S[titleKey], role: "img" });
    holder.appendChild(canvas);
    box.appendChild(holder);
    box.appendChild(table(
      ["", S["web.dash.stats.received"], S["web.dash.stats.located"], S["web.dash.stats.not_found"], S["web.dash.stats.urgent"]],
      groups.map(function (g) { return [name(g), g.received, g.located, g.not_found, g.urgent]; }), id));
    parent.appendChild(box);
    charts.push(new Chart(canvas, {
      type: "bar",
      data: {
        labels: groups.map(name),
        datasets: [
          { label: S["web.dash.stats.received"], data: groups.map(function (g) { return g.received; }), backgroundColor: "#4c78a8" },
          { label: S["web.dash.stats.located"], data: groups.map(function (g) { return g.located; }), backgroundColor: "#2ca02c" },
          { label: S["web.dash.stats.not_found"], data: groups.map(function (g) { return g.not_found; }), backgroundColor: "#e45756" }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        indexAxis: id === "by_district" ? "y" : "x",
        scales: { x: { ticks: { precision: 0 } }, y: { ticks: { precision: 0 } } }
      }
    }));
  }

  function show(period) {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    var root = document.getElementById("wl-figures");
    root.textContent = "";
    root.setAttribute("data-period", period.key);
    var tiles = el("div", { "class": "wl-tiles" });
    tiles.appendChild(tile("web.dash.stats.received", period.received, "received"));
    tiles.appendChild(tile("web.dash.stats.urgent", period.urgent, "urgent"));
    tiles.appendChild(tile("web.dash.stats.open", period.open, "open"));
    tiles.appendChild(tile("web.dash.stats.located", period.located, "located"));
    tiles.appendChild(tile("web.dash.stats.not_found", period.not_found, "not_found"));
    tiles.appendChild(tile("web.dash.stats.incidents", period.incidents, "incidents"));
    tiles.appendChild(tile("web.dash.stats.patrols", period.patrols_done + " / " + period.patrols_required, "patrols"));
    root.appendChild(tiles);

    var response = el("section", { "class": "wl-chart", "data-chart": "response" });
    response.appendChild(el("h2", {}, S["web.dash.stats.response"]));
    response.appendChild(table(
      ["", S["web.dash.stats.median"], S["web.dash.stats.p90"], S["web.dash.stats.count"]],
      LEGS.map(function (leg) {
        var r = period.response[leg];
        return [S["chart.leg." + leg], minutes(r.median), minutes(r.p90), r.count];
      }), "response"));
    root.appendChild(response);

    var rewards = el("section", { "class": "wl-chart", "data-chart": "rewards" });
    rewards.appendChild(el("h2", {}, S["web.dash.stats.rewards"]));
    rewards.appendChild(table(
      ["", S["web.dash.stats.count"], S["web.dash.stats.yuan"]],
      ["pending", "approved", "paid"].map(function (state) {
        var pair = period.rewards[state];
        return [S["web.dash.stats." + state], pair[0], pair[1]];
      }), "rewards"));
    root.appendChild(rewards);

    groupChart(root, "web.dash.stats.by_day", "by_day", period.by_day, function (g) { return g.key.slice(5); });
    groupChart(root, "web.dash.stats.by_hour", "by_hour", period.by_hour, function (g) { return g.key; });
    groupChart(root, "web.dash.stats.by_district", "by_district", period.by_district, function (g) {
      return g.key || S["web.dash.stats.unknown_district"];
    });
    document.body.setAttribute("data-ready", period.key);
  }

  fetch("api/stats", { credentials: "same-origin" }).then(function (answer) {
    if (answer.status === 401) { window.location.reload(); return null; }
    return answer.json();
  }).then(function (data) {
    if (!data) { return; }
    var tabs = document.getElementById("wl-periods");
    data.periods.forEach(function (period, i) {
      var button = el("button", { type: "button", role: "tab", "data-period": period.key,
        "aria-selected": i === 0 ? "true" : "false" }, S[TITLES[period.key]]);
      button.addEventListener("click", function () {
        tabs.querySelectorAll("button").forEach(function (b) { b.setAttribute("aria-selected", "false"); });
        button.setAttribute("aria-selected", "true");
        show(period);
      });
      tabs.appendChild(button);
    });
    show(data.periods[0]);
  });
}());
