/* warmline duty map: open tips as markers, live by server-sent events. No inline script:
   the page's data and words come from the JSON block #wl-data. */
(function () {
  "use strict";
  var page = JSON.parse(document.getElementById("wl-data").textContent);
  var S = page.strings;
  var STATES = ["urgent", "overdue", "unclaimed", "claimed", "en_route", "en_route_eta", "on_scene"];

  function say(key, values) {
    var text = S[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  var map = L.map("map", { attributionControl: false, zoomSnap: 0.5 });
  var background = L.layerGroup().addTo(map);
  var tipsLayer = L.layerGroup().addTo(map);
  var positionsLayer = L.layerGroup();
  var hotspotsLayer = L.layerGroup();
  var landmarksLayer = L.layerGroup().addTo(map);
  var overlays = {};
  overlays[S["web.dash.landmarks"]] = landmarksLayer;
  overlays[S["web.dash.positions"]] = positionsLayer;
  overlays[S["web.dash.hotspots"]] = hotspotsLayer;
  L.control.layers(null, overlays, { collapsed: true }).addTo(map);

  var legend = document.getElementById("wl-legend");
  STATES.forEach(function (state) {
    var item = el("li");
    item.appendChild(el("span", { "class": "wl-swatch wl-state-" + state }));
    item.appendChild(document.createTextNode(page.markers[state]));
    legend.appendChild(item);
  });
  var lateItem = el("li", { "class": "wl-legend-late" }, "◌ " + S["web.dash.late"]);
  legend.appendChild(lateItem);

  var first = true;
  var openId = null;
  var count = document.getElementById("wl-count");
  var live = document.getElementById("wl-live");

  function drawBackground(data) {
    background.clearLayers();
    landmarksLayer.clearLayers();
    if (data.tiles) {
      L.tileLayer(data.tiles, { maxZoom: 18 }).addTo(background);
    }
    L.polygon(data.area, { className: "wl-area", interactive: false }).addTo(background);
    data.places.forEach(function (place) {
      if (place.kind === "district") {
        L.tooltip({ permanent: true, direction: "center", className: "wl-district", interactive: false })
          .setLatLng(place.at).setContent(place.name).addTo(background);
      } else {
        L.circleMarker(place.at, { radius: 3, className: "wl-landmark" })
          .bindTooltip(place.name).addTo(landmarksLayer);
      }
    });
  }

  function drawTips(data) {
    tipsLayer.clearLayers();
    var bounds = [];
    data.tips.forEach(function (tip) {
      var classes = "wl-marker wl-state-" + tip.state + " wl-age-" + tip.age + (tip.late ? " wl-late" : "");
      var marker = L.circleMarker(tip.at, { radius: tip.urgent ? 11 : 9, className: classes });
      var words = [tip.code, page.markers[tip.state]];
      if (tip.late) { words.push(S["web.dash.late"]); }
      if (tip.eta) { words.push(say("web.dash.eta", { time: tip.eta })); }
      words.push(say("web.dash.minutes_ago", { minutes: tip.age_minutes }));
      marker.bindTooltip(words.join(" · "));
      marker.on("click", function () { openTip(tip.id); });
      marker.addTo(tipsLayer);
      var path = marker.getElement();
      if (path) {
        path.setAttribute("data-code", tip.code);
        path.setAttribute("data-state", tip.state);
        path.setAttribute("data-late", tip.late ? "1" : "0");
        path.setAttribute("role", "button");
        path.setAttribute("aria-label", words.join(" · "));
      }
      bounds.push(tip.at);
    });
    positionsLayer.clearLayers();
    data.positions.forEach(function (p) {
      L.circleMarker(p.at, { radius: 6, className: "wl-position" })
        .bindTooltip(p.name + " " + p.time).addTo(positionsLayer);
    });
    hotspotsLayer.clearLayers();
    data.hotspots.forEach(function (h) {
      L.circle(h.at, { radius: 150, className: "wl-hotspot" })
        .bindTooltip(h.label + " (" + h.count + ")").addTo(hotspotsLayer);
    });
    count.textContent = data.tips.length ? say("web.dash.open_count", { count: data.tips.length }) : S["web.dash.none_open"];
    if (first) {
      first = false;
      if (bounds.length) {
        map.fitBounds(L.latLngBounds(bounds).pad(0.6), { maxZoom: 13 });
      } else {
        map.fitBounds(L.latLngBounds(data.area));
      }
    }
    document.body.setAttribute("data-tips", String(data.tips.length));
  }

  // One fetch at a time; a change event that comes while one is under way (which may have
  // read the tips before that change) brings one more fetch when it ends.
  var loading = null;
  var again = false;
  function refresh() {
    if (loading) { again = true; return loading; }
    loading = fetch("api/map", { credentials: "same-origin" }).then(function (answer) {
      if (answer.status === 401) { window.location.reload(); return null; }
      return answer.json();
    }).then(function (data) {
      if (!data) { return; }
      if (first) { drawBackground(data); }
      drawTips(data);
      if (openId !== null) { openTip(openId, true); }
      document.body.setAttribute("data-version", String(Date.now()));
    }).catch(function () { /* the stream's reconnect refreshes again */ })
      .then(function () {
        loading = null;
        if (again) { again = false; refresh(); }
      });
    return loading;
  }

  var panel = document.getElementById("wl-panel");
  function closePanel() { panel.hidden = true; openId = null; }

  function openTip(id, quiet) {
    openId = id;
    return fetch("api/tips/" + id, { credentials: "same-origin" }).then(function (answer) {
      if (!answer.ok) { if (!quiet) { closePanel(); } return null; }
      return answer.json();
    }).then(function (tip) {
      if (!tip) { return; }
      showTip(tip);
    });
  }

  function showTip(tip) {
    var note = panel.querySelector(".wl-note");
    panel.textContent = "";
    var close = el("button", { "class": "wl-close", type: "button" }, S["web.dash.close"]);
    close.addEventListener("click", closePanel);
    panel.appendChild(close);
    panel.appendChild(el("h2", { id: "wl-tip-code" }, tip.code + " · " + tip.state_words));
    panel.appendChild(el("pre", { id: "wl-card" }, tip.card));
    if (page.may_act && tip.actions.length) {
      var actions = el("div", { "class": "wl-actions" });
      tip.actions.forEach(function (action) {
        var button = el("button", { type: "button", "data-action": action, "class": action === "invalid" ? "wl-danger" : "" },
          S["web.dash.action." + action]);
        button.addEventListener("click", function () { act(tip, action); });
        actions.appendChild(button);
      });
      panel.appendChild(actions);
    } else if (page.group) {
      panel.appendChild(el("p", { "class": "wl-note" }, say("web.dash.read_only", { group: page.group })));
    }
    if (note) { panel.appendChild(note); }
    panel.appendChild(el("h3", {}, S["web.dash.evidence"]));
    var thumbs = el("div", { "class": "wl-thumbs" });
    tip.media.forEach(function (m) {
      var link = el("a", { href: m.url, target: "_blank", rel: "noopener" });
      link.appendChild(el("img", { src: m.url, alt: tip.code, loading: "lazy" }));
      thumbs.appendChild(link);
    });
    if (!tip.media.length) { thumbs.appendChild(el("span", {}, S["web.dash.no_evidence"])); }
    panel.appendChild(thumbs);
    panel.appendChild(el("h3", {}, S["web.dash.timeline"]));
    var list = el("ol", { id: "wl-timeline" });
    tip.timeline.forEach(function (entry) { list.appendChild(el("li", {}, entry.at + " " + entry.what)); });
    panel.appendChild(list);
    panel.hidden = false;
  }

  function act(tip, action) {
    if (action === "invalid" && !window.confirm(S["web.dash.confirm_invalid"])) { return; }
    fetch("api/tips/" + tip.id + "/" + action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": page.csrf }
    }).then(function (answer) {
      var old = panel.querySelector(".wl-note");
      if (old) { old.remove(); }
      var note = el("p", { "class": "wl-note", role: "status" },
        answer.ok ? S["web.dash.done." + action] : S["web.dash.refused"]);
      panel.appendChild(note);
      return refresh();
    });
  }

  function listen() {
    var stream = new EventSource("events");
    stream.addEventListener("open", function () {
      live.className = "wl-on"; live.textContent = S["web.dash.live"];
    });
    stream.addEventListener("change", function () { refresh(); });
    stream.addEventListener("signed_out", function () { stream.close(); window.location.reload(); });
    stream.addEventListener("error", function () {
      live.className = "wl-off"; live.textContent = S["web.dash.offline"];
    });
  }

  live.textContent = S["web.dash.offline"];
  refresh().then(listen);
  // Ages and lateness move with the clock even when nothing is written.
  window.setInterval(refresh, 60000);
}());
