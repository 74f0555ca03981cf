// A websocket to Paydesk that keeps itself open, for the workspace's scripts (live.js, the desk
// socket; chat-presence.js, the chat socket). It reconnects with backoff and jitter, pings to
// notice a connection that died without the browser saying so, drops the socket as soon as the
// browser goes offline, and closes it when the page is hidden (back/forward cache, last tab).
//
//   var link = window.paydeskSocket("/ws/desk/", {
//     connecting: function () {},       each attempt
//     opened: function () {},           the socket is open
//     message: function (message) {},   each JSON object with a string "type"
//     closed: function (refused) {},    it closed; `refused`: with a code in refusedCodes, so
//                                       it will not retry
//     hidden: function () {},           the page went away (pagehide)
//   }, { refusedCodes: [4401, 4403] });
//   link.send(object) → whether it was sent; link.drop() reconnects as a network failure would.
(function () {
  "use strict";

  var BACKOFF_FIRST_MS = 500;
  var BACKOFF_MAX_MS = 10000;
  // A ping with no answer by the next one means the connection died unnoticed (a laptop waking
  // up, a proxy dropping it): reconnect.
  var PING_EVERY_MS = 25000;

  function nothing() {}

  window.paydeskSocket = function (path, handlers, options) {
    var on = {
      connecting: handlers.connecting || nothing,
      opened: handlers.opened || nothing,
      message: handlers.message || nothing,
      closed: handlers.closed || nothing,
      hidden: handlers.hidden || nothing,
    };
    var refusedCodes = (options && options.refusedCodes) || [];
    var socket = null;
    var attempts = 0;
    var retryTimer = null;
    var pingTimer = null;
    var heardSincePing = true;
    var stopped = false;

    function url() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      return scheme + window.location.host + path;
    }

    function connect() {
      retryTimer = null;
      if (stopped || socket) return;
      on.connecting();
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
        on.opened();
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
          on.message(message);
        }
      };
      ws.onclose = function (event) {
        if (ws === socket) closed(event.code);
      };
    }

    function closed(code) {
      socket = null;
      stopPing();
      var refused = refusedCodes.indexOf(code) !== -1;
      on.closed(refused);
      if (!refused && !stopped) scheduleRetry();
    }

    function scheduleRetry() {
      clearTimeout(retryTimer);
      var ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, attempts));
      attempts += 1;
      // Anywhere in the upper half: the pages a server restart dropped do not return in step.
      retryTimer = setTimeout(connect, ceiling / 2 + (Math.random() * ceiling) / 2);
    }

    function drop() {
      // Give up on the current socket at once (its late events are ignored) and reconnect.
      var ws = socket;
      if (!ws) return;
      socket = null;
      try {
        ws.close();
      } catch (error) {
        // Closing a socket that is still opening may throw in old browsers; dropped anyway.
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
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(message));
      return true;
    }

    window.addEventListener("online", function () {
      if (retryTimer !== null) {
        clearTimeout(retryTimer);
        attempts = 0;
        connect();
      }
    });
    // An open socket may take a ping interval to notice the network is gone: drop it now.
    window.addEventListener("offline", drop);
    window.addEventListener("pagehide", function () {
      // Leave at once (others see the agent go), and let the page into the back/forward cache.
      stopped = true;
      clearTimeout(retryTimer);
      retryTimer = null;
      var ws = socket;
      socket = null;
      stopPing();
      on.hidden();
      if (ws) ws.close(1000);
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        stopped = false;
        connect();
      }
    });

    connect();
    return { send: send, drop: drop };
  };
})();
