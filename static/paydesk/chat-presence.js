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

  // Not signed in, or not an agent: retrying will not help.
  var REFUSED_CODES = [4401, 4403];

  var script = document.currentScript || document.querySelector("script[data-ws-path*=chat]");
  var path = (script && script.getAttribute("data-ws-path")) || "/ws/chat/agent/";
  var body = document.body;
  var box = document.getElementById("chat-presence");
  var select = document.getElementById("chat-status");

  var link = null;
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

  function closed(refused) {
    setState("offline");
    emit("paydesk:chat-disconnected", { refused: refused });
    if (refused && box) box.hidden = true;
  }

  function send(message) {
    return state === "online" && link.send(message);
  }

  function emit(name, detail) {
    body.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }

  if (select) {
    select.addEventListener("change", function () {
      if (!send({ type: "status", status: select.value })) select.value = status || "online";
    });
  }

  window.paydeskChat = {
    // Sends a message when connected; false when it could not be sent now.
    send: send,
    state: function () {
      return state;
    },
    status: function () {
      return status;
    },
    drop: function () {
      link.drop();
    },
  };

  link = window.paydeskSocket(
    path,
    {
      connecting: function () {
        setState("connecting");
      },
      // "online" once the server said hello: it may still refuse us with a close code.
      message: handle,
      closed: closed,
      hidden: function () {
        // The last tab to go takes the agent offline at once, not when the server notices.
        setState("offline");
      },
    },
    { refusedCodes: REFUSED_CODES }
  );
})();
