// The agent's chat socket (`ws/chat/agent/`, protocol in chat/consumers.py), one per tab, on
// every workspace page: while it is open the agent counts as online for the chat, unless they
// chose away or offline with the top bar's #chat-status. The inbox page (chat-inbox.js) talks
// over the same socket through window.paydeskChat.
//
// Everything the server sends is told to the page as a "paydesk:chat" event on <body> (the
// message is the event's detail); an inbox change also as "paydesk:chat-inbox" (the top bar's
// count and the inbox list reload on it), and each (re)connection as "paydesk:chat-connected".
// Texts come from #chat-presence's data-text-connecting, -online and -offline attributes.
(function () {
  "use strict";

  var BACKOFF_FIRST_MS = 500;
  var BACKOFF_MAX_MS = 10000;
  var PING_EVERY_MS = 25000;
  // Not signed in, or not an agent: retrying will not help.
  var REFUSED_CODES = [4401, 4403];

  var script = document.currentScript || document.querySelector("script[data-ws-path*=chat]");
  var path = (script && script.getAttribute("data-ws-path")) || "/ws/chat/agent/";
  var body = document.body;
  var box = document.getElementById("chat-presence");
  var select = document.getElementById("chat-status");

  var socket = null;
  var attempts = 0;
  var retryTimer = null;
  var pingTimer = null;
  var heardSincePing = true;
  var stopped = false;
  var state = "offline";
  var status = null;
  var hasConnected = false;

  function text(key, fallback) {
    return (box && box.getAttribute("data-text-" + key)) || fallback;
  }

  function setState(next) {
    state = next;
    if (!box) return;
    box.setAttribute("data-state", next);
    box.title = text(next, next);
    if (select) select.disabled = next !== "online";
  }

  function setStatus(next) {
    status = next;
    if (box) box.setAttribute("data-status", next);
    if (select && select.value !== next) select.value = next;
  }

  function url() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + path;
  }

  function connect() {
    retryTimer = null;
    if (stopped || socket) return;
    setState("connecting");
    var ws;
    try {
      ws = new WebSocket(url());
    } catch (error) {
      scheduleRetry();
      return;
    }
    socket = ws;
    ws.onopen = function () {
      if (ws !== socket) return;
      attempts = 0;
      startPing();
      // "online" once the server said hello: it may still refuse us with a close code.
    };
    ws.onmessage = function (event) {
      if (ws !== socket) return;
      heardSincePing = true;
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (message && typeof message === "object" && typeof message.type === "string") {
        handle(message);
      }
    };
    ws.onclose = function (event) {
      if (ws === socket) closed(event.code);
    };
  }

  function handle(message) {
    if (message.type === "hello") {
      if (box) box.hidden = false;
      setState("online");
      setStatus(message.status);
      emit("paydesk:chat-connected", message);
      // What changed while the socket was down was not heard.
      if (hasConnected) emit("paydesk:chat-inbox", message);
      hasConnected = true;
    } else if (message.type === "status") {
      setStatus(message.status);
    } else if (message.type === "inbox") {
      emit("paydesk:chat-inbox", message);
    }
    emit("paydesk:chat", message);
  }

  function closed(code) {
    socket = null;
    stopPing();
    setState("offline");
    emit("paydesk:chat-disconnected", { code: code });
    if (REFUSED_CODES.indexOf(code) !== -1) {
      if (box) box.hidden = true;
      return;
    }
    if (!stopped) scheduleRetry();
  }

  function scheduleRetry() {
    clearTimeout(retryTimer);
    var ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, attempts));
    attempts += 1;
    retryTimer = setTimeout(connect, ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  function drop() {
    var ws = socket;
    if (!ws) return;
    socket = null;
    try {
      ws.close();
    } catch (error) {
      // Dropped either way.
    }
    closed(1006);
  }

  function startPing() {
    stopPing();
    heardSincePing = true;
    pingTimer = setInterval(function () {
      if (!heardSincePing) {
        drop();
        return;
      }
      heardSincePing = false;
      send({ type: "ping" });
    }, PING_EVERY_MS);
  }

  function stopPing() {
    clearInterval(pingTimer);
    pingTimer = null;
  }

  function send(message) {
    if (state !== "online" || !socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  function emit(name, detail) {
    body.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }

  if (select) {
    select.addEventListener("change", function () {
      if (!send({ type: "status", status: select.value })) select.value = status || "online";
    });
  }

  window.addEventListener("online", function () {
    if (retryTimer !== null) {
      clearTimeout(retryTimer);
      attempts = 0;
      connect();
    }
  });
  window.addEventListener("pagehide", function () {
    // The last tab to go takes the agent offline at once, not when the server notices.
    stopped = true;
    clearTimeout(retryTimer);
    retryTimer = null;
    var ws = socket;
    socket = null;
    stopPing();
    setState("offline");
    if (ws) ws.close(1000);
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      stopped = false;
      connect();
    }
  });

  window.paydeskChat = {
    // Sends a message when connected; false when it could not be sent now.
    send: send,
    state: function () {
      return state;
    },
    status: function () {
      return status;
    },
    drop: drop,
  };

  connect();
})();
