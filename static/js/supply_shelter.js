// A shelter's supply requests: file one, and see each request's state and promised delivery date,
// refreshed live when the planner tells the shelter (a supply notification on its stream).
(function () {
  "use strict";
  var L = window.Live;
  var config = L.readJson("supply-config");
  var labels = L.readJson("labels");
  var words = L.readJson("supply-labels");
  var requests = L.readJson("requests-data");
  var arriving = L.readJson("arriving-data");
  var residentNames = {};
  L.readJson("residents-data").forEach(function (person) { residentNames[person.id] = person.name; });

  function when(iso) {
    return iso ? L.formatTime(iso, L.SHORT_TIME) : "";
  }

  function render() {
    var body = document.getElementById("requests");
    body.innerHTML = requests.length ? requests.map(function (r) {
      var promised = r.promised_at ? when(r.promised_at) : (r.status === "open" ? words.waiting : words.no_date);
      return '<tr data-request="' + r.id + '"><td>' + L.escapeHtml(when(r.created_at)) + "</td><td>" + L.escapeHtml(r.item_name) +
        "</td><td>" + L.escapeHtml(r.quantity === null ? "–" : r.quantity) + "</td><td>" + L.escapeHtml(r.urgency_label) +
        '</td><td data-field="status">' + L.escapeHtml(r.status_label) + '</td><td data-field="promised">' + L.escapeHtml(promised) +
        "</td><td>" + L.escapeHtml(r.evacuee ? residentNames[r.evacuee] || "–" : words.whole_shelter) + "</td></tr>";
    }).join("") : '<tr><td colspan="7" class="muted">' + L.escapeHtml(words.none) + "</td></tr>";
  }

  function renderArriving() {
    var body = document.getElementById("arriving");
    body.innerHTML = arriving.length ? arriving.map(function (t) {
      return '<tr data-task="' + t.id + '"><td>' + L.escapeHtml(when(t.promised_at)) + "</td><td>" + L.escapeHtml(t.item_name) +
        "</td><td>" + L.escapeHtml(t.quantity) + "</td><td>" + L.escapeHtml(t.status_label) +
        '</td><td><form class="receive inline-form" data-task="' + t.id + '"><input name="quantity" type="number" min="0" max="' +
        t.quantity + '" value="' + t.quantity + '" required> <button type="submit">' + L.escapeHtml(words.confirm) + "</button></form></td></tr>";
    }).join("") : '<tr><td colspan="5" class="muted">' + L.escapeHtml(words.nothing_arriving) + "</td></tr>";
  }

  var refresh = L.throttle(function () {
    var shelter = "shelter=" + config.shelter;
    Promise.all([
      fetch("/api/supply/requests/?limit=200&" + shelter, { credentials: "same-origin" }).then(function (r) { return r.json(); }),
      fetch("/api/supply/tasks/?limit=200&" + shelter, { credentials: "same-origin" }).then(function (r) { return r.json(); }),
    ]).then(function (pages) {
      requests = pages[0].results;
      arriving = pages[1].results.filter(function (t) { return t.status === "dispatched" || t.status === "delivered"; });
      render();
      renderArriving();
    }).catch(function () { /* the next event tries again */ });
  }, 500);

  document.getElementById("arriving").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    fetch("/api/supply/tasks/" + form.dataset.task + "/receive/", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ quantity: Number(form.quantity.value) }),
    }).then(function (response) {
      var error = document.getElementById("request-error");
      if (!response.ok) {
        response.json().then(function (data) { error.textContent = (data.error && data.error.message) || words.failed; error.hidden = false; });
        return;
      }
      refresh();
    });
  });

  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  document.getElementById("request-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var error = document.getElementById("request-error");
    error.hidden = true;
    var body = {
      shelter: config.shelter,
      item: form.item.value,
      quantity: form.quantity.value ? Number(form.quantity.value) : null,
      urgency: form.urgency.value,
      evacuee: form.evacuee.value ? Number(form.evacuee.value) : null,
      detail: form.detail.value,
    };
    fetch("/api/supply/requests/", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          var fields = (data.error && data.error.fields) || {};
          var first = Object.keys(fields)[0];
          error.textContent = first ? first + ": " + fields[first].join(" ") : (data.error && data.error.message) || words.failed;
          error.hidden = false;
          return;
        }
        requests.unshift(data);
        form.reset();
        render();
      });
    }).catch(function () { error.textContent = words.failed; error.hidden = false; });
  });

  render();
  renderArriving();
  new L.LiveStream({
    path: config.stream,
    onSnapshot: refresh,
    onEvent: function (type, data) {
      if (type === "notification.created" && data.notification.kind === "supply") refresh();
    },
    onStatus: L.showStatus(document.getElementById("live-status"), labels),
  });
})();
