// A page part that is still changing (an element with an id, data-poll-url and
// data-final="false": a signal not final yet, accounts not flat yet after a close-all)
// re-reads itself from data-poll-url until the server answers it with data-final="true", so
// the page updates without a reload. Backs off from 1 s to 10 s; stops after 30 minutes (a
// reload starts again).
(function () {
  "use strict";
  var LIMIT_MS = 30 * 60 * 1000;

  function follow(id) {
    var started = Date.now();
    var delay = 1000;

    function poll() {
      var part = document.getElementById(id);
      if (!part || part.dataset.final === "true") return;
      if (Date.now() - started > LIMIT_MS) return;
      fetch(part.dataset.pollUrl, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html.trim();
          var fresh = holder.querySelector("#" + id);
          if (fresh) part.replaceWith(fresh);
        })
        .catch(function () { /* the next attempt tries again */ })
        .finally(function () {
          delay = Math.min(delay * 1.5, 10000);
          window.setTimeout(poll, delay);
        });
    }

    window.setTimeout(poll, 0);
  }

  document.querySelectorAll('[data-poll-url][data-final="false"][id]').forEach(function (part) {
    follow(part.id);
  });
})();
