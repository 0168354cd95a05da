// The client side of the dashboards' stream protocol (see realtime/consumers.py and hub.py):
// a snapshot on connect, then numbered events and a heartbeat every few seconds. A gap in the
// numbers that does not fill within a second, another epoch (the server's counter was lost, as
// when Redis restarts empty), a reconnect, or news again after a silence bring a fresh snapshot.
// It says "live" only while it hears the server: after a few seconds without a heartbeat or an
// event, or while the browser is offline, it says "stale". Reconnects back off up to 30 s.
// Shared by the dashboards.
(function () {
  "use strict";

  var GAP_WAIT_MS = 1000;
  var WATCH_MS = 1000;
  var QUIET_RECONNECT_MS = 30000; // silent this long: the connection is likely dead, open another

  function LiveStream(options) {
    var self = this;
    this.url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + options.path;
    this.options = options;
    this.epoch = null;
    this.seq = null;
    this.announced = 0; // the highest number a heartbeat said exists in this epoch
    this.pending = {};
    this.backoff = 500;
    this.liveSince = null;
    this.lostAt = null;
    this.gapTimer = null;
    this.state = "connecting";
    this.heardAt = Date.now();
    this.staleAfterMs = 8000;
    this.resyncAsked = false;
    window.addEventListener("offline", function () { self.watch(); });
    window.addEventListener("online", function () { self.resync(); });
    setInterval(function () { self.watch(); }, WATCH_MS);
    this.connect();
  }

  LiveStream.prototype.status = function (state) {
    this.state = state;
    if (this.options.onStatus) this.options.onStatus(state, this.lostAt);
  };

  LiveStream.prototype.connect = function () {
    var self = this;
    var socket = new WebSocket(this.url);
    this.socket = socket;
    this.resyncAsked = false;
    socket.onopen = function () { self.backoff = 500; self.shutOut = null; };
    socket.onmessage = function (message) { self.heard(); self.receive(JSON.parse(message.data)); };
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
    if (this.resyncAsked || !this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    this.resyncAsked = true; // one question at a time: the snapshot answers it
    this.socket.send(JSON.stringify({ action: "resync" }));
  };

  // Any frame is news from the server. After a silence (or offline) what was missed is unknown:
  // ask for a fresh snapshot, and stay "stale" until it comes.
  LiveStream.prototype.heard = function () {
    this.heardAt = Date.now();
    if (this.state === "stale" && navigator.onLine !== false) this.resync();
  };

  // Once a second: "live" turns "stale" when the server has been silent too long or the browser
  // is offline. A long silence on an open socket closes it, to reconnect.
  LiveStream.prototype.watch = function () {
    if (this.state !== "live" && this.state !== "stale") return; // closed: onclose says so
    var quiet = Date.now() - this.heardAt;
    if (this.state === "live" && (quiet > this.staleAfterMs || navigator.onLine === false)) {
      this.lostAt = new Date(Math.min(this.heardAt, Date.now()));
      this.status("stale");
    }
    if (quiet > Math.max(QUIET_RECONNECT_MS, 2 * this.staleAfterMs) && this.socket) this.socket.close();
  };

  LiveStream.prototype.receive = function (message) {
    if (message.type === "batch") {
      for (var i = 0; i < message.events.length; i++) this.receive(message.events[i]);
      return;
    }
    if (message.type === "snapshot") {
      this.snapshot(message);
      return;
    }
    if (message.type === "heartbeat") {
      this.expect(message);
      return;
    }
    if (typeof message.seq !== "number") {
      if (this.options.onMessage) this.options.onMessage(message);
      return;
    }
    if (this.seq === null) return; // before the snapshot
    if (message.epoch !== this.epoch) { this.resync(); return; } // the numbers started again
    if (message.seq <= this.seq) return; // already in the snapshot
    this.pending[message.seq] = message;
    this.drain();
  };

  LiveStream.prototype.snapshot = function (message) {
    var pending = this.pending;
    var sameEpoch = message.epoch === this.epoch;
    this.epoch = message.epoch;
    this.seq = message.seq;
    this.announced = message.seq;
    this.pending = {};
    // Events that overtook the snapshot on the wire and are newer than it still count.
    if (sameEpoch) {
      for (var seq in pending) if (Number(seq) > message.seq) this.pending[seq] = pending[seq];
    }
    clearTimeout(this.gapTimer);
    this.gapTimer = null;
    this.resyncAsked = false;
    if (message.heartbeat_seconds) this.staleAfterMs = (2 * message.heartbeat_seconds + 2) * 1000;
    this.liveSince = new Date();
    this.options.onSnapshot(message.data);
    if (navigator.onLine === false) this.status("stale");
    else { this.lostAt = null; this.status("live"); }
    this.drain();
  };

  // A heartbeat says where the stream is: another epoch, or a number not seen yet, means events
  // were missed (a gap that does not fill within a second brings a snapshot, as any gap).
  LiveStream.prototype.expect = function (heartbeat) {
    if (this.seq === null) return;
    if (heartbeat.epoch !== this.epoch) { this.resync(); return; }
    this.announced = Math.max(this.announced, heartbeat.seq);
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
    var waiting = this.seq !== null && (Object.keys(this.pending).length > 0 || this.announced > this.seq);
    if (waiting && !this.gapTimer) {
      // Two servers may publish neighbouring numbers out of order, and a heartbeat may overtake
      // the event it counts: give the gap a moment to fill.
      this.gapTimer = setTimeout(function () {
        self.gapTimer = null;
        if (Object.keys(self.pending).length > 0 || self.announced > self.seq) self.resync();
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

  // The state word, then since when the figures are old; each part wraps as a whole on a phone.
  function showStatus(element, labels) {
    function show(parts) {
      element.textContent = "";
      parts.forEach(function (text, index) {
        var part = document.createElement("span");
        part.textContent = index < parts.length - 1 ? text + " ·" : text;
        element.appendChild(part);
        if (index < parts.length - 1) element.appendChild(document.createTextNode(" "));
      });
    }
    return function (state, lostAt) {
      element.className = "live-status " + state;
      var time = lostAt ? formatTime(lostAt, { hour: "2-digit", minute: "2-digit" }) : "";
      var since = labels.stale_since.replace("%(time)s", time);
      if (state === "live") show([labels.live]);
      else if (state === "refused") show([labels.refused]);
      else if (state === "signed_out") show([labels.signed_out]);
      else if (state === "stale") show([navigator.onLine === false ? labels.offline : labels.stale, since]);
      else show([labels.reconnecting, since]);
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
