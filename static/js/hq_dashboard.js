// HQ dashboard: every shelter live. Events update the state at once; the screen redraws a few
// times a second at most, so a burst of check-ins costs a few redraws and ends on exact totals.
(function () {
  "use strict";
  var L = window.Live;
  var labels = L.readJson("labels");
  var config = L.readJson("dashboard-config");
  var categories = L.readJson("categories");
  var language = document.documentElement.lang;
  var STATUS_COLOURS = { standby: "#9aa5b1", open: "#1e7b34", full: "#b35c00", closed: "#b3261e" };
  var shelters = {};
  var renders = 0;

  var categoryName = L.categoryNamer(categories, language);

  function sorted() {
    return Object.keys(shelters).map(function (id) { return shelters[id]; }).sort(function (a, b) {
      return a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id;
    });
  }

  function fullness(shelter) {
    if (!shelter.capacity) return "unknown";
    var ratio = shelter.occupancy / shelter.capacity;
    return ratio >= 1 ? "full" : ratio >= 0.9 ? "high" : ratio >= 0.6 ? "mid" : "low";
  }

  function renderTotals(list) {
    var totals = { shelters: list.length, open: 0, inside: 0, outside: 0, support: 0, capacity: 0 };
    list.forEach(function (s) {
      var open = s.status === "open" || s.status === "full";
      if (open) { totals.open += 1; totals.capacity += s.capacity || 0; }
      totals.inside += s.occupancy;
      totals.outside += s.outside_count;
      totals.support += s.support_people;
    });
    ["shelters", "open", "inside", "outside", "support", "capacity"].forEach(function (key) {
      document.getElementById("total-" + key).textContent = totals[key].toLocaleString();
    });
    return totals;
  }

  function renderAlerts(list) {
    var items = [];
    list.forEach(function (s) {
      s.alerts.forEach(function (alert) {
        items.push('<li class="alert alert-' + alert + '"><a href="' + config.shelterUrl + s.id + '/">' + L.escapeHtml(s.name) +
          "</a>: " + L.escapeHtml(labels.alerts[alert]) + "</li>");
      });
    });
    document.getElementById("alerts").innerHTML = items.length ? items.join("") : "<li class=\"muted\">" + L.escapeHtml(labels.no_alerts) + "</li>";
  }

  function renderTable(list) {
    var body = document.querySelector("#shelters tbody");
    body.innerHTML = list.map(function (s) {
      var ratio = s.capacity ? Math.min(100, Math.round((100 * s.occupancy) / s.capacity)) : 0;
      var needs = Object.keys(s.support_counts).map(function (code) {
        return '<span class="badge need">' + L.escapeHtml(categoryName(code)) + " " + s.support_counts[code] + "</span>";
      }).join("");
      var source = s.source === "sample" ? ' <span class="badge sample">' + L.escapeHtml(labels.sample) + "</span>"
        : s.source === "replay" ? ' <span class="badge sample">' + L.escapeHtml(labels.replay) + "</span>" : "";
      return '<tr data-shelter="' + s.id + '"><td><a href="' + config.shelterUrl + s.id + '/">' + L.escapeHtml(s.name) + "</a>" + source + "</td>" +
        '<td><span class="status status-' + s.status + '">' + L.escapeHtml(s.status_label) + "</span></td>" +
        '<td><div class="meter meter-' + fullness(s) + '"><span data-ratio="' + ratio + '"></span></div>' +
        '<span data-field="occupancy">' + s.occupancy + "</span> / " + (s.capacity || "–") + "</td>" +
        '<td class="num" data-field="outside">' + s.outside_count + "</td><td>" + needs + "</td>" +
        "<td>" + s.alerts.map(function (a) { return '<span class="badge alert-' + a + '">' + L.escapeHtml(labels.alerts[a]) + "</span>"; }).join("") + "</td></tr>";
    }).join("");
    // Set through the DOM: the Content-Security-Policy refuses style attributes written in HTML.
    body.querySelectorAll(".meter span[data-ratio]").forEach(function (bar) { bar.style.width = bar.dataset.ratio + "%"; });
  }

  function markerSize(occupancy) { return 8 + Math.sqrt(Math.min(occupancy, 1000)) * 1.6; }

  function renderMap(list) {
    if (!window.Plotly) return;
    var placed = list.filter(function (s) { return s.latitude !== null && s.longitude !== null; });
    var figure = L.readJson("map-figure");
    var trace = figure.data[0];
    trace.x = placed.map(function (s) { return s.longitude; });
    trace.y = placed.map(function (s) { return s.latitude; });
    trace.customdata = placed.map(function (s) { return s.id; });
    trace.text = placed.map(function (s) { return L.escapeHtml(s.name) + "<br>" + L.escapeHtml(s.status_label) + " " + s.occupancy + "/" + (s.capacity || "–"); });
    trace.marker.size = placed.map(function (s) { return markerSize(s.occupancy); });
    trace.marker.color = placed.map(function (s) { return STATUS_COLOURS[s.status]; });
    figure.layout.uirevision = "map";
    Plotly.react("map", figure.data, figure.layout, { displaylogo: false, responsive: true });
  }

  var history = L.readJson("history-figure");
  function renderHistory(totalInside) {
    if (!window.Plotly) return;
    L.appendNow(history.data[0], totalInside);
    history.layout.uirevision = "history";
    Plotly.react("history", history.data, history.layout, { displaylogo: false, responsive: true });
  }

  function refreshHistory() {
    fetch(config.historyUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (series) {
      history.data[0].x = series.times;
      history.data[0].y = series.occupancy;
      render();
    }).catch(function () { /* the next refresh tries again */ });
  }

  function render() {
    var list = sorted();
    var totals = renderTotals(list);
    renderAlerts(list);
    renderTable(list);
    renderMap(list);
    renderHistory(totals.inside);
    renders += 1;
    document.body.dataset.renders = String(renders);
  }

  var scheduleRender = L.throttle(render, L.RENDER_INTERVAL_MS);

  function showReplay(replay) {
    var banner = document.getElementById("replay");
    if (!replay || !replay.simulated_at) { banner.hidden = true; return; }
    var time = L.formatTime(replay.simulated_at);
    banner.textContent = (replay.finished ? labels.replay_finished : labels.replay_running).replace("%(time)s", time);
    banner.hidden = false;
  }

  // Survey figures arrive already suppressed by the server: "<5" stays "<5", null means no data.
  function percent(value) {
    if (value === null || value === undefined) return "–";
    return typeof value === "number" ? (100 * value).toFixed(1) + "%" : String(value);
  }

  function figure(value) {
    if (value === null || value === undefined) return "–";
    return typeof value === "number" ? value.toLocaleString() : String(value);
  }

  function showSurveys(summary) {
    if (!summary) return;
    document.getElementById("survey-date").textContent = summary.date;
    document.getElementById("survey-responses").textContent = figure(summary.responses);
    document.getElementById("survey-k6-13").textContent = percent(summary.k6_13_share);
    document.getElementById("survey-k6-10").textContent = percent(summary.k6_10_share);
    document.getElementById("survey-k6-mean").textContent = typeof summary.k6_mean === "number" ? summary.k6_mean.toFixed(1) : figure(summary.k6_mean);
    document.querySelector("#needs-ranking tbody").innerHTML = summary.needs.length ? summary.needs.map(function (n) {
      var name = language === "en" ? n.name_en : n.name;
      var unit = language === "en" ? n.unit_en : n.unit;
      return '<tr data-item="' + L.escapeHtml(n.item) + '"><td>' + L.escapeHtml(name) + '</td><td class="num">' + L.escapeHtml(figure(n.requests)) +
        '</td><td class="num">' + (n.quantity === null ? "–" : L.escapeHtml(figure(n.quantity)) + " " + L.escapeHtml(unit)) + "</td></tr>";
    }).join("") : '<tr><td colspan="3" class="muted">' + L.escapeHtml(labels.no_needs) + "</td></tr>";
  }

  function replaceAll(data) {
    shelters = {};
    L.applyShelters(shelters, data.shelters);
    showReplay(data.replay);
    showSurveys(data.surveys);
    scheduleRender();
  }

  replaceAll(L.readJson("snapshot"));
  new L.LiveStream({
    path: config.stream,
    onSnapshot: replaceAll,
    onEvent: function (type, data) {
      if (type === "shelter.updated") { L.applyShelters(shelters, data.shelters); scheduleRender(); }
      else if (type === "replay.progress") showReplay(data.replay);
      else if (type === "surveys.summary") showSurveys(data.surveys);
    },
    onStatus: L.showStatus(document.getElementById("live-status"), labels),
  });
  setInterval(refreshHistory, 5 * 60 * 1000);
})();
