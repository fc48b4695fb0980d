// One WebSocket per tab to /ws/live/ (trading/consumers.py). UI updates only: what must happen
// goes through the database, and every (re)connect starts with a snapshot that heals any frame
// lost meanwhile.
//
// - The indicator in the top bar says "live" or "reconnecting"; reconnects back off (1 s
//   doubling to 30 s, jittered) and start at once when the tab comes back online.
// - The dashboard (#live-accounts, trading/_live_accounts.html) is kept current from the
//   snapshot and from "position" / "order" frames, by filling copies of the row templates the
//   server rendered (data-field names a frame key; a data-hide-empty field, such as a position's
//   problem, is hidden while empty): no markup is built here.
// - Page parts that show something a frame is about (data-live-signal="<signal id>",
//   data-live-accounts="<account ids>") re-read themselves at once (static/js/poll.js).
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  var attempt = 0;
  var timer = null;
  var socket = null;
  var snapshots = 0;

  function setState(state, text) {
    if (!status) return;
    status.dataset.state = state;
    status.textContent = text;
    status.title = state === "open" ? "Live: changes appear as they happen"
      : "Not connected: retrying. What you see may be out of date.";
  }

  // --- the dashboard ---------------------------------------------------------------------
  function view() { return document.getElementById("live-accounts"); }

  function fill(row, frame) {
    row.querySelectorAll("[data-field]").forEach(function (cell) {
      var value = frame[cell.dataset.field];
      if (cell.hasAttribute("data-hide-empty")) {
        cell.hidden = !value; // a warning shows only when there is one
        cell.textContent = value ? String(value) : "";
        return;
      }
      cell.textContent = value === null || value === undefined ? "—" : String(value);
    });
    row.querySelectorAll("[data-href]").forEach(function (link) {
      var url = frame[link.dataset.href];
      link.hidden = !url;
      if (url) link.setAttribute("href", url + (link.dataset.hrefTail || ""));
    });
    if (frame.kind === "position") {
      row.dataset.sign = String(frame.net_pos);
      row.classList.toggle("has-problem", !!frame.problem);
    }
    return row;
  }

  function newRow(kind, frame) {
    var template = document.getElementById("live-row-" + kind);
    if (!template) return null;
    var row = template.content.firstElementChild.cloneNode(true);
    row.id = kind + "-" + frame.id;
    return fill(row, frame);
  }

  function refreshEmptiness(section) {
    var positions = section.querySelector('[data-rows="position"]');
    var orders = section.querySelector('[data-rows="order"]');
    var hasPositions = positions && positions.children.length > 0;
    var hasOrders = orders && orders.children.length > 0;
    if (positions) positions.closest("table").hidden = !hasPositions;
    if (orders) orders.closest("table").hidden = !hasOrders;
    var flat = section.querySelector("[data-when-flat]");
    if (flat) flat.hidden = hasPositions || hasOrders;
  }

  // Put a position or order frame in its account's table: added, updated in place, or removed
  // (a flat position, an order no longer working).
  function applyRow(frame) {
    var root = view();
    if (!root || !frame.account) return;
    var section = root.querySelector('[data-account="' + frame.account.id + '"]');
    if (!section) return;
    var body = section.querySelector('[data-rows="' + frame.kind + '"]');
    var existing = document.getElementById(frame.kind + "-" + frame.id);
    var gone = frame.kind === "position" ? frame.flat : !frame.open;
    if (gone) {
      if (existing) existing.remove();
    } else if (existing) {
      fill(existing, frame);
    } else if (body) {
      var row = newRow(frame.kind, frame);
      if (row) body.appendChild(row);
    }
    refreshEmptiness(section);
  }

  function applySnapshot(snapshot) {
    var root = view();
    if (!root) return;
    var error = root.querySelector("[data-live-error]");
    if (error) {
      error.hidden = !snapshot.error;
      error.textContent = snapshot.error || "";
    }
    (snapshot.accounts || []).forEach(function (account) {
      var section = root.querySelector('[data-account="' + account.account.id + '"]');
      if (!section) return;
      ["position", "order"].forEach(function (kind) {
        var body = section.querySelector('[data-rows="' + kind + '"]');
        if (!body) return;
        body.textContent = "";
        account[kind + "s"].forEach(function (frame) {
          var row = newRow(kind, frame);
          if (row) body.appendChild(row);
        });
      });
      section.querySelectorAll("[data-cash]").forEach(function (cell) {
        var value = account.cash ? account.cash[cell.dataset.cash] : null;
        cell.textContent = value === null || value === undefined ? "—" : value;
      });
      refreshEmptiness(section);
    });
  }

  function applyCash(frame) {
    var root = view();
    var section = root && root.querySelector('[data-account="' + frame.account.id + '"]');
    if (!section) return;
    section.querySelectorAll("[data-cash]").forEach(function (cell) {
      var value = frame[cell.dataset.cash];
      cell.textContent = value === null || value === undefined ? "—" : value;
    });
  }

  function applyPnl(frame) {  // the dashboard's today figures (analytics/live.py)
    var net = document.getElementById("today-net");
    var trades = document.getElementById("today-trades");
    if (net) {
      net.textContent = frame.today_net_text;
      net.className = frame.today_class;
    }
    if (trades) trades.textContent = String(frame.today_trades);
  }

  function applyFill(frame) {
    var list = document.getElementById("live-fills");
    if (!list || document.getElementById("fill-" + frame.id)) return;
    var empty = document.getElementById("live-fills-empty");
    if (empty) empty.remove();
    var li = document.createElement("li");
    li.id = "fill-" + frame.id;
    var time = new Date(frame.filled_at).toLocaleTimeString();
    li.textContent = time + "  " + frame.account.name + ": " + frame.side + " " + frame.qty +
      " " + frame.symbol + " at " + frame.price_text;
    list.prepend(li);
    while (list.children.length > 20) list.removeChild(list.lastChild);
  }

  // --- parts that re-read themselves (poll.js) -------------------------------------------
  function refreshParts(frame) {
    var all = frame === null;
    document.querySelectorAll("[data-live-signal][id]").forEach(function (part) {
      if (all || (frame.signal_id && String(frame.signal_id) === part.dataset.liveSignal)) {
        document.dispatchEvent(new CustomEvent("bk:refresh", { detail: { id: part.id } }));
      }
    });
    document.querySelectorAll("[data-live-accounts][id]").forEach(function (part) {
      var ids = part.dataset.liveAccounts.split(/\s+/);
      if (all || (frame.account && ids.indexOf(String(frame.account.id)) !== -1)) {
        document.dispatchEvent(new CustomEvent("bk:refresh", { detail: { id: part.id } }));
      }
    });
  }

  function onFrame(data) {
    if (data.type === "snapshot") {
      snapshots += 1;
      applySnapshot(data);
      if (snapshots > 1) refreshParts(null); // back after a drop: anything may have changed
      return;
    }
    if (data.type !== "event" || !data.payload) return;
    var frame = data.payload;
    if (frame.kind === "position" || frame.kind === "order") applyRow(frame);
    if (frame.kind === "fill") applyFill(frame);
    if (frame.kind === "cash") applyCash(frame);
    if (frame.kind === "pnl") applyPnl(frame);
    refreshParts(frame);
    document.dispatchEvent(new CustomEvent("bk:live", { detail: frame }));
  }

  // --- the connection --------------------------------------------------------------------
  function schedule() {
    if (timer !== null) return;
    attempt += 1;
    var delay = Math.min(30000, 1000 * Math.pow(2, attempt - 1)) * (0.5 + Math.random() / 2);
    setState("closed", "reconnecting…");
    timer = window.setTimeout(function () { timer = null; connect(); }, delay);
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + window.location.host + "/ws/live/");
    socket = ws;
    ws.onopen = function () { attempt = 0; setState("open", "live"); };
    ws.onmessage = function (msg) {
      var data;
      try { data = JSON.parse(msg.data); } catch (e) { return; }
      onFrame(data);
    };
    ws.onclose = function () {
      if (socket === ws) { socket = null; schedule(); }
    };
  }

  window.addEventListener("online", function () {
    if (socket === null && timer !== null) {
      window.clearTimeout(timer);
      timer = null;
      connect();
    }
  });

  connect();
})();
