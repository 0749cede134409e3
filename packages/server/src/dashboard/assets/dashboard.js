// Frugal dashboard: dates in the reader's time zone and language, live regions kept current by polling the page's
// live endpoint (only while the tab is visible), and a confirmation before a destructive form is sent.
"use strict";
(function () {
  var body = document.body;
  var liveUrl = body.getAttribute("data-live-url");
  var version = body.getAttribute("data-version") || "";
  var pollMillis = Number(body.getAttribute("data-poll-ms")) || 2000;
  var dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
  var relative = typeof Intl.RelativeTimeFormat === "function" ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  function ago(millis) {
    var seconds = Math.round((millis - Date.now()) / 1000);
    var abs = Math.abs(seconds);
    if (relative === null) return dateTime.format(new Date(millis));
    if (abs < 60) return relative.format(seconds, "second");
    if (abs < 3600) return relative.format(Math.round(seconds / 60), "minute");
    if (abs < 86400) return relative.format(Math.round(seconds / 3600), "hour");
    return relative.format(Math.round(seconds / 86400), "day");
  }

  function formatTimes(root) {
    var times = root.querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var element = times[i];
      var millis = Date.parse(element.getAttribute("datetime"));
      if (isNaN(millis)) continue;
      element.textContent = element.getAttribute("data-format") === "ago" ? ago(millis) : dateTime.format(new Date(millis));
      element.title = dateTime.format(new Date(millis)) + " (" + zone + ")";
    }
  }

  function regionHashes() {
    var regions = document.querySelectorAll("[data-live-region]");
    var parts = [];
    for (var i = 0; i < regions.length; i++) parts.push(regions[i].getAttribute("data-live-region") + ":" + regions[i].getAttribute("data-hash"));
    return parts.join(",");
  }

  function setStatus(text) {
    var status = document.querySelector("[data-live-status]");
    if (status !== null && status.textContent !== text) status.textContent = text;
  }

  function apply(update) {
    version = update.v;
    var focusedId = document.activeElement && document.activeElement.id ? document.activeElement.id : null;
    for (var name in update.regions) {
      if (!Object.prototype.hasOwnProperty.call(update.regions, name)) continue;
      var region = document.querySelector('[data-live-region="' + CSS.escape(name) + '"]');
      if (region === null) continue;
      // Server-rendered HTML in which every value was escaped by the server's renderer.
      region.innerHTML = update.regions[name].html;
      region.setAttribute("data-hash", update.regions[name].hash);
      formatTimes(region);
    }
    if (focusedId !== null && document.activeElement === body) {
      var again = document.getElementById(focusedId);
      if (again !== null) again.focus();
    }
  }

  var timer = null;
  function schedule() {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(poll, pollMillis);
  }

  function poll() {
    timer = null;
    if (liveUrl === null) return;
    if (document.visibilityState === "hidden") return;
    var url = liveUrl + (liveUrl.indexOf("?") < 0 ? "?" : "&") + "v=" + encodeURIComponent(version) + "&have=" + encodeURIComponent(regionHashes());
    fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) {
          location.assign("/login?next=" + encodeURIComponent(location.pathname));
          return null;
        }
        if (response.status === 200) return response.json().then(apply);
        if (response.status !== 204) throw new Error("HTTP " + response.status);
        return null;
      })
      .then(function () {
        setStatus("Live: updates every " + pollMillis / 1000 + " s");
        formatTimes(document);
        schedule();
      }, function () {
        setStatus("Offline: retrying");
        schedule();
      });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question !== null && !window.confirm(question)) event.preventDefault();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") poll();
  });

  formatTimes(document);
  if (liveUrl !== null) schedule();
})();
