// A page part that is still changing (an element with an id, data-poll-url and
// data-final="false": a signal not final yet, accounts not flat yet after a close-all)
// re-reads itself from data-poll-url until the server answers it with data-final="true", so
// the page updates without a reload. Backs off from 1 s to 10 s; stops after 30 minutes (a
// reload starts again).
//
// Any part with an id and data-poll-url (final or not) also re-reads itself at once on the
// event "bk:refresh" ({detail: {id}}), which static/js/live.js sends when the live channel
// says something the part shows changed. A part that turns non-final again is followed again.
(function () {
  "use strict";
  var LIMIT_MS = 30 * 60 * 1000;
  var following = {};
  var inFlight = {};

  // Fetch the part's URL once and put the fresh part in its place. Resolves true when the
  // part was replaced. One fetch per part at a time; a refresh asked for meanwhile runs next.
  function readOnce(id) {
    var part = document.getElementById(id);
    if (!part || !part.dataset.pollUrl) return Promise.resolve(false);
    if (inFlight[id]) { inFlight[id].again = true; return inFlight[id].promise; }
    var state = { again: false };
    state.promise = fetch(part.dataset.pollUrl, {
      credentials: "same-origin", headers: { "Accept": "text/html" }, cache: "no-store"
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html.trim();
        var fresh = holder.querySelector("#" + CSS.escape(id));
        var current = document.getElementById(id);
        if (!fresh || !current) return false;
        current.replaceWith(fresh);
        return true;
      })
      .catch(function () { return false; /* the next attempt tries again */ })
      .finally(function () {
        delete inFlight[id];
        if (state.again) readOnce(id);
        var part = document.getElementById(id);
        if (part && part.dataset.final === "false" && !following[id]) follow(id);
      });
    inFlight[id] = state;
    return state.promise;
  }

  function follow(id) {
    var started = Date.now();
    var delay = 1000;
    following[id] = true;

    function poll() {
      var part = document.getElementById(id);
      if (!part || part.dataset.final === "true" || Date.now() - started > LIMIT_MS) {
        following[id] = false;
        return;
      }
      readOnce(id).finally(function () {
        delay = Math.min(delay * 1.5, 10000);
        window.setTimeout(poll, delay);
      });
    }

    window.setTimeout(poll, 0);
  }

  document.addEventListener("bk:refresh", function (event) {
    var id = event.detail && event.detail.id;
    if (id) readOnce(id);
  });

  document.querySelectorAll('[data-poll-url][data-final="false"][id]').forEach(function (part) {
    follow(part.id);
  });
})();
