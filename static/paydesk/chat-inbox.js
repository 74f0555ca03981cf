// The chat inbox (/desk/chats/): the chats an agent has open, several at once, each beside its
// ticket. The panels' markup comes from the server (chat/inbox_views.py); messages travel over the
// tab's one chat socket, owned by chat-presence.js (window.paydeskChat, "paydesk:chat" events).
//
// Nothing typed is lost: each chat's draft is kept in sessionStorage, and a message stays in the
// outbox (sessionStorage too) until the server acknowledges it. After a reconnect, or a reload of
// the tab, it is sent again with the same client id, which the server recognises and does not
// store twice; a reopened chat asks for what came after the last sequence number it holds.
//
// A card number the agent types is masked (static/chat/redaction.js, the rule the server applies
// too) before the message is shown, kept in a draft or the outbox, or sent.
//
// What people wrote is only ever set as text (textContent), never as markup. Texts to show come
// from #chat-panels' data-text-* attributes (and the statuses' labels from data-status-*),
// where "{name}" and the like stand for values.
(function () {
  "use strict";

  var TYPING_REPEAT_MS = 3000; // while the agent types, "typing" is said again this often
  var TYPING_IDLE_MS = 4000; // this long without a key and the agent stopped typing
  var TYPING_SHOWN_MS = 7000; // the customer's "typing…" goes unless it is said again
  var RECEIPT_DELAY_MS = 250;
  var ERROR_TARGET_MS = 10000; // an error this soon after an action is about that action's chat

  var body = document.body;
  var root = document.getElementById("chat-panels");
  var chat = window.paydeskChat;
  var redaction = window.PaydeskRedaction;
  if (!root || !chat || !redaction) return;

  var userId = Number(root.dataset.userId);
  var notice = document.getElementById("chat-notice");
  var switcher = document.getElementById("chat-switcher");
  var storage = sessionStorageOrNull();
  var panels = new Map(); // conversation id -> panel (see setUp)
  var loading = new Set();
  var outbox = load("outbox", []).map(masked); // messages not yet acknowledged, oldest first
  var sentOn = new Map(); // client id -> the connection it was last sent on
  var connection = 0; // counts the socket's (re)connections
  var lastAction = { panel: null, at: 0 };
  var activeId = null;
  saveOutbox(); // kept again, masked

  // Texts and storage -------------------------------------------------------------------------

  function text(key, fallback, values) {
    var template = root.getAttribute("data-text-" + key) || fallback;
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name)
        ? String(values[name])
        : whole;
    });
  }

  function statusLabel(status) {
    return root.getAttribute("data-status-" + status) || status;
  }

  function sessionStorageOrNull() {
    try {
      window.sessionStorage.getItem("paydesk");
      return window.sessionStorage;
    } catch (error) {
      return null; // storage disabled: drafts then live as long as the page
    }
  }

  function storeKey(key) {
    return "paydesk.chat." + userId + "." + key;
  }

  function load(key, fallback) {
    if (!storage) return fallback;
    try {
      var value = storage.getItem(storeKey(key));
      return value === null ? fallback : JSON.parse(value);
    } catch (error) {
      return fallback;
    }
  }

  function save(key, value) {
    if (!storage) return;
    try {
      if (value === null || value === "") storage.removeItem(storeKey(key));
      else storage.setItem(storeKey(key), JSON.stringify(value));
    } catch (error) {
      // Storage full: what is on the page still stands.
    }
  }

  function saveOutbox() {
    save("outbox", outbox.length ? outbox : null);
  }

  function masked(entry) {
    // An older version of this page kept the text as typed.
    return Object.assign({}, entry, { body: redaction.redactPans(entry.body || "").text });
  }

  function saveDraft(panel) {
    save("draft." + panel.id, redaction.redactPans(panel.textarea.value).text);
  }

  function rememberOpen() {
    save("open", Array.from(panels.keys()));
  }

  function say(message) {
    if (notice) notice.textContent = message || "";
  }

  function newClientId() {
    var crypto = window.crypto;
    if (crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (byte) {
        return ("0" + byte.toString(16)).slice(-2);
      })
      .join("");
  }

  function csrfToken() {
    try {
      return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  // Opening and closing panels ----------------------------------------------------------------

  function panelUrl(id) {
    return root.dataset.panelUrl.replace(/0\/$/, id + "/");
  }

  function openPanel(id, focus) {
    id = Number(id);
    if (!id) return Promise.resolve();
    if (panels.has(id)) {
      activate(id, focus);
      return Promise.resolve();
    }
    if (loading.has(id)) return Promise.resolve();
    loading.add(id);
    // fetch, not htmx.ajax: htmx queues a second request from the same element behind the
    // first and keeps only the last, and several panels may be loading at once.
    return fetch(panelUrl(id), { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        loading.delete(id);
        if (panels.has(id)) return;
        var template = document.createElement("template");
        template.innerHTML = html; // the server's own markup, with everything escaped
        var element = template.content.querySelector(".chat-panel");
        if (!element) throw new Error("no panel");
        root.appendChild(element);
        if (window.htmx) window.htmx.process(element);
        setUp(id, element);
        activate(id, focus);
      })
      .catch(function () {
        loading.delete(id);
        say(text("not-found", "That chat is not available to you."));
        rememberOpen();
      });
  }

  function setUp(id, element) {
    var panel = {
      id: id,
      el: element,
      list: element.querySelector(".chat-messages"),
      log: element.querySelector(".chat-log"),
      typing: element.querySelector('[data-field="typing"]'),
      state: element.querySelector('[data-field="state"]'),
      statusBadge: element.querySelector('[data-field="status"]'),
      assignee: element.querySelector('[data-field="assignee"]'),
      textarea: element.querySelector("textarea"),
      sendButton: element.querySelector('button[data-action="send"]'),
      fileInput: element.querySelector('input[data-action="attach"]'),
      attachmentBox: element.querySelector('[data-field="attachment"]'),
      attachmentName: element.querySelector('[data-field="attachment-name"]'),
      customer: element.getAttribute("data-customer") || "",
      items: new Map(), // seq -> <li>
      pending: new Map(), // client id -> <li> of a message not acknowledged yet
      maxSeq: 0,
      details: null,
      customerDelivered: 0,
      customerRead: 0,
      deliveredSent: 0,
      readSent: 0,
      typingSentAt: 0,
      typingIdle: null,
      typingShown: null,
      receiptTimer: null,
      attachment: load("attachment." + id, null),
      uploading: false,
      sendWhenUploaded: false,
      atEnd: true,
    };
    panels.set(id, panel);
    keepAtEnd(panel);
    if (!root.dataset.uploadUrl && panel.fileInput) {
      panel.fileInput.hidden = true;
      panel.fileInput.nextElementSibling.hidden = true; // its label
    }
    panel.textarea.value = redaction.redactPans(load("draft." + id, "")).text;
    showAttachment(panel);
    outbox.forEach(function (entry) {
      if (entry.conversation === id) showPending(panel, entry);
    });
    root.classList.add("has-panels");
    rememberOpen();
    updateSwitcher();
    if (chat.state() === "online") {
      follow(panel);
      flushOutbox();
    } else {
      showState(panel);
    }
  }

  function follow(panel) {
    chat.send({ type: "open", conversation: panel.id, after: unbrokenSeq(panel.items) });
  }

  // The highest sequence number with every one below it here. An acknowledgement can arrive
  // before an earlier message of the customer's still on its way: resuming after the highest
  // number heard would skip that one.
  function unbrokenSeq(items) {
    var seq = 0;
    while (items.has(seq + 1)) seq += 1;
    return seq;
  }

  function dismiss(panel) {
    stopTyping(panel);
    chat.send({ type: "leave", conversation: panel.id });
    clearTimeout(panel.typingShown);
    clearTimeout(panel.receiptTimer);
    panels.delete(panel.id);
    var next = panel.el.nextElementSibling || panel.el.previousElementSibling;
    panel.el.remove();
    root.classList.toggle("has-panels", panels.size > 0);
    rememberOpen();
    if (activeId === panel.id) activeId = null;
    updateSwitcher();
    // Focus goes somewhere sensible, not to the top of the page.
    var nextId = next && Number(next.getAttribute("data-conversation"));
    if (nextId && panels.has(nextId)) {
      activate(nextId, true);
    } else {
      var row = document.getElementById("chat-row-" + panel.id);
      if (row) row.focus();
    }
  }

  function activate(id, focus) {
    var panel = panels.get(id);
    if (!panel) return;
    activeId = id;
    panels.forEach(function (other) {
      other.el.classList.toggle("is-active", other.id === id);
    });
    updateSwitcher();
    if (focus) {
      panel.el.scrollIntoView({ block: "nearest", inline: "nearest" });
      panel.textarea.focus({ preventScroll: true });
    }
    scheduleReceipt(panel);
  }

  function markOpenRows() {
    document.querySelectorAll(".chat-row").forEach(function (row) {
      row.classList.toggle("is-open", panels.has(Number(row.getAttribute("data-conversation"))));
    });
  }

  function updateSwitcher() {
    markOpenRows();
    if (!switcher) return;
    while (switcher.firstChild) switcher.removeChild(switcher.firstChild);
    panels.forEach(function (panel) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "chat-switch";
      button.setAttribute("data-switch", String(panel.id));
      button.setAttribute("aria-pressed", panel.id === activeId ? "true" : "false");
      button.textContent = panel.customer;
      switcher.appendChild(button);
    });
    switcher.hidden = panels.size === 0;
  }

  // The conversation --------------------------------------------------------------------------

  function mayWrite(panel) {
    var details = panel.details;
    if (!details) return true;
    if (details.status === "closed" || panel.gone) return false;
    return !details.assignee || details.assignee.id === userId;
  }

  function showConversation(details) {
    var panel = panels.get(details.id);
    if (!panel) return;
    var before = panel.details;
    panel.details = details;
    panel.el.setAttribute("data-status", details.status);
    panel.statusBadge.className = "badge chat-status-" + details.status;
    panel.statusBadge.textContent = statusLabel(details.status);
    var assignee = details.assignee;
    if (!assignee) panel.assignee.textContent = text("nobody-has-it", "Nobody has taken this chat yet.");
    else if (assignee.id === userId) panel.assignee.textContent = text("you-have-it", "You have this chat.");
    else panel.assignee.textContent = text("with-agent", "With {name}", { name: assignee.name });
    var closed = details.status === "closed";
    setHidden(panel, "accept", Boolean(assignee) || closed);
    setHidden(panel, "close", closed);
    var transfer = panel.el.querySelector(".chat-transfer");
    if (transfer) transfer.hidden = closed;
    panel.customerDelivered = Math.max(panel.customerDelivered, details.customer_delivered || 0);
    panel.customerRead = Math.max(panel.customerRead, details.customer_read || 0);
    refreshMarks(panel);
    showState(panel);
    if (
      before &&
      (before.status !== details.status ||
        JSON.stringify(before.assignee) !== JSON.stringify(details.assignee))
    ) {
      // Accepting or handing over the chat changes its ticket too.
      body.dispatchEvent(new CustomEvent("paydesk:chat-ticket-" + details.id));
    }
  }

  function setHidden(panel, action, hidden) {
    var button = panel.el.querySelector('[data-action="' + action + '"]');
    if (button) button.hidden = hidden;
  }

  function showState(panel) {
    var details = panel.details;
    var message = "";
    if (panel.gone) message = text("gone", "This chat went to a team you are not on.");
    else if (details && details.status === "closed") message = text("closed", "This chat is closed.");
    else if (details && details.assignee && details.assignee.id !== userId) {
      message = text("others-chat", "{name} has this chat.", { name: details.assignee.name });
    } else if (chat.state() !== "online") {
      message = text("offline", "The chat connection is down; your messages are kept.");
    }
    if (panel.state.textContent !== message) panel.state.textContent = message;
    var writable = mayWrite(panel);
    panel.sendButton.disabled = !writable;
    if (panel.fileInput) panel.fileInput.disabled = !writable;
  }

  // Messages ----------------------------------------------------------------------------------

  var SENDERS = ["customer", "agent", "bot", "system"];

  function timeOf(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return null;
    var element = document.createElement("time");
    element.dateTime = date.toISOString();
    try {
      element.textContent = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
        hour: "2-digit",
        minute: "2-digit",
      }).format(date);
    } catch (error) {
      element.textContent = date.toLocaleTimeString();
    }
    return element;
  }

  function safeUrl(value) {
    if (typeof value !== "string" || !value) return null;
    try {
      var url = new URL(value, window.location.href);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined && content !== null) node.textContent = String(content);
    return node;
  }

  function avatar(agent) {
    var node = element("span", "chat-avatar", agent && agent.initials ? agent.initials : "?");
    node.setAttribute("aria-hidden", "true");
    if (agent && /^\d{1,3}$/.test(String(agent.hue))) node.style.setProperty("--hue", agent.hue);
    return node;
  }

  function attachmentNode(attachment) {
    var name = String(attachment.name || "");
    var url = safeUrl(attachment.url);
    var box = element("div", "chat-msg-attachment");
    if (!url) {
      box.appendChild(element("span", "chat-file-name", name));
      return box;
    }
    var link = element("a", "chat-file-link");
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener";
    if (/^image\//.test(String(attachment.content_type || ""))) {
      var image = document.createElement("img");
      image.src = url;
      image.alt = name;
      image.loading = "lazy";
      link.appendChild(image);
      link.setAttribute("aria-label", text("open-attachment", "Open {name}", { name: name }));
    } else {
      link.appendChild(element("span", "chat-file-icon", "📄")).setAttribute("aria-hidden", "true");
      link.appendChild(element("span", "chat-file-name", name));
    }
    box.appendChild(link);
    return box;
  }

  function buildMessage(panel, message) {
    var sender = SENDERS.indexOf(message.sender) === -1 ? "system" : message.sender;
    var item = element("li", "chat-msg chat-msg-" + sender);
    if (typeof message.seq === "number") item.setAttribute("data-seq", String(message.seq));
    if (message.client_id) item.setAttribute("data-client-id", String(message.client_id));
    var meta = element("div", "chat-msg-meta");
    if (sender === "agent") meta.appendChild(avatar(message.agent));
    var author =
      sender === "customer"
        ? panel.customer
        : sender === "agent"
          ? (message.agent && message.agent.name) || ""
          : sender === "bot"
            ? text("bot", "Automatic answer")
            : "";
    if (author) meta.appendChild(element("span", "chat-author", author));
    var time = message.created_at ? timeOf(message.created_at) : null;
    if (time) meta.appendChild(time);
    item.appendChild(meta);
    if (message.body) {
      var bodyNode = element("div", "chat-msg-body", message.body);
      bodyNode.dir = "auto";
      item.appendChild(bodyNode);
    }
    if (message.article && typeof message.article === "object") {
      var article = element("div", "chat-article");
      article.appendChild(element("strong", "chat-article-title", message.article.title));
      var articleBody = element("p", "chat-article-body", message.article.body);
      articleBody.dir = "auto";
      article.appendChild(articleBody);
      item.appendChild(article);
    }
    if (message.attachment && typeof message.attachment === "object") {
      item.appendChild(attachmentNode(message.attachment));
    }
    if (sender === "agent") item.appendChild(element("span", "chat-msg-mark"));
    return item;
  }

  function nearEnd(panel) {
    var log = panel.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  function toEnd(panel) {
    panel.log.scrollTop = panel.log.scrollHeight;
    panel.atEnd = true;
  }

  function keepAtEnd(panel) {
    // A log read to its end stays there when it grows or narrows (another panel opened).
    panel.log.addEventListener("scroll", function () {
      panel.atEnd = nearEnd(panel);
    });
    if (typeof ResizeObserver !== "function") return;
    var observer = new ResizeObserver(function () {
      if (panel.atEnd) panel.log.scrollTop = panel.log.scrollHeight;
    });
    observer.observe(panel.log);
    observer.observe(panel.list);
  }

  function insertInOrder(panel, item, seq) {
    // Before the first message with a higher number, and before those still being sent.
    var children = panel.list.children;
    for (var i = 0; i < children.length; i++) {
      var other = children[i];
      var otherSeq = other.getAttribute("data-seq");
      if (otherSeq === null || Number(otherSeq) > seq) {
        panel.list.insertBefore(item, other);
        return;
      }
    }
    panel.list.appendChild(item);
  }

  function showMessage(message) {
    var panel = panels.get(message.conversation);
    if (!panel || typeof message.seq !== "number") return;
    var atEnd = panel.atEnd;
    var fresh = buildMessage(panel, message);
    var earlier = panel.items.get(message.seq);
    if (!earlier && message.sender === "agent" && message.client_id) {
      earlier = panel.pending.get(message.client_id);
      panel.pending.delete(message.client_id);
      forgetSent(message.client_id);
    }
    if (earlier) {
      earlier.replaceWith(fresh);
    } else {
      insertInOrder(panel, fresh, message.seq);
    }
    panel.items.set(message.seq, fresh);
    panel.maxSeq = Math.max(panel.maxSeq, message.seq);
    if (message.sender === "agent") refreshMark(panel, fresh);
    if (message.sender === "customer") showTyping(panel, false);
    if (atEnd || message.sender === "agent") toEnd(panel);
    scheduleReceipt(panel);
  }

  function showPending(panel, entry) {
    var item = buildMessage(panel, {
      sender: "agent",
      client_id: entry.client_id,
      body: entry.body,
      attachment: entry.attachment,
      agent: null,
    });
    item.classList.add("is-pending");
    item.querySelector(".chat-msg-meta").remove();
    panel.pending.set(entry.client_id, item);
    panel.list.appendChild(item);
    showPendingState(panel, entry);
    toEnd(panel);
  }

  function showPendingState(panel, entry) {
    var item = panel.pending.get(entry.client_id);
    if (!item) return;
    var mark = item.querySelector(".chat-msg-mark");
    while (mark.firstChild) mark.removeChild(mark.firstChild);
    item.classList.toggle("is-failed", Boolean(entry.failed));
    if (!entry.failed) {
      mark.textContent = text("sending", "Sending…");
      return;
    }
    mark.appendChild(element("span", "chat-failed", text("failed", "Not sent") + ": " + entry.failed));
    var retry = element("button", "link-button", text("retry", "Try again"));
    retry.type = "button";
    retry.setAttribute("data-action", "retry");
    retry.setAttribute("data-client-id", entry.client_id);
    var edit = element("button", "link-button", text("edit", "Edit"));
    edit.type = "button";
    edit.setAttribute("data-action", "edit");
    edit.setAttribute("data-client-id", entry.client_id);
    mark.appendChild(document.createTextNode(" "));
    mark.appendChild(retry);
    mark.appendChild(document.createTextNode(" "));
    mark.appendChild(edit);
  }

  function refreshMark(panel, item) {
    var seq = Number(item.getAttribute("data-seq"));
    var mark = item.querySelector(".chat-msg-mark");
    if (!mark || !seq) return;
    var state = seq <= panel.customerRead ? "read" : seq <= panel.customerDelivered ? "delivered" : "sent";
    if (mark.getAttribute("data-state") === state) return;
    mark.setAttribute("data-state", state);
    mark.textContent = text(state, state);
  }

  function refreshMarks(panel) {
    panel.items.forEach(function (item) {
      if (item.classList.contains("chat-msg-agent")) refreshMark(panel, item);
    });
  }

  // Sending -----------------------------------------------------------------------------------

  function findEntry(clientId) {
    for (var i = 0; i < outbox.length; i++) {
      if (outbox[i].client_id === clientId) return outbox[i];
    }
    return null;
  }

  function forgetSent(clientId) {
    var before = outbox.length;
    outbox = outbox.filter(function (entry) {
      return entry.client_id !== clientId;
    });
    sentOn.delete(clientId);
    if (outbox.length !== before) saveOutbox();
  }

  function transmit(entry) {
    var message = {
      type: "message",
      conversation: entry.conversation,
      client_id: entry.client_id,
      body: entry.body,
    };
    if (entry.attachment && entry.attachment.id) message.attachment = entry.attachment.id;
    if (chat.send(message)) sentOn.set(entry.client_id, connection);
  }

  function flushOutbox() {
    outbox.forEach(function (entry) {
      if (!entry.failed && sentOn.get(entry.client_id) !== connection) transmit(entry);
    });
  }

  function submit(panel) {
    if (!mayWrite(panel)) return;
    if (panel.uploading) {
      // Sent with its file once the upload is done; nothing is sent if the upload fails.
      panel.sendWhenUploaded = true;
      say(text("send-after-upload", "Your message goes as soon as the file is uploaded."));
      return;
    }
    var written = redaction.redactPans(panel.textarea.value);
    if (!written.text.trim() && !panel.attachment) return;
    var entry = {
      conversation: panel.id,
      client_id: newClientId(),
      body: written.text,
      attachment: panel.attachment,
      failed: null,
    };
    if (written.masked) {
      say(text("card-masked", "The card number in your message was masked: a chat never carries card numbers."));
    }
    outbox.push(entry);
    saveOutbox();
    panel.textarea.value = "";
    save("draft." + panel.id, null);
    panel.attachment = null;
    save("attachment." + panel.id, null);
    showAttachment(panel);
    stopTyping(panel);
    showPending(panel, entry);
    acted(panel);
    transmit(entry);
  }

  function acknowledged(ack) {
    forgetSent(ack.client_id);
    var panel = panels.get(ack.conversation);
    if (!panel) return;
    var item = panel.pending.get(ack.client_id);
    if (!item) return;
    panel.pending.delete(ack.client_id);
    if (panel.items.has(ack.seq)) {
      item.remove(); // the stored message arrived first
      return;
    }
    item.classList.remove("is-pending");
    item.setAttribute("data-seq", String(ack.seq));
    var shown = item.querySelector(".chat-msg-body");
    // What was stored, card numbers masked.
    if (shown && typeof ack.body === "string") shown.textContent = ack.body;
    panel.items.set(ack.seq, item);
    panel.maxSeq = Math.max(panel.maxSeq, ack.seq);
    refreshMark(panel, item);
  }

  function refused(nack) {
    var entry = findEntry(nack.client_id);
    if (!entry) return;
    if (nack.error === "rate_limited") {
      var wait = Math.max(1, Number(nack.retry_after) || 5) * 1000;
      sentOn.delete(entry.client_id);
      setTimeout(function () {
        if (findEntry(entry.client_id)) transmit(entry);
      }, wait);
      return;
    }
    entry.failed = String(nack.message || nack.error || "");
    saveOutbox();
    var panel = panels.get(entry.conversation);
    if (panel) showPendingState(panel, entry);
  }

  function retry(panel, clientId) {
    var entry = findEntry(clientId);
    if (!entry) return;
    entry.failed = null;
    saveOutbox();
    showPendingState(panel, entry);
    acted(panel);
    transmit(entry);
  }

  function edit(panel, clientId) {
    // The text goes back into the composer, before whatever is there now.
    var entry = findEntry(clientId);
    if (!entry) return;
    var current = panel.textarea.value;
    panel.textarea.value = entry.body + (current ? "\n" + current : "");
    if (entry.attachment && !panel.attachment) {
      panel.attachment = entry.attachment;
      save("attachment." + panel.id, panel.attachment);
      showAttachment(panel);
    }
    saveDraft(panel);
    forgetSent(clientId);
    var item = panel.pending.get(clientId);
    panel.pending.delete(clientId);
    if (item) item.remove();
    panel.textarea.focus();
  }

  function acted(panel) {
    lastAction = { panel: panel, at: Date.now() };
  }

  // Typing and receipts -----------------------------------------------------------------------

  function typed(panel) {
    saveDraft(panel);
    if (!panel.textarea.value.trim() || !mayWrite(panel)) {
      stopTyping(panel);
      return;
    }
    var now = Date.now();
    if (now - panel.typingSentAt > TYPING_REPEAT_MS) {
      if (chat.send({ type: "typing", conversation: panel.id, state: true })) panel.typingSentAt = now;
    }
    clearTimeout(panel.typingIdle);
    panel.typingIdle = setTimeout(function () {
      stopTyping(panel);
    }, TYPING_IDLE_MS);
  }

  function stopTyping(panel) {
    clearTimeout(panel.typingIdle);
    panel.typingIdle = null;
    if (!panel.typingSentAt) return;
    panel.typingSentAt = 0;
    chat.send({ type: "typing", conversation: panel.id, state: false });
  }

  function showTyping(panel, on) {
    clearTimeout(panel.typingShown);
    var message = on ? text("customer-typing", "{name} is typing…", { name: panel.customer }) : "";
    if (panel.typing.textContent !== message) panel.typing.textContent = message;
    if (on) {
      panel.typingShown = setTimeout(function () {
        showTyping(panel, false);
      }, TYPING_SHOWN_MS);
    }
  }

  function visible(panel) {
    return document.visibilityState === "visible" && panel.el.offsetParent !== null;
  }

  function scheduleReceipt(panel) {
    clearTimeout(panel.receiptTimer);
    panel.receiptTimer = setTimeout(function () {
      sendReceipt(panel);
    }, RECEIPT_DELAY_MS);
  }

  function sendReceipt(panel) {
    if (!panel.maxSeq || !panels.has(panel.id)) return;
    var read = visible(panel) ? panel.maxSeq : 0;
    if (panel.maxSeq <= panel.deliveredSent && read <= panel.readSent) return;
    var receipt = { type: "receipt", conversation: panel.id, delivered: panel.maxSeq };
    if (read) receipt.read = read;
    if (!chat.send(receipt)) return;
    panel.deliveredSent = panel.maxSeq;
    if (read > panel.readSent) {
      panel.readSent = read;
      // The inbox's unread counts changed.
      body.dispatchEvent(new CustomEvent("paydesk:chat-inbox", { detail: { conversation: panel.id } }));
    }
  }

  function customerReceipt(receipt) {
    var panel = panels.get(receipt.conversation);
    if (!panel || receipt.side !== "customer") return;
    panel.customerDelivered = Math.max(panel.customerDelivered, Number(receipt.delivered) || 0);
    panel.customerRead = Math.max(panel.customerRead, Number(receipt.read) || 0);
    refreshMarks(panel);
  }

  // Attachments -------------------------------------------------------------------------------

  function showAttachment(panel, message) {
    if (!panel.attachmentBox) return;
    var label = message;
    if (!label && panel.attachment) label = text("attached", "Attached: {name}", { name: panel.attachment.name });
    panel.attachmentBox.hidden = !label;
    panel.attachmentName.textContent = label || "";
    var remove = panel.attachmentBox.querySelector('[data-action="remove-attachment"]');
    if (remove) remove.hidden = !panel.attachment;
  }

  function upload(panel, file) {
    var url = root.dataset.uploadUrl;
    if (!file || !url) return;
    panel.uploading = true;
    showAttachment(panel, text("uploading", "Uploading {name}…", { name: file.name }));
    var form = new FormData();
    form.append("file", file);
    form.append("conversation", String(panel.id));
    fetch(url, {
      method: "POST",
      body: form,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            if (!response.ok || !data || typeof data.id !== "number") {
              var reason = (data && (data.error || data.message || data.detail)) || response.status;
              throw new Error(String(reason));
            }
            return data;
          });
      })
      .then(function (data) {
        panel.attachment = {
          id: data.id,
          name: String(data.name || file.name),
          content_type: String(data.content_type || ""),
          size: data.size,
          url: data.url,
        };
        save("attachment." + panel.id, panel.attachment);
        showAttachment(panel);
      })
      .catch(function (error) {
        panel.attachment = null;
        showAttachment(panel, text("upload-failed", "The file could not be uploaded: {reason}", { reason: error.message }));
      })
      .then(function () {
        panel.uploading = false;
        if (panel.fileInput) panel.fileInput.value = "";
        var send = panel.sendWhenUploaded && panel.attachment;
        panel.sendWhenUploaded = false;
        if (send) {
          say("");
          submit(panel);
        }
      });
  }

  // Events from the socket --------------------------------------------------------------------

  function handle(message) {
    if (message.type === "conversation" && message.conversation) {
      showConversation(message.conversation);
    } else if (message.type === "message" && message.message) {
      showMessage(message.message);
    } else if (message.type === "ack") {
      acknowledged(message);
    } else if (message.type === "nack") {
      refused(message);
    } else if (message.type === "typing") {
      var panel = panels.get(message.conversation);
      if (panel && message.side === "customer") showTyping(panel, message.state === true);
    } else if (message.type === "receipt") {
      customerReceipt(message);
    } else if (message.type === "gone") {
      var gone = panels.get(message.conversation);
      if (gone) {
        gone.gone = true;
        showState(gone);
      }
    } else if (message.type === "error") {
      var target = lastAction.panel;
      if (target && panels.has(target.id) && Date.now() - lastAction.at < ERROR_TARGET_MS) {
        target.state.textContent = String(message.message || "");
      } else {
        say(String(message.message || ""));
      }
    }
  }

  body.addEventListener("paydesk:chat", function (event) {
    if (event.detail && typeof event.detail === "object") handle(event.detail);
  });
  body.addEventListener("paydesk:chat-connected", function () {
    connection += 1;
    say("");
    panels.forEach(function (panel) {
      follow(panel);
      showState(panel);
    });
    flushOutbox();
  });
  body.addEventListener("paydesk:chat-disconnected", function () {
    panels.forEach(function (panel) {
      panel.typingSentAt = 0;
      showState(panel);
    });
  });
  body.addEventListener("htmx:afterSettle", markOpenRows);
  document.addEventListener("visibilitychange", function () {
    panels.forEach(scheduleReceipt);
  });

  // Events from the page ----------------------------------------------------------------------

  function panelOf(node) {
    var element = node && node.closest ? node.closest(".chat-panel") : null;
    return element ? panels.get(Number(element.getAttribute("data-conversation"))) : null;
  }

  function insertAtCursor(textarea, value) {
    var start = textarea.selectionStart || 0;
    var end = textarea.selectionEnd || 0;
    var before = textarea.value.slice(0, start);
    textarea.value = before + value + textarea.value.slice(end);
    var caret = before.length + value.length;
    textarea.setSelectionRange(caret, caret);
    textarea.focus();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-open-conversation]");
    if (opener && !event.ctrlKey && !event.metaKey && !event.shiftKey && event.button === 0) {
      event.preventDefault();
      openPanel(opener.getAttribute("data-open-conversation"), true);
      return;
    }
    var switchTo = event.target.closest("[data-switch]");
    if (switchTo) {
      activate(Number(switchTo.getAttribute("data-switch")), true);
      return;
    }
    var panel = panelOf(event.target);
    if (!panel) return;
    var canned = event.target.closest(".canned-insert");
    if (canned) {
      insertAtCursor(panel.textarea, canned.getAttribute("data-text") || "");
      var details = canned.closest("details");
      if (details) details.open = false;
      return;
    }
    var button = event.target.closest("button[data-action]");
    if (!button) return;
    var action = button.getAttribute("data-action");
    if (action === "accept") {
      acted(panel);
      chat.send({ type: "accept", conversation: panel.id });
    } else if (action === "close") {
      if (window.confirm(text("confirm-close", "Close this chat?"))) {
        acted(panel);
        chat.send({ type: "close", conversation: panel.id });
      }
    } else if (action === "dismiss") {
      dismiss(panel);
    } else if (action === "retry") {
      retry(panel, button.getAttribute("data-client-id"));
    } else if (action === "edit") {
      edit(panel, button.getAttribute("data-client-id"));
    } else if (action === "remove-attachment") {
      panel.attachment = null;
      save("attachment." + panel.id, null);
      showAttachment(panel);
    }
  });

  root.addEventListener("submit", function (event) {
    var panel = panelOf(event.target);
    if (!panel) return;
    event.preventDefault();
    var action = event.target.getAttribute("data-action");
    if (action === "send") {
      submit(panel);
    } else if (action === "transfer") {
      var choice = /^(agent|team):(\d+)$/.exec(event.target.elements.to.value);
      if (!choice) return;
      var transfer = { type: "transfer", conversation: panel.id };
      transfer[choice[1]] = Number(choice[2]);
      acted(panel);
      chat.send(transfer);
      var details = event.target.closest("details");
      if (details) details.open = false;
    }
  });

  root.addEventListener("keydown", function (event) {
    if (event.target.tagName !== "TEXTAREA" || event.key !== "Enter") return;
    // Shift+Enter is a new line; Enter while an input method composes a word is not "send".
    if (event.shiftKey || event.isComposing || event.keyCode === 229) return;
    var panel = panelOf(event.target);
    if (!panel) return;
    event.preventDefault();
    submit(panel);
  });

  root.addEventListener("input", function (event) {
    if (event.target.tagName !== "TEXTAREA") return;
    var panel = panelOf(event.target);
    if (panel) typed(panel);
  });

  root.addEventListener("focusout", function (event) {
    if (event.target.tagName !== "TEXTAREA") return;
    var panel = panelOf(event.target);
    if (panel) stopTyping(panel);
  });

  root.addEventListener("focusin", function (event) {
    var panel = panelOf(event.target);
    if (panel && panel.id !== activeId) activate(panel.id, false);
  });

  root.addEventListener("change", function (event) {
    if (event.target.getAttribute("data-action") !== "attach") return;
    var panel = panelOf(event.target);
    if (panel && event.target.files && event.target.files[0]) upload(panel, event.target.files[0]);
  });

  // For browser tests: what the page holds.
  window.paydeskChatInbox = {
    open: function (id) {
      openPanel(id, true);
    },
    panels: function () {
      return Array.from(panels.keys());
    },
    outbox: function () {
      return outbox.slice();
    },
  };

  // Start: the chats this tab had open, and the one the address asks for.
  var wanted = load("open", []);
  var fromAddress = Number(new URLSearchParams(window.location.search).get("open"));
  if (fromAddress && wanted.indexOf(fromAddress) === -1) wanted.push(fromAddress);
  // One after the other, so they come back in the order they were opened.
  wanted.reduce(function (previous, id) {
    return previous.then(function () {
      return openPanel(id, id === fromAddress);
    });
  }, Promise.resolve());
})();
