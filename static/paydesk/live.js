// Live updates of the workspace over the desk websocket (the protocol is described in
// tickets/consumers.py). It keeps #live-status up to date, tells the page what changed with
// "paydesk:queue-changed" and "paydesk:ticket-changed" events on <body> (desk.js refreshes),
// and shows in #ticket-viewers who else has the ticket open. Plain JavaScript, no dependencies.
//
// Texts can be translated through data attributes: on #live-status data-text-connecting,
// -online, -offline and -refused; on #ticket-viewers data-text-viewing and -replying, where
// "{name}" stands for the other agent's name.
(function () {
  "use strict";

  // The server closes with these when the session is not an agent's: retrying will not help.
  var REFUSED_CODES = [4401, 4403];
  var REPLY_FIELD = 'form[data-activity="reply"] textarea';

  var script = document.currentScript || document.querySelector("script[data-ws-path]");
  var path = (script && script.getAttribute("data-ws-path")) || "/ws/desk/";
  var body = document.body;
  var ticketId = body.dataset.ticketId ? Number(body.dataset.ticketId) : null;
  var userId = body.dataset.userId ? Number(body.dataset.userId) : null;
  var statusBox = document.getElementById("live-status");
  var viewersBox = document.getElementById("ticket-viewers");

  var link = null;
  var hasConnected = false;
  var state = "offline";
  var activity = "viewing";
  var viewers = [];
  var viewersShown = null;

  function text(box, key, fallback) {
    return (box && box.getAttribute("data-text-" + key)) || fallback;
  }

  // Connection --------------------------------------------------------------------------------

  function setState(next, title) {
    state = next;
    if (!statusBox) return;
    statusBox.setAttribute("data-state", next);
    statusBox.title = title;
  }

  function opened() {
    setState("online", text(statusBox, "online", "Live updates are on"));
    // Notices that came while the socket was down, or while this page sat in the back/forward
    // cache, were not heard: ask for the bell's count.
    send({ type: "unread" });
    if (ticketId !== null) {
      send({ type: "watch", ticket: ticketId });
      if (activity === "replying") send({ type: "activity", state: activity });
    }
    if (hasConnected) {
      // Whatever changed while the connection was down was not heard: refresh once.
      var detail = { type: "reconnected", ticket: ticketId, change: "reconnected" };
      emit("paydesk:queue-changed", detail);
      emit("paydesk:ticket-changed", detail);
    }
    hasConnected = true;
  }

  function closed(refused) {
    showViewers([]);
    if (refused) {
      setState("offline", text(statusBox, "refused", "Live updates are off: sign in as an agent"));
    } else {
      setState("offline", text(statusBox, "offline", "Live updates are off; reconnecting…"));
    }
  }

  function send(message) {
    return link !== null && link.send(message);
  }

  function emit(name, detail) {
    body.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }

  // Messages ----------------------------------------------------------------------------------

  function handle(message) {
    if (message.type === "ticket.changed") {
      emit("paydesk:queue-changed", message);
      if (ticketId !== null && message.ticket === ticketId) emit("paydesk:ticket-changed", message);
    } else if (message.type === "presence") {
      if (message.ticket === ticketId && Array.isArray(message.viewers)) {
        showViewers(message.viewers);
      }
    } else if (message.type === "watching") {
      if (message.ticket !== ticketId) showViewers([]);
    } else if (message.type === "notification") {
      showUnread(message.unread);
      if (message.notification) emit("paydesk:notification", message);
    } else if (message.type === "error") {
      if (window.console) window.console.warn("Live updates:", message.message);
    }
  }

  // Notifications -----------------------------------------------------------------------------

  function showUnread(count) {
    var badge = document.getElementById("notification-count");
    var bell = document.getElementById("notification-bell");
    if (!badge || !bell || typeof count !== "number") return;
    badge.textContent = String(count);
    badge.hidden = count === 0;
    bell.setAttribute("aria-label", (bell.dataset.label || "Notifications") + " (" + count + ")");
  }

  // Presence ----------------------------------------------------------------------------------

  function describe(viewer) {
    var replying = viewer.state === "replying";
    var template = replying
      ? text(viewersBox, "replying", "{name} is replying")
      : text(viewersBox, "viewing", "{name} is viewing");
    var name = String(viewer.name);
    // A function, so that "$&" and the like in a name are not replacement patterns.
    return template.replace("{name}", function () {
      return name;
    });
  }

  function showViewers(all) {
    viewers = all.slice();
    if (!viewersBox) return;
    var others = all.filter(function (viewer) {
      return viewer.id !== userId;
    });
    var lines = others.map(describe);
    var shown = JSON.stringify(lines);
    // The box is an aria-live region: rewrite it only when what it says changes.
    if (shown === viewersShown) return;
    viewersShown = shown;
    while (viewersBox.firstChild) viewersBox.removeChild(viewersBox.firstChild);
    others.forEach(function (viewer, index) {
      if (index) viewersBox.appendChild(document.createTextNode(" · "));
      var item = document.createElement("span");
      item.className = "viewer";
      item.setAttribute("data-state", viewer.state === "replying" ? "replying" : "viewing");
      // Names are text, never markup.
      item.appendChild(document.createTextNode(lines[index]));
      viewersBox.appendChild(item);
    });
    viewersBox.setAttribute("data-count", String(others.length));
  }

  // Activity ----------------------------------------------------------------------------------

  function isReplyField(element) {
    return Boolean(element && element.matches && element.matches(REPLY_FIELD));
  }

  function setActivity(next) {
    if (next === activity) return;
    activity = next;
    if (ticketId !== null) send({ type: "activity", state: next });
  }

  function startReplying(event) {
    if (isReplyField(event.target)) setActivity("replying");
  }

  document.addEventListener("input", startReplying);
  document.addEventListener("focusin", startReplying);
  document.addEventListener("focusout", function (event) {
    if (isReplyField(event.target) && !event.target.value.trim()) setActivity("viewing");
  });
  document.addEventListener("submit", function (event) {
    // Sent: the reply is done. (htmx may swap the form out without a focusout.)
    if (event.target.matches && event.target.matches('form[data-activity="reply"]')) {
      setActivity("viewing");
    }
  });

  // For browser tests: read the state, and drop the connection as a network failure would.
  window.paydeskLive = {
    state: function () {
      return state;
    },
    viewers: function () {
      return viewers.slice();
    },
    drop: function () {
      link.drop();
    },
  };

  link = window.paydeskSocket(
    path,
    {
      connecting: function () {
        setState("connecting", text(statusBox, "connecting", "Connecting for live updates…"));
      },
      opened: opened,
      message: handle,
      closed: closed,
    },
    { refusedCodes: REFUSED_CODES }
  );
})();
