// The client side of the dashboards' stream protocol (see realtime/consumers.py):
// a snapshot on connect, then numbered events; a gap that does not fill within a second, or a
// reconnect, brings a fresh snapshot. Reconnects back off up to 30 s. Shared by the dashboards.
(function () {
  "use strict";

  var GAP_WAIT_MS = 1000;

  function LiveStream(options) {
    this.url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + options.path;
    this.options = options;
    this.seq = null;
    this.pending = {};
    this.backoff = 500;
    this.liveSince = null;
    this.lostAt = null;
    this.gapTimer = null;
    this.connect();
  }

  LiveStream.prototype.status = function (state) {
    if (this.options.onStatus) this.options.onStatus(state, this.lostAt);
  };

  LiveStream.prototype.connect = function () {
    var self = this;
    var socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = function () { self.backoff = 500; self.shutOut = null; };
    socket.onmessage = function (message) { self.receive(JSON.parse(message.data)); };
    socket.onclose = function (event) {
      if (self.socket !== socket) return;
      self.seq = null;
      if (!self.lostAt) self.lostAt = new Date();
      // 4401: the session ended or the account was deactivated; 4403: no longer allowed here.
      // Either stays on screen until a connection opens again (after signing in, say): the
      // refused handshakes of the retries in between must not turn it back into "reconnecting".
      if (event.code === 4401) self.shutOut = "signed_out";
      else if (event.code === 4403) self.shutOut = "refused";
      var refused = event.code === 1006 && self.liveSince === null && self.backoff >= 8000;
      self.status(self.shutOut || (refused ? "refused" : "reconnecting"));
      if (self.shutOut) self.backoff = Math.max(self.backoff, 8000);
      var delay = Math.min(30000, self.backoff) * (0.75 + Math.random() * 0.5);
      self.backoff = Math.min(30000, self.backoff * 2);
      setTimeout(function () { self.connect(); }, delay);
    };
  };

  LiveStream.prototype.resync = function () {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ action: "resync" }));
    }
  };

  LiveStream.prototype.receive = function (message) {
    if (message.type === "batch") {
      for (var i = 0; i < message.events.length; i++) this.receive(message.events[i]);
      return;
    }
    if (message.type === "snapshot") {
      this.seq = message.seq;
      this.pending = {};
      clearTimeout(this.gapTimer);
      this.gapTimer = null;
      this.liveSince = new Date();
      this.lostAt = null;
      this.options.onSnapshot(message.data);
      this.status("live");
      this.drain();
      return;
    }
    if (typeof message.seq !== "number") {
      if (this.options.onMessage) this.options.onMessage(message);
      return;
    }
    if (this.seq === null || message.seq <= this.seq) return; // before the snapshot, or already in it
    this.pending[message.seq] = message;
    this.drain();
  };

  LiveStream.prototype.drain = function () {
    var self = this;
    while (this.seq !== null && this.pending[this.seq + 1]) {
      var next = this.pending[this.seq + 1];
      delete this.pending[this.seq + 1];
      this.seq += 1;
      this.options.onEvent(next.type, next.data, next);
    }
    var waiting = Object.keys(this.pending).length > 0;
    if (waiting && !this.gapTimer) {
      // Two servers may publish neighbouring numbers out of order: give the gap a moment to fill.
      this.gapTimer = setTimeout(function () {
        self.gapTimer = null;
        if (Object.keys(self.pending).length > 0) self.resync();
      }, GAP_WAIT_MS);
    } else if (!waiting && this.gapTimer) {
      clearTimeout(this.gapTimer);
      this.gapTimer = null;
    }
  };

  // Run `render` at most every `ms`, always once more after the last call: a burst of events
  // costs a few redraws, and the last redraw shows the final figures.
  function throttle(render, ms) {
    var timer = null, last = 0, again = false;
    return function schedule() {
      if (timer) { again = true; return; }
      var wait = Math.max(0, last + ms - Date.now());
      timer = setTimeout(function () {
        timer = null;
        last = Date.now();
        render();
        if (again) { again = false; schedule(); }
      }, wait);
    };
  }

  function readJson(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function showStatus(element, labels) {
    return function (state, lostAt) {
      element.className = "live-status " + state;
      if (state === "live") element.textContent = labels.live;
      else if (state === "refused") element.textContent = labels.refused;
      else if (state === "signed_out") element.textContent = labels.signed_out;
      else {
        var time = lostAt ? formatTime(lostAt, { hour: "2-digit", minute: "2-digit" }) : "";
        element.textContent = labels.reconnecting + " · " + labels.stale_since.replace("%(time)s", time);
      }
      element.dataset.state = state;
    };
  }

  // Times are the city's (Asia/Tokyo) whatever the device's own time zone, in the page's language.
  var CITY_TIME_ZONE = "Asia/Tokyo";
  function formatTime(value, options) {
    var date = value instanceof Date ? value : new Date(value);
    return date.toLocaleString(document.documentElement.lang, Object.assign({ timeZone: CITY_TIME_ZONE }, options || {}));
  }
  var SHORT = { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" };

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // Newer figures win: a shelter's version only grows, so a late, older event is ignored.
  function applyShelters(store, shelters) {
    shelters.forEach(function (shelter) {
      var known = store[shelter.id];
      if (!known || shelter.version >= known.version) store[shelter.id] = shelter;
    });
  }

  // The name of a support category in the page's language.
  function categoryNamer(categories, language) {
    var names = {};
    categories.forEach(function (c) { names[c.code] = language === "en" ? c.name_en : c.name; });
    return function (code) { return names[code] || code; };
  }

  // Put the live figure at the end of a time series: a new point every 30 s, else move the last.
  function appendNow(trace, value) {
    var now = new Date();
    var last = trace.x.length ? new Date(trace.x[trace.x.length - 1]) : null;
    if (last && now - last < 30000) trace.y[trace.y.length - 1] = value;
    else { trace.x.push(now.toISOString()); trace.y.push(value); }
  }

  window.Live = {
    categoryNamer: categoryNamer,
    appendNow: appendNow,
    LiveStream: LiveStream,
    throttle: throttle,
    readJson: readJson,
    showStatus: showStatus,
    escapeHtml: escapeHtml,
    formatTime: formatTime,
    SHORT_TIME: SHORT,
    applyShelters: applyShelters,
    RENDER_INTERVAL_MS: 300,
  };
})();
