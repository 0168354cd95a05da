// HQ's supply board: open tasks by due time, overdue ones, shortages and stock per depot. The city
// stream says when tasks or stock change (supply.changed) or fall overdue (supply.overdue); the
// board then fetches its figures again, at most every half second.
(function () {
  "use strict";
  var L = window.Live;
  var labels = L.readJson("labels");
  var words = L.readJson("board-labels");
  var board = L.readJson("board-data");
  var canRun = L.readJson("can-run");
  var NEXT_STEPS = { planned: ["dispatch", "cancel"], dispatched: ["deliver"], delivered: [] };

  function when(iso) {
    return iso ? L.formatTime(iso, L.SHORT_TIME) : words.no_date;
  }

  function actions(task) {
    return (NEXT_STEPS[task.status] || []).map(function (step) {
      return '<button type="button" data-task="' + task.id + '" data-step="' + step + '">' + L.escapeHtml(words[step]) + "</button>";
    }).join(" ");
  }

  function rows(id, list, cells, withActions) {
    document.getElementById(id).innerHTML = list.length ? list.map(function (row) {
      return '<tr data-task="' + (row.id || "") + '">' + cells(row).map(function (c) { return "<td>" + L.escapeHtml(c) + "</td>"; }).join("") +
        (withActions ? "<td>" + actions(row) + "</td>" : "") + "</tr>";
    }).join("") : '<tr><td colspan="6" class="muted">' + L.escapeHtml(words.none) + "</td></tr>";
  }

  function taskCells(t) { return [when(t.promised_at), t.shelter_name, t.item_name, t.quantity, t.status_label]; }

  function render() {
    rows("tasks", board.tasks, taskCells, canRun);
    rows("overdue", board.overdue, taskCells);
    rows("shortages", board.shortages, function (s) { return [s.item_name, s.demand, s.stock, s.coming, s.short_by]; });
    rows("stock", board.stock, function (s) { return [s.depot, s.item, s.on_hand, s.reserved, s.available]; });
    document.getElementById("supply-alerts").innerHTML = board.overdue.length
      ? '<li class="alert">' + L.escapeHtml(words.overdue_alert.replace("%(count)s", board.overdue.length)) + "</li>" : "";
  }

  var refresh = L.throttle(function () {
    fetch("/api/supply/board/", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) { board = data; render(); })
      .catch(function () { /* the next event tries again */ });
  }, 500);

  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  document.getElementById("tasks").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-step]");
    if (!button) return;
    button.disabled = true;
    var error = document.getElementById("board-error");
    error.hidden = true;
    fetch("/api/supply/tasks/" + button.dataset.task + "/" + button.dataset.step + "/", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    }).then(function (response) {
      if (response.ok) { refresh(); return; }
      return response.json().then(function (data) {
        error.textContent = words.failed.replace("%(message)s", (data.error && data.error.message) || response.status);
        error.hidden = false;
        button.disabled = false;
      });
    });
  });

  render();
  new L.LiveStream({
    path: "/ws/city/",
    onSnapshot: refresh,
    onEvent: function (type) {
      if (type === "supply.changed" || type === "supply.overdue") refresh();
    },
    onStatus: L.showStatus(document.getElementById("live-status"), labels),
  });
})();
