// A page part that is still changing (data-final="false") re-reads itself from its
// data-poll-url until the server says it is final: a test alert's outcome appears without a
// reload. Backs off from 1 s to 10 s; stops after 30 minutes (a reload starts again).
(function () {
  "use strict";
  var started = Date.now();
  var delay = 1000;

  function poll() {
    var part = document.getElementById("signal-live");
    if (!part || part.dataset.final === "true") return;
    if (Date.now() - started > 30 * 60 * 1000) return;
    fetch(part.dataset.pollUrl, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html.trim();
        var fresh = holder.querySelector("#signal-live");
        if (fresh) part.replaceWith(fresh);
      })
      .catch(function () { /* the next attempt tries again */ })
      .finally(function () {
        delay = Math.min(delay * 1.5, 10000);
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
