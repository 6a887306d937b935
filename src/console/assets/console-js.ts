/**
 * The console's one client script, served as /console/assets/console.<hash>.js (./registry.ts):
 * no inline script anywhere, so the Content-Security-Policy can say `script-src 'self'`. Pages
 * work without it; it only keeps a live call trace fresh.
 *
 * A table marked `data-live-url` is polled about once a second with `after=<newest id shown>`;
 * the answer's rows arrive already rendered (and escaped) by the server, newest first, and are
 * put on top. Polling pauses while the tab is hidden and backs off after failures.
 */
export const CONSOLE_JS = `"use strict";
(function () {
  var POLL_MS = 1000;
  var KEEP_ROWS = 500;
  function start(table) {
    var url = table.getAttribute("data-live-url");
    var body = table.tBodies[0];
    var status = document.getElementById(table.getAttribute("data-live-status") || "");
    var after = Number(table.getAttribute("data-last-id") || "0");
    var failures = 0;
    function say(text) { if (status) status.textContent = text; }
    function schedule() { setTimeout(poll, failures ? Math.min(POLL_MS * Math.pow(2, failures), 15000) : POLL_MS); }
    function poll() {
      if (document.hidden) { schedule(); return; }
      var sep = url.indexOf("?") === -1 ? "?" : "&";
      fetch(url + sep + "after=" + after, { headers: { accept: "application/json" }, credentials: "same-origin" })
        .then(function (res) {
          if (!res.ok) throw new Error("HTTP " + res.status);
          return res.json();
        })
        .then(function (page) {
          failures = 0;
          if (page.rows && page.rows.length) {
            var empty = body.querySelector("tr.empty-row");
            if (empty) empty.remove();
            var previous = body.querySelectorAll("tr.fresh");
            for (var i = 0; i < previous.length; i++) previous[i].classList.remove("fresh");
            body.insertAdjacentHTML("afterbegin", page.rows.map(function (row) { return row.html; }).join(""));
            while (body.rows.length > KEEP_ROWS) body.deleteRow(body.rows.length - 1);
            say(page.rows.length + " new call" + (page.rows.length === 1 ? "" : "s") + " at " + new Date().toLocaleTimeString());
          }
          if (typeof page.lastId === "number" && page.lastId > after) {
            after = page.lastId;
            table.setAttribute("data-last-id", String(after));
          }
          schedule();
        })
        .catch(function (error) {
          failures++;
          say("Live updates interrupted (" + error.message + "); retrying.");
          schedule();
        });
    }
    say("Live: new calls appear at the top.");
    schedule();
  }
  var tables = document.querySelectorAll("table[data-live-url]");
  for (var i = 0; i < tables.length; i++) start(tables[i]);
})();
`;
