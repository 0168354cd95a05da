// One shelter's dashboard: its figures, the people needing support (names for its own managers
// only: the server decides) and its notifications, all live.
(function () {
  "use strict";
  var L = window.Live;
  var labels = L.readJson("labels");
  var config = L.readJson("dashboard-config");
  var categories = L.readJson("categories");
  var language = document.documentElement.lang;
  var store = {};
  var supportList = null;
  var notifications = [];
  var followUps = null; // the open cases with names, for those who may see them (the server decides)
  var openFollowUps = null; // the count; "<5" for 1 to 4 when names are not shown

  var categoryName = L.categoryNamer(categories, language);

  function renderFigures() {
    var s = store[config.shelter];
    if (!s) return;
    var status = document.getElementById("status");
    status.textContent = s.status_label;
    status.className = "status status-" + s.status;
    document.getElementById("occupancy").textContent = s.occupancy;
    document.getElementById("capacity").textContent = s.capacity || "–";
    document.getElementById("outside").textContent = s.outside_count;
    document.getElementById("support-people").textContent = s.support_people;
    document.getElementById("alerts").innerHTML = s.alerts.map(function (a) {
      return '<li class="alert alert-' + a + '">' + L.escapeHtml(labels.alerts[a]) + "</li>";
    }).join("");
    document.getElementById("support-counts").innerHTML = Object.keys(s.support_counts).map(function (code) {
      return '<span class="badge need">' + L.escapeHtml(categoryName(code)) + " " + s.support_counts[code] + "</span>";
    }).join("");
  }

  // A person's name, or the marker saying it is withheld from this reader and why (common/withheld.py).
  function personName(p) {
    var reason = p.withheld && p.withheld.basic;
    if (!reason) {
      return "<strong>" + L.escapeHtml(p.name) + '</strong> <span class="kana">' + L.escapeHtml(p.name_kana) + "</span>";
    }
    return '<strong class="withheld withheld-basic withheld-' + L.escapeHtml(reason) + '" data-withheld="' + L.escapeHtml(reason) +
      '" title="' + L.escapeHtml(labels.withheld.why[reason] || "") + '">' + L.escapeHtml(labels.withheld.name[reason] || "") + "</strong>";
  }

  // Under a list: what its markers mean, for phones without tooltips.
  function legend(rows) {
    var seen = {};
    rows.forEach(function (row) { Object.keys(row.withheld || {}).forEach(function (c) { seen[row.withheld[c]] = true; }); });
    return ["refused", "not_asked"].filter(function (reason) { return seen[reason]; }).map(function (reason) {
      return '<li class="withheld-legend"><strong>' + L.escapeHtml(labels.withheld.name[reason]) + "</strong>: " +
        L.escapeHtml(labels.withheld.why[reason]) + "</li>";
    }).join("");
  }

  function renderSupportList() {
    var list = document.getElementById("support-list");
    if (!list || supportList === null) return;
    list.innerHTML = supportList.length ? supportList.map(function (p) {
      return "<li>" + personName(p) + " " +
        (p.requires_evacuation_support ? '<span class="badge support-flag">' + L.escapeHtml(labels.evacuation_support) + "</span>" : "") +
        p.needs.map(function (code) { return '<span class="badge need">' + L.escapeHtml(categoryName(code)) + "</span>"; }).join("") +
        ' <span class="muted">' + L.escapeHtml(labels.modes[p.mode] || p.mode) + "</span></li>";
    }).join("") + legend(supportList) : '<li class="muted">' + L.escapeHtml(labels.nobody) + "</li>";
  }

  function renderFollowUps() {
    document.getElementById("open-follow-ups").textContent = followUps !== null ? followUps.length : (openFollowUps === null ? "–" : openFollowUps);
    var list = document.getElementById("follow-up-list");
    if (!list || followUps === null) return;
    list.innerHTML = followUps.length ? followUps.map(function (f) {
      return '<li data-follow-up="' + f.id + '"><a href="' + config.followUpUrl + f.id + '/">' + personName(f) + "</a>" +
        ' <span class="badge follow-up-' + f.state + '">' + L.escapeHtml(labels.follow_up_states[f.state] || f.state) +
        '</span> <time class="muted">' + L.formatTime(f.since) + "</time></li>";
    }).join("") + legend(followUps) : '<li class="muted">' + L.escapeHtml(labels.no_follow_ups) + "</li>";
  }

  function renderNotifications() {
    document.getElementById("notifications").innerHTML = notifications.length ? notifications.map(function (n) {
      return '<li class="notification notification-' + n.kind + '"><span class="badge">' + L.escapeHtml(n.kind_label) + "</span> <strong>" +
        L.escapeHtml(n.title) + '</strong> <time class="muted">' + L.formatTime(n.created_at) + "</time>" +
        (n.body ? "<div>" + L.escapeHtml(n.body) + "</div>" : "") + "</li>";
    }).join("") : '<li class="muted">' + L.escapeHtml(labels.no_notifications) + "</li>";
  }

  var history = L.readJson("history-figure");
  var flow = L.readJson("flow-figure");
  function renderCharts() {
    if (!window.Plotly) return;
    var s = store[config.shelter];
    if (s) L.appendNow(history.data[0], s.occupancy);
    history.layout.uirevision = flow.layout.uirevision = "keep";
    Plotly.react("history", history.data, history.layout, { displaylogo: false, responsive: true });
    Plotly.react("flow", flow.data, flow.layout, { displaylogo: false, responsive: true });
  }

  var refreshFlow = L.throttle(function () {
    fetch(config.historyUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (series) {
      history.data[0].x = series.times;
      history.data[0].y = series.occupancy;
      flow.data[0].x = flow.data[1].x = series.times;
      flow.data[0].y = series.arrivals;
      flow.data[1].y = series.departures.map(function (d) { return -d; });
      scheduleRender();
    }).catch(function () { /* the next change tries again */ });
  }, 30000);

  function render() { renderFigures(); renderSupportList(); renderFollowUps(); renderNotifications(); renderCharts(); }
  var scheduleRender = L.throttle(render, L.RENDER_INTERVAL_MS);

  function replaceAll(data) {
    store = {};
    L.applyShelters(store, data.shelters);
    supportList = data.support_list;
    notifications = data.notifications;
    followUps = data.follow_ups;
    openFollowUps = data.open_follow_ups;
    scheduleRender();
  }

  replaceAll(L.readJson("snapshot"));
  new L.LiveStream({
    path: config.stream,
    onSnapshot: replaceAll,
    onEvent: function (type, data) {
      if (type === "shelter.updated") { L.applyShelters(store, data.shelters); refreshFlow(); }
      else if (type === "notification.created") notifications.unshift(data.notification);
      else if (type === "follow_ups.changed") openFollowUps = data.follow_ups.open;
      scheduleRender();
    },
    onMessage: function (message) {
      if (message.type === "support_list") { supportList = message.data.support_list; scheduleRender(); }
      else if (message.type === "follow_up_list") { followUps = message.data.follow_ups; scheduleRender(); }
    },
    onStatus: L.showStatus(document.getElementById("live-status"), labels),
  });
})();
