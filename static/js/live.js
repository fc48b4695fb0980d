// One WebSocket per tab to /ws/live/; reconnects with jittered backoff; UI updates only.
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  var feed = document.getElementById("live-feed");
  var attempt = 0;
  function setState(state, text) {
    if (!status) return;
    status.dataset.state = state;
    status.textContent = text;
  }
  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + window.location.host + "/ws/live/");
    ws.onopen = function () { attempt = 0; setState("open", "live"); };
    ws.onmessage = function (msg) {
      var data;
      try { data = JSON.parse(msg.data); } catch (e) { return; }
      if (data.type === "event" && feed) {
        var empty = document.getElementById("live-feed-empty");
        if (empty) empty.remove();
        var li = document.createElement("li");
        li.textContent = JSON.stringify(data.payload);
        feed.prepend(li);
        while (feed.children.length > 50) feed.removeChild(feed.lastChild);
      }
    };
    ws.onclose = function () {
      attempt += 1;
      var delay = Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      setState("closed", "offline, retrying…");
      window.setTimeout(connect, delay);
    };
  }
  connect();
})();
