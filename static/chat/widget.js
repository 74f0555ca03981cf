/*
 * Paydesk chat widget. A merchant embeds it with one tag, on any page:
 *
 *   <script src="https://PAYDESK/static/chat/widget.js" data-token="…" defer></script>
 *
 * Paydesk is the origin of this script's src: the widget fetches its texts from
 * /chat/api/widget/, uploads attachments to /chat/api/attachments/ and chats over /ws/chat/ there
 * (the protocol is the module docstring of chat/consumers.py). The page's origin must be one of
 * Paydesk's CHAT_ALLOWED_ORIGINS.
 *
 *   data-token     the customer's identity, signed by the merchant's backend (chat/identity.py):
 *                  the widget then shows their recent payments, live. Without a token the widget
 *                  asks for an email address (and a name) first; the conversation is unverified.
 *   data-language  en, el or fa. Otherwise the page's <html lang>, then the browser's language.
 *                  Persian reads right to left.
 *   data-position  the bottom corner it sits in: "end" (the default: right on left-to-right
 *                  pages, left on right-to-left ones), "start", "right" or "left".
 *   data-open      "true" opens the chat as the page loads.
 *
 * It lives in a shadow root: the page's styles do not reach it and its own stay inside. Nothing
 * a customer writes is lost: each message has its own id and is kept (in memory and in
 * localStorage) until the server acknowledges it, and sent again with the same id after a
 * reconnect, so it is stored exactly once. A card number in it is masked first, before the
 * message is shown, kept or sent (the server masks again). window.PaydeskChat has open(),
 * close(), reconnect() (drop the connection and make a new one, as after a network failure)
 * and redactPans(text).
 *
 * Plain JavaScript (ES2020), no dependencies. Text from the server or the customer is only ever
 * set with textContent.
 */
(function () {
  "use strict";

  const script = document.currentScript;
  if (!script || window.PaydeskChat) return;

  const BASE = new URL(script.src, location.href).origin;
  const SOCKET_URL = BASE.replace(/^http/, "ws") + "/ws/chat/";
  const UPLOAD_URL = BASE + "/chat/api/attachments/";
  const TOKEN = script.dataset.token || "";
  const REQUESTED_LANGUAGE =
    script.dataset.language || document.documentElement.lang || navigator.language || "en";
  const POSITION = (script.dataset.position || "end").toLowerCase();
  const OPEN_AT_START = script.dataset.open !== undefined && script.dataset.open !== "false";

  // Close codes of refusals (chat/consumers.py): retrying the same hello would not help.
  const CLOSE_BAD_HELLO = 4400;
  const CLOSE_BAD_TOKEN = 4401;
  const CLOSE_NOT_YOURS = 4403;
  const CLOSE_HELLO_TIMEOUT = 4408;
  const BACKOFF_FIRST_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  // A ping still unanswered when the next is due: the connection died without the browser
  // noticing (a phone switching networks, a proxy dropping it).
  const PING_EVERY_MS = 20000;
  const TYPING_IDLE_MS = 2500;
  const AGENT_TYPING_TIMEOUT_MS = 10000;
  const STORE_PREFIX = "paydesk-chat:" + BASE + ":";
  // What Paydesk accepts (chat/attachments.py); it checks the content itself too.
  const ACCEPTED_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"];

  // --- Storage: localStorage may be full or forbidden; the chat works without it -----------

  function storageGet(area, key) {
    try {
      return JSON.parse(window[area].getItem(STORE_PREFIX + key));
    } catch (error) {
      return null;
    }
  }

  function storageSet(area, key, value) {
    try {
      if (value === null || value === undefined) window[area].removeItem(STORE_PREFIX + key);
      else window[area].setItem(STORE_PREFIX + key, JSON.stringify(value));
    } catch (error) {
      /* private mode or full: memory only */
    }
  }

  const local = {
    get: (key) => storageGet("localStorage", key),
    set: (key, value) => storageSet("localStorage", key, value),
  };
  const session = {
    get: (key) => storageGet("sessionStorage", key),
    set: (key, value) => storageSet("sessionStorage", key, value),
  };

  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    // Pages served over plain http have no randomUUID: the same v4 UUID by hand.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)]
      .join("-");
  }

  // --- Card numbers: masked before a message is shown, stored or sent ----------------------
  // A copy of static/chat/redaction.js (the rule of chat/redaction.py), kept the same by
  // tests/browser/test_chat_redaction_js.py: the widget stays one file, and adds nothing to the
  // page's globals but PaydeskChat.

  // <redact-pans>
  const MASK = "•";
  const DIGIT = /^\p{Nd}$/u;
  // Digit groups joined by up to three spaces, tabs, dots or dashes, or by one line break.
  const RUN = /\p{Nd}+(?:(?:[ \t\u00a0.\-\u2013]{1,3}|\r?\n)\p{Nd}+)*/gu;
  const GROUP = /\p{Nd}+/gu;

  function digitValue(digit) {
    // Unicode assigns decimal digits in runs of ten, zero to nine: count from the run's start.
    const code = digit.codePointAt(0);
    let zero = code;
    while (DIGIT.test(String.fromCodePoint(zero - 1))) zero -= 1;
    return (code - zero) % 10;
  }

  function luhnValid(digits) {
    let total = 0;
    digits
      .slice()
      .reverse()
      .forEach((digit, index) => {
        let value = digitValue(digit);
        if (index % 2 === 1) {
          value *= 2;
          if (value > 9) value -= 9;
        }
        total += value;
      });
    return total % 10 === 0;
  }

  function redactRun(run) {
    // A card number starts and ends on a group boundary: "4242 4242 4242 4242 12" keeps "12".
    const groups = Array.from(run.matchAll(GROUP), (m) => [m.index, m.index + m[0].length]);
    let out = "";
    let cursor = 0;
    let first = 0;
    while (first < groups.length) {
      let last = groups.length - 1;
      for (; last >= first; last -= 1) {
        const [start, end] = [groups[first][0], groups[last][1]];
        const digits = Array.from(run.slice(start, end)).filter((char) => DIGIT.test(char));
        if (digits.length >= 12 && digits.length <= 19 && luhnValid(digits)) {
          const kept = digits.slice(0, 6).join("") + MASK.repeat(digits.length - 10);
          out += run.slice(cursor, start) + kept + digits.slice(-4).join("");
          cursor = end;
          break;
        }
      }
      first = last >= first ? last + 1 : first + 1;
    }
    return out + run.slice(cursor);
  }

  function redactPans(text) {
    // Until stable: the last four digits kept can join the digits after them into a new number.
    let redacted = String(text);
    for (;;) {
      const again = redacted.replace(RUN, redactRun);
      if (again === redacted) return { text: redacted, masked: redacted !== String(text) };
      redacted = again;
    }
  }
  // </redact-pans>

  // --- State ---------------------------------------------------------------------------------

  const state = {
    strings: {},
    language: "en",
    direction: "ltr",
    maxBytes: 10 * 1024 * 1024,
    visitor: TOKEN ? null : local.get("visitor"), // {email, name} an unverified customer typed
    conversation: local.get("conversation"), // {id, key}
    status: null,
    agent: null,
    rating: null,
    email: "",
    agentsOnline: true,
    payments: [],
    alternatives: [],
    maxSeq: 0,
    lastOtherSeq: 0, // the newest message from the agent's side shown
    bySeq: new Map(), // seq → view of a stored message
    pending: new Map(), // client id → view of a customer message not acknowledged yet
    agentMarks: { delivered: 0, read: 0 },
    sentMarks: { delivered: 0, read: 0 },
    open: false,
    unread: 0,
    connection: "offline", // connecting, online, reconnecting, unavailable
  };

  const link = {
    socket: null,
    ready: false, // welcomed: messages may be sent
    attempts: 0,
    retryTimer: null,
    pingTimer: null,
    heard: true,
    stopped: false,
  };

  const ui = {};
  let typingSent = false;
  let typingTimer = null;
  let agentTypingTimer = null;

  function t(key, values) {
    let text = state.strings[key] || key;
    if (values) {
      text = text.replace(/%\((\w+)\)s/g, (all, name) =>
        name in values ? String(values[name]) : all
      );
    }
    return text;
  }

  // --- DOM helpers: text goes in as text nodes, never as markup ------------------------------

  function h(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") element.className = value;
      else if (name === "text") element.textContent = value;
      else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
      else element.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined && child !== false) element.append(child);
    }
    return element;
  }

  const ICONS = {
    chat: "M21 12a8.5 8.5 0 0 1-12.3 7.6L3 21l1.5-5.2A8.5 8.5 0 1 1 21 12z",
    minimise: "M6 9l6 6 6-6",
    end: "M12 3v8M6.6 6.6a8 8 0 1 0 10.8 0",
    send: "M4 12l16-8-6 16-2.5-6.5z",
    attach:
      "M20.5 11.5l-8.3 8.3a5 5 0 0 1-7.1-7.1l8.7-8.7a3.4 3.4 0 0 1 4.8 4.8l-8.6 8.6" +
      "a1.8 1.8 0 0 1-2.5-2.5l7.9-7.9",
    file: "M14 3H6v18h12V7zM14 3v4h4",
    close: "M6 6l12 12M18 6L6 18",
  };

  function icon(name) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    svg.append(path);
    return svg;
  }

  function avatar(agent) {
    if (!agent) return h("span", { class: "avatar avatar-brand" }, icon("chat"));
    const element = h("span", { class: "avatar", "aria-hidden": "true", text: agent.initials });
    element.style.background = `hsl(${Number(agent.hue) || 0} 55% 40%)`;
    return element;
  }

  function timeOf(iso) {
    const when = iso ? new Date(iso) : new Date();
    try {
      return new Intl.DateTimeFormat(state.language, { hour: "numeric", minute: "2-digit" })
        .format(when);
    } catch (error) {
      return when.toTimeString().slice(0, 5);
    }
  }

  function sizeOf(bytes) {
    const megabytes = bytes >= 1024 * 1024;
    const value = megabytes ? bytes / 1024 / 1024 : Math.max(1, Math.round(bytes / 1024));
    try {
      return new Intl.NumberFormat(state.language, {
        style: "unit",
        unit: megabytes ? "megabyte" : "kilobyte",
        maximumFractionDigits: 1,
      }).format(value);
    } catch (error) {
      return value.toFixed(megabytes ? 1 : 0) + (megabytes ? " MB" : " kB");
    }
  }

  // --- Building the widget -------------------------------------------------------------------

  function physicalSide() {
    if (POSITION === "left" || POSITION === "right") return POSITION;
    return (POSITION === "start") !== (state.direction === "rtl") ? "left" : "right";
  }

  function build() {
    const side = physicalSide();
    const host = document.createElement("paydesk-chat");
    // Inline and !important: no rule of the page can move or restyle the host.
    host.style.cssText =
      "all: initial !important; position: fixed !important; z-index: 2147483000 !important;" +
      `bottom: 20px !important; ${side}: 20px !important; display: block !important;`;
    const shadow = host.attachShadow({ mode: "open" });
    shadow.append(h("style", { text: STYLE }));

    ui.launcher = h(
      "button",
      {
        type: "button",
        class: "launcher",
        "aria-label": t("open_chat"),
        title: t("open_chat"),
        "aria-expanded": "false",
        "aria-controls": "panel",
        onclick: () => setOpen(!state.open),
      },
      h("span", { class: "when-closed" }, icon("chat")),
      h("span", { class: "when-open" }, icon("minimise")),
      (ui.badge = h("span", { class: "badge", hidden: true }))
    );

    ui.teaser = h(
      "div",
      { class: "teaser", hidden: true },
      (ui.teaserOpen = h(
        "button",
        { type: "button", class: "teaser-open", onclick: () => setOpen(true) },
        (ui.teaserWords = h("span", { class: "teaser-words", dir: "auto" })),
        h("strong", { text: t("payment_failed_teaser") })
      )),
      h(
        "button",
        {
          type: "button",
          class: "teaser-close",
          "aria-label": t("minimise"),
          onclick: dismissTeaser,
        },
        icon("close")
      )
    );

    ui.header = h(
      "header",
      { class: "header" },
      (ui.avatarSlot = h("span", { class: "avatar-slot" }, avatar(null))),
      h(
        "div",
        { class: "heading" },
        (ui.title = h("h2", { class: "title", id: "title", text: t("title") })),
        h(
          "p",
          { class: "subtitle" },
          (ui.dot = h("span", { class: "dot", "aria-hidden": "true" })),
          (ui.subtitle = h("span", { role: "status", text: t("connecting") }))
        )
      ),
      (ui.endButton = h(
        "button",
        {
          type: "button",
          class: "icon-button end-chat",
          "aria-label": t("end_chat"),
          title: t("end_chat"),
          hidden: true,
          onclick: () => send({ type: "close" }),
        },
        icon("end")
      )),
      h(
        "button",
        {
          type: "button",
          class: "icon-button",
          "aria-label": t("minimise"),
          title: t("minimise"),
          onclick: () => setOpen(false),
        },
        icon("minimise")
      )
    );

    ui.banner = h("p", { class: "banner", role: "alert", hidden: true });

    ui.payments = h(
      "section",
      { class: "payments", "aria-labelledby": "payments-title", hidden: true },
      h("h3", { id: "payments-title", text: t("payments_title") }),
      (ui.paymentList = h("ul", { class: "payment-list" })),
      (ui.alternatives = h(
        "div",
        { class: "alternatives", hidden: true },
        h("h4", { text: t("alternatives_title") }),
        (ui.alternativeList = h("ul"))
      ))
    );

    ui.offline = h("p", { class: "notice", hidden: true });
    ui.log = h("ol", { class: "log" });
    ui.typing = h("p", { class: "typing", "aria-live": "polite", hidden: true });
    ui.scroller = h(
      "div",
      { class: "scroll" },
      ui.payments,
      ui.offline,
      h("div", { role: "log", "aria-live": "polite", "aria-labelledby": "title" }, ui.log)
    );

    ui.identify = buildIdentify();
    ui.after = buildAfter();
    ui.composer = buildComposer();

    ui.panel = h(
      "section",
      {
        class: "panel",
        id: "panel",
        role: "dialog",
        "aria-labelledby": "title",
        hidden: true,
        onkeydown: (event) => {
          if (event.key === "Escape") {
            setOpen(false);
            ui.launcher.focus();
          }
        },
      },
      ui.header,
      ui.banner,
      ui.scroller,
      ui.typing,
      ui.identify,
      ui.after,
      ui.composer
    );

    ui.root = h(
      "div",
      { class: `root side-${side}`, dir: state.direction, lang: state.language },
      ui.panel,
      ui.teaser,
      ui.launcher
    );
    shadow.append(ui.root);
    document.body.append(host);
    ui.host = host;
  }

  function buildIdentify() {
    const email = h("input", {
      id: "visitor-email",
      type: "email",
      name: "email",
      required: true,
      autocomplete: "email",
      dir: "ltr",
    });
    const name = h("input", { id: "visitor-name", name: "name", autocomplete: "name" });
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const form = h(
      "form",
      { class: "identify", hidden: true, novalidate: true },
      h("p", { class: "intro", text: t("identify_intro") }),
      h("label", { class: "field", for: "visitor-email" }, h("span", { text: t("email_label") })),
      email,
      h("label", { class: "field", for: "visitor-name" }, h("span", { text: t("name_label") })),
      name,
      error,
      h("button", { type: "submit", class: "button", text: t("start") })
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const address = email.value.trim();
      if (!address || !email.checkValidity()) {
        error.textContent = t("email_invalid");
        error.hidden = false;
        email.focus();
        return;
      }
      error.hidden = true;
      state.visitor = { email: address, name: name.value.trim() };
      local.set("visitor", state.visitor);
      render();
      connect();
      ui.textarea.focus();
    });
    ui.identifyEmail = email;
    ui.identifyError = error;
    return form;
  }

  function buildComposer() {
    ui.file = h("input", {
      type: "file",
      accept: ACCEPTED_TYPES.join(","),
      hidden: true,
      tabindex: "-1",
      onchange: () => {
        const file = ui.file.files[0];
        ui.file.value = "";
        if (file) upload(file);
      },
    });
    ui.attach = h(
      "button",
      {
        type: "button",
        class: "icon-button attach",
        "aria-label": t("attach"),
        title: t("attach"),
        onclick: () => ui.file.click(),
      },
      icon("attach")
    );
    ui.textarea = h("textarea", {
      id: "message",
      rows: "1",
      dir: "auto",
      placeholder: t("message_placeholder"),
      oninput: () => {
        autosize();
        typing(ui.textarea.value.trim() !== "");
      },
      onkeydown: (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          submitMessage();
        }
      },
    });
    ui.sendButton = h(
      "button",
      { type: "submit", class: "icon-button send", "aria-label": t("send"), title: t("send") },
      icon("send")
    );
    ui.composerError = h("p", { class: "composer-error", role: "alert", hidden: true });
    const form = h(
      "form",
      { class: "composer" },
      ui.composerError,
      h(
        "div",
        { class: "composer-row" },
        ui.attach,
        ui.file,
        h("label", { class: "vh", for: "message", text: t("message_label") }),
        ui.textarea,
        ui.sendButton
      )
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submitMessage();
    });
    return form;
  }

  function buildAfter() {
    let chosen = 0;
    const stars = [1, 2, 3, 4, 5].map((rating) =>
      h("button", {
        type: "button",
        class: "star",
        text: "★",
        "aria-pressed": "false",
        "aria-label": t("rating_value", { rating: rating }),
        title: t("rating_value", { rating: rating }),
        onclick: () => {
          chosen = rating;
          stars.forEach((star, index) => {
            star.classList.toggle("on", index < rating);
            star.setAttribute("aria-pressed", String(index + 1 === rating));
          });
          ui.rateSend.disabled = false;
        },
      })
    );
    ui.rateComment = h("textarea", { id: "rate-comment", rows: "2", dir: "auto" });
    ui.rateSend = h("button", {
      type: "submit",
      class: "button",
      disabled: true,
      text: t("rate_send"),
    });
    ui.rateError = h("p", { class: "form-error", role: "alert", hidden: true });
    ui.rateForm = h(
      "form",
      { class: "rate" },
      h(
        "fieldset",
        {},
        h("legend", { text: t("rate_question") }),
        h("div", { class: "stars" }, ...stars)
      ),
      h("label", { class: "field", for: "rate-comment" }, h("span", { text: t("rate_comment") })),
      ui.rateComment,
      ui.rateError,
      ui.rateSend
    );
    ui.rateForm.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!chosen) return;
      ui.rateSend.disabled = true;
      ui.rateError.hidden = true;
      const comment = redactPans(ui.rateComment.value.trim()).text;
      send({ type: "rate", rating: chosen, comment: comment });
    });
    ui.rated = h("p", { class: "rated", text: t("rated"), hidden: true });
    ui.transcriptButton = h("button", {
      type: "button",
      class: "button secondary",
      text: t("transcript"),
      onclick: () => {
        ui.transcriptButton.disabled = true;
        send({ type: "transcript" });
      },
    });
    ui.transcriptSent = h("p", { class: "transcript-sent", role: "status", hidden: true });
    return h(
      "div",
      { class: "after", hidden: true },
      h("p", { class: "closed", text: t("closed") }),
      ui.rateForm,
      ui.rated,
      h(
        "div",
        { class: "after-actions" },
        ui.transcriptButton,
        h("button", {
          type: "button",
          class: "button secondary",
          text: t("new_chat"),
          onclick: newChat,
        })
      ),
      ui.transcriptSent
    );
  }

  // --- What is shown -------------------------------------------------------------------------

  function render() {
    const identified = Boolean(TOKEN || state.visitor);
    const closed = state.status === "closed";
    const unavailable = state.connection === "unavailable";
    ui.identify.hidden = identified || unavailable;
    ui.after.hidden = !closed;
    ui.composer.hidden = !identified || closed || unavailable;
    ui.endButton.hidden = !state.conversation || closed || !state.status;
    ui.attach.disabled = !state.conversation || closed;
    ui.attach.title = state.conversation ? t("attach") : t("attach_later");

    ui.avatarSlot.replaceChildren(avatar(state.agent));
    ui.title.textContent = state.agent ? state.agent.name : t("title");
    let subtitle = t("subtitle");
    if (state.connection === "connecting") subtitle = t("connecting");
    else if (state.connection === "reconnecting") subtitle = t("reconnecting");
    else if (unavailable) subtitle = t("unavailable");
    else if (closed) subtitle = t("closed");
    else if (!state.agentsOnline && !state.agent) subtitle = t("subtitle_offline");
    ui.subtitle.textContent = subtitle;
    const away = state.connection === "online" && subtitle === t("subtitle_offline");
    ui.dot.dataset.state = away ? "away" : state.connection;

    ui.banner.hidden = !unavailable;
    ui.banner.textContent = unavailable ? t("unavailable") : "";

    const offline = !state.agentsOnline && state.email && !closed && !state.agent;
    ui.offline.hidden = !offline;
    ui.offline.textContent = offline ? t("offline_notice", { email: state.email }) : "";

    ui.rateForm.hidden = state.rating !== null && state.rating !== undefined;
    ui.rated.hidden = !ui.rateForm.hidden;
    for (const view of state.bySeq.values()) {
      if (view.talk) view.talk.hidden = state.status !== "answered";
    }
  }

  function setConnection(connection) {
    state.connection = connection;
    if (!ui.root) return;
    ui.host.dataset.connection = connection; // for the page's scripts and styles
    render();
  }

  function setOpen(open, focus = true) {
    if (!ui.root) return;
    state.open = open;
    ui.panel.hidden = !open;
    ui.root.classList.toggle("is-open", open);
    ui.launcher.setAttribute("aria-expanded", String(open));
    session.set("open", open);
    if (open) {
      state.unread = 0;
      renderUnread();
      markSeen();
      dismissTeaser();
      scrollToEnd();
      sendReceipts();
      const target = ui.identify.hidden ? ui.textarea : ui.identifyEmail;
      if (focus && !target.closest("[hidden]")) target.focus({ preventScroll: true });
    }
  }

  function markSeen() {
    // Remembered across reloads: the history a reload brings back is not new to anyone.
    const conversation = state.conversation;
    if (!state.open || !conversation || (conversation.seen || 0) >= state.maxSeq) return;
    conversation.seen = state.maxSeq;
    local.set("conversation", conversation);
  }

  function renderUnread() {
    ui.badge.hidden = state.unread === 0;
    ui.badge.textContent = state.unread > 9 ? "9+" : String(state.unread);
    ui.launcher.setAttribute(
      "aria-label",
      state.unread ? `${t("open_chat")} (${t("unread")}: ${state.unread})` : t("open_chat")
    );
  }

  function nearEnd() {
    const s = ui.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 60;
  }

  function scrollToEnd() {
    ui.scroller.scrollTop = ui.scroller.scrollHeight;
  }

  function showPayments(payments) {
    state.payments = payments;
    ui.payments.hidden = payments.length === 0;
    ui.paymentList.replaceChildren(
      ...payments.map((payment, index) =>
        h(
          "li",
          {
            class: `payment payment-${payment.status}${index === 0 ? " newest" : ""}`,
            "data-payment": payment.id,
          },
          h("span", { class: "dot", "aria-hidden": "true" }),
          h("span", { class: "words", text: payment.words })
        )
      )
    );
    const newest = payments[0];
    const failed = Boolean(newest && newest.failed);
    ui.alternatives.hidden = !failed || state.alternatives.length === 0;
    ui.alternativeList.replaceChildren(
      ...state.alternatives.map((alternative) =>
        h("li", { "data-code": alternative.code, text: alternative.label })
      )
    );
    const dismissed = session.get("teaser-dismissed") || [];
    if (failed && !state.open && !dismissed.includes(newest.id)) {
      ui.teaserWords.textContent = newest.words;
      ui.teaser.hidden = false;
      ui.teaser.dataset.payment = newest.id;
    } else if (!failed) {
      ui.teaser.hidden = true; // paid after all
    }
  }

  function dismissTeaser() {
    if (ui.teaser.hidden) return;
    ui.teaser.hidden = true;
    const dismissed = session.get("teaser-dismissed") || [];
    dismissed.push(ui.teaser.dataset.payment);
    session.set("teaser-dismissed", dismissed.slice(-20));
  }

  // --- Messages ------------------------------------------------------------------------------

  // A view is one message on screen: {seq, clientId, sender, element, body, meta, ...}.
  function messageView(message) {
    const sender = message.sender;
    const view = { seq: message.seq, clientId: message.client_id, sender: sender };
    const bubble = h("div", { class: "bubble" });
    if (sender === "agent" && message.agent) {
      bubble.append(h("p", { class: "who", text: message.agent.name }));
    }
    if (sender === "bot") bubble.append(h("p", { class: "who bot-label", text: t("bot_label") }));
    view.body = h("p", { class: "body", dir: "auto", text: message.body || "" });
    view.body.hidden = !message.body;
    bubble.append(view.body);
    view.attachmentSlot = h("div", { class: "attachment-slot" });
    bubble.append(view.attachmentSlot);
    if (message.attachment) showAttachment(view, message.attachment);
    if (message.article) {
      bubble.append(
        h(
          "article",
          { class: "article" },
          h("h4", { dir: "auto", text: message.article.title }),
          h("p", { dir: "auto", text: message.article.body })
        )
      );
      view.talk = h("button", {
        type: "button",
        class: "button talk",
        text: t("talk_to_person"),
        hidden: state.status !== "answered",
        onclick: () => {
          view.talk.disabled = true;
          send({ type: "agent" });
        },
      });
      bubble.append(view.talk);
    }
    if (sender !== "system") {
      view.mark = sender === "customer" ? h("span", { class: "mark" }) : null;
      bubble.append(
        h("p", { class: "meta" }, h("time", { text: timeOf(message.created_at) }), view.mark)
      );
    }
    view.notice = h("p", { class: "card-notice", role: "status", hidden: true });
    view.problem = h("p", { class: "problem", role: "alert", hidden: true });
    bubble.append(view.notice, view.problem);
    if (message.card_number_masked && sender === "customer") {
      view.notice.textContent = t("card_masked");
      view.notice.hidden = false;
    }
    const children = [];
    if (sender === "agent") children.push(avatar(message.agent));
    children.push(bubble);
    view.element = h("li", { class: `msg msg-${sender}` }, ...children);
    if (message.seq) view.element.dataset.seq = String(message.seq);
    if (message.client_id) view.element.dataset.clientId = message.client_id;
    return view;
  }

  function showAttachment(view, attachment) {
    const url = attachment.url ? new URL(attachment.url, BASE).href : "";
    let node;
    if (url && /^image\//.test(attachment.content_type || "")) {
      node = h(
        "a",
        { class: "attachment-image", href: url, target: "_blank", rel: "noopener" },
        h("img", { src: url, alt: attachment.name, loading: "lazy" })
      );
    } else {
      const label = [
        icon("file"),
        h("span", { class: "file-name", dir: "auto", text: attachment.name }),
        h("span", { class: "file-size", text: sizeOf(attachment.size || 0) }),
      ];
      node = url
        ? h(
            "a",
            {
              class: "attachment-file",
              href: url,
              target: "_blank",
              rel: "noopener",
              title: t("download", { name: attachment.name }),
            },
            ...label
          )
        : h("span", { class: "attachment-file" }, ...label);
    }
    view.attachment = attachment;
    view.attachmentSlot.replaceChildren(node);
  }

  function setMark(view) {
    if (!view.mark) return;
    let text;
    let symbol;
    let kind;
    if (view.failed) [text, symbol, kind] = ["", "", "failed"];
    else if (!view.seq) [text, symbol, kind] = [t("sending"), "◷", "sending"];
    else if (view.seq <= state.agentMarks.read) [text, symbol, kind] = [t("read"), "✓✓", "read"];
    else if (view.seq <= state.agentMarks.delivered) {
      [text, symbol, kind] = [t("delivered"), "✓✓", "delivered"];
    } else [text, symbol, kind] = [t("sent"), "✓", "sent"];
    view.mark.dataset.state = kind;
    view.mark.title = text;
    view.mark.replaceChildren(
      h("span", { "aria-hidden": "true", text: symbol }),
      h("span", { class: "vh", text: text })
    );
  }

  function place(view) {
    // In sequence order; messages still on their way stay last, in the order written.
    const seq = view.seq || Infinity;
    for (const element of ui.log.children) {
      if (element === view.element) continue;
      const other = element.dataset.seq ? Number(element.dataset.seq) : Infinity;
      if (other > seq) {
        ui.log.insertBefore(view.element, element);
        return;
      }
    }
    ui.log.append(view.element);
  }

  function clearLog() {
    for (const view of state.bySeq.values()) view.element.remove();
    state.bySeq.clear();
    state.maxSeq = 0;
    state.lastOtherSeq = 0;
    state.agentMarks = { delivered: 0, read: 0 };
    state.sentMarks = { delivered: 0, read: 0 };
  }

  function onMessage(message) {
    if (!state.conversation || message.conversation !== state.conversation.id) return;
    if (state.bySeq.has(message.seq)) return; // heard already (a resume after a reconnect)
    const atEnd = nearEnd();
    let view = message.sender === "customer" ? state.pending.get(message.client_id) : null;
    if (view) {
      // Stored before the connection dropped: the resume brings it back before its ack.
      state.pending.delete(message.client_id);
      view.seq = message.seq;
      view.element.dataset.seq = String(message.seq);
      view.element.classList.remove("msg-pending");
      view.body.textContent = message.body;
      if (message.card_number_masked) showCardMasked(view);
      saveOutbox();
    } else {
      view = messageView(message);
    }
    state.bySeq.set(message.seq, view);
    state.maxSeq = Math.max(state.maxSeq, message.seq);
    place(view);
    setMark(view);
    if (message.sender !== "customer") {
      state.lastOtherSeq = Math.max(state.lastOtherSeq, message.seq);
      if (!state.open && message.seq > (state.conversation.seen || 0)) {
        state.unread += 1;
        renderUnread();
      }
    }
    markSeen();
    if (message.sender === "agent") showAgentTyping(null);
    if (atEnd || message.sender === "customer") scrollToEnd();
    sendReceipts();
  }

  function showCardMasked(view) {
    view.notice.textContent = t("card_masked");
    view.notice.hidden = false;
  }

  function onAck(ack) {
    const view = state.pending.get(ack.client_id);
    if (!view) return;
    state.pending.delete(ack.client_id);
    clearTimeout(view.retryTimer);
    if (ack.card_number_masked) {
      view.body.textContent = ack.body;
      showCardMasked(view);
    }
    if (state.bySeq.has(ack.seq)) {
      view.element.remove(); // the same message, shown already from a resume
    } else {
      view.seq = ack.seq;
      view.element.dataset.seq = String(ack.seq);
      view.element.classList.remove("msg-pending");
      state.bySeq.set(ack.seq, view);
      state.maxSeq = Math.max(state.maxSeq, ack.seq);
      place(view);
      setMark(view);
    }
    saveOutbox();
  }

  function onNack(nack) {
    const view = state.pending.get(nack.client_id);
    if (!view) return;
    if (nack.error === "rate_limited") {
      view.retryTimer = setTimeout(() => {
        view.retryTimer = null;
        sendPending(view);
      }, Math.max(1, Number(nack.retry_after) || 1) * 1000);
      return;
    }
    // Refused for good: shown with its reason and a way to try again, not resent by itself.
    state.pending.delete(nack.client_id);
    saveOutbox();
    view.failed = true;
    view.element.classList.add("msg-failed");
    const reason = nack.error === "too_long" ? t("too_long") : nack.message;
    view.problem.replaceChildren(
      h("span", { text: t("not_sent", { error: reason }) }),
      h("button", {
        type: "button",
        class: "link-button",
        text: t("retry"),
        onclick: () => {
          view.failed = false;
          view.element.classList.remove("msg-failed");
          view.problem.hidden = true;
          state.pending.set(view.clientId, view);
          saveOutbox();
          setMark(view);
          sendPending(view);
        },
      })
    );
    view.problem.hidden = false;
    setMark(view);
  }

  // --- The outbox: what the customer wrote that the server has not stored yet ---------------

  function outboxKey() {
    return "outbox:" + (state.conversation ? state.conversation.id : "new");
  }

  function saveOutbox() {
    const waiting = Array.from(state.pending.values(), (view) => ({
      client_id: view.clientId,
      body: view.text,
      attachment: view.attachment || null,
      card_number_masked: view.cardMasked || false,
    }));
    local.set(outboxKey(), waiting.length ? waiting : null);
  }

  function addPending(text, attachment, clientId, cardMasked) {
    // `text` is masked already (redactPans): this is where a message is first shown and kept.
    const view = messageView({
      client_id: clientId || newClientId(),
      sender: "customer",
      body: text,
      attachment: attachment,
      card_number_masked: cardMasked,
    });
    view.text = text;
    view.cardMasked = Boolean(cardMasked);
    view.element.classList.add("msg-pending");
    state.pending.set(view.clientId, view);
    place(view);
    setMark(view);
    return view;
  }

  function sendPending(view) {
    if (!link.ready || view.retryTimer || view.failed) return;
    const message = { type: "message", client_id: view.clientId, body: view.text };
    if (view.attachment) message.attachment = view.attachment.id;
    send(message);
  }

  function submitMessage() {
    const typed = ui.textarea.value.trim();
    if (!typed) return;
    ui.textarea.value = "";
    autosize();
    typing(false);
    const { text, masked } = redactPans(typed);
    const view = addPending(text, null, null, masked);
    saveOutbox();
    scrollToEnd();
    sendPending(view);
  }

  function restoreOutbox() {
    for (const item of local.get(outboxKey()) || []) {
      if (item && item.client_id && !state.pending.has(item.client_id)) {
        // An older version of the widget kept the text as typed: masked now, and kept again.
        const { text, masked } = redactPans(item.body || "");
        addPending(text, item.attachment, item.client_id, masked || item.card_number_masked);
      }
    }
    saveOutbox();
  }

  async function upload(file) {
    ui.composerError.hidden = true;
    if (!ACCEPTED_TYPES.includes(file.type)) {
      showComposerError(t("attachment_wrong_type"));
      return;
    }
    if (file.size > state.maxBytes) {
      showComposerError(t("attachment_too_big", { size: Math.round(state.maxBytes / 1048576) }));
      return;
    }
    if (!state.conversation) {
      showComposerError(t("attach_later"));
      return;
    }
    const uploading = h("p", { class: "body", text: t("uploading", { name: file.name }) });
    const note = h(
      "li",
      { class: "msg msg-customer msg-uploading" },
      h("div", { class: "bubble" }, uploading)
    );
    ui.log.append(note);
    scrollToEnd();
    const form = new FormData();
    form.append("file", file, file.name);
    form.append("conversation", String(state.conversation.id));
    if (TOKEN) form.append("token", TOKEN);
    else form.append("key", state.conversation.key || "");
    let error = "";
    let attachment = null;
    try {
      const response = await fetch(UPLOAD_URL, { method: "POST", body: form, credentials: "omit" });
      const answer = await response.json().catch(() => ({}));
      if (response.status === 201 && answer.id) attachment = answer;
      else error = answer.error || response.statusText || String(response.status);
    } catch (failure) {
      error = failure.message;
    }
    note.remove();
    if (!attachment) {
      showComposerError(t("upload_failed", { name: file.name, error: error }));
      return;
    }
    const view = addPending("", attachment);
    saveOutbox();
    scrollToEnd();
    sendPending(view);
  }

  function showComposerError(text) {
    ui.composerError.textContent = text;
    ui.composerError.hidden = false;
    clearTimeout(ui.composerErrorTimer);
    ui.composerErrorTimer = setTimeout(() => (ui.composerError.hidden = true), 8000);
  }

  function autosize() {
    ui.textarea.style.height = "auto";
    ui.textarea.style.height = Math.min(ui.textarea.scrollHeight, 120) + "px";
  }

  // --- Typing and receipts -------------------------------------------------------------------

  function typing(active) {
    clearTimeout(typingTimer);
    if (active) {
      if (!typingSent && state.conversation) typingSent = send({ type: "typing", state: true });
      typingTimer = setTimeout(() => typing(false), TYPING_IDLE_MS);
    } else if (typingSent) {
      typingSent = false;
      send({ type: "typing", state: false });
    }
  }

  function showAgentTyping(name) {
    clearTimeout(agentTypingTimer);
    ui.typing.hidden = name === null;
    ui.typing.textContent = name === null ? "" : name ? t("agent_typing", { name }) : t("typing");
    if (name !== null) {
      agentTypingTimer = setTimeout(() => showAgentTyping(null), AGENT_TYPING_TIMEOUT_MS);
    }
  }

  function applyAgentMarks(delivered, read) {
    state.agentMarks.delivered = Math.max(state.agentMarks.delivered, delivered || 0, read || 0);
    state.agentMarks.read = Math.max(state.agentMarks.read, read || 0);
    for (const view of state.bySeq.values()) {
      if (view.sender === "customer") setMark(view);
    }
  }

  function sendReceipts() {
    if (!link.ready || !state.lastOtherSeq) return;
    const delivered = state.lastOtherSeq;
    const seen = state.open && document.visibilityState === "visible";
    const read = seen ? delivered : state.sentMarks.read;
    if (delivered > state.sentMarks.delivered || read > state.sentMarks.read) {
      if (send({ type: "receipt", delivered, read })) state.sentMarks = { delivered, read };
    }
  }

  // --- The conversation ----------------------------------------------------------------------

  function applyConversation(conversation) {
    if (!conversation) return;
    const previous = state.conversation;
    if (!previous || previous.id !== conversation.id) {
      local.set(outboxKey(), null);
      if (previous) clearLog();
      state.conversation = { id: conversation.id, key: conversation.key || "" };
      saveOutbox();
    } else if (conversation.key) {
      state.conversation.key = conversation.key;
    }
    local.set("conversation", state.conversation);
    state.status = conversation.status;
    state.agent = conversation.agent || null;
    state.rating = conversation.rating;
    applyAgentMarks(conversation.agent_delivered, conversation.agent_read);
    if (state.status === "closed") {
      typing(false);
      showAgentTyping(null);
    }
    render();
  }

  function newChat() {
    // The server starts a new conversation with the next message; until then there is none.
    local.set(outboxKey(), null);
    clearLog();
    state.conversation = null;
    state.status = null;
    state.agent = null;
    state.rating = null;
    local.set("conversation", null);
    saveOutbox();
    ui.transcriptButton.disabled = false;
    ui.transcriptSent.hidden = true;
    ui.rateComment.value = "";
    render();
    ui.textarea.focus();
  }

  function forgetConversation() {
    // Refused as not this customer's: start afresh, keeping what they wrote to send it there.
    local.set(outboxKey(), null);
    clearLog();
    state.conversation = null;
    state.status = null;
    state.agent = null;
    local.set("conversation", null);
    saveOutbox();
    render();
  }

  function onWelcome(welcome) {
    link.ready = true;
    link.attempts = 0;
    state.email = welcome.email;
    state.agentsOnline = welcome.agents_online !== false;
    state.alternatives = welcome.alternatives || [];
    showPayments(welcome.payments || []);
    applyConversation(welcome.conversation);
    setConnection("online");
    for (const view of state.pending.values()) sendPending(view);
    sendReceipts();
  }

  function receive(data) {
    switch (data.type) {
      case "welcome":
        onWelcome(data);
        break;
      case "message":
        onMessage(data.message);
        break;
      case "ack":
        onAck(data);
        break;
      case "nack":
        onNack(data);
        break;
      case "conversation":
        applyConversation(data.conversation);
        break;
      case "payments":
        showPayments(data.payments || []);
        break;
      case "typing":
        if (data.side === "agent") showAgentTyping(data.state ? data.name || "" : null);
        break;
      case "receipt":
        if (data.side === "agent") applyAgentMarks(data.delivered, data.read);
        break;
      case "rated":
        state.rating = data.rating;
        render();
        break;
      case "transcript":
        ui.transcriptSent.textContent = t("transcript_sent", { email: data.email });
        ui.transcriptSent.hidden = false;
        break;
      case "error":
        console.warn("Paydesk chat:", data.message);
        if (state.status === "closed" && !ui.rateForm.hidden) {
          ui.rateError.textContent = data.message;
          ui.rateError.hidden = false;
          ui.rateSend.disabled = false;
        }
        break;
      default:
        break; // pong, and anything newer than this widget
    }
  }

  // --- The connection ------------------------------------------------------------------------

  function send(message) {
    const socket = link.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  // The highest sequence number with every one below it here. An acknowledgement can arrive
  // before an agent's earlier message still on its way: resuming after the highest number
  // heard would skip that one.
  function unbrokenSeq() {
    let seq = 0;
    while (state.bySeq.has(seq + 1)) seq += 1;
    return seq;
  }

  function hello() {
    const message = { type: "hello", language: state.language };
    if (TOKEN) message.token = TOKEN;
    else Object.assign(message, { email: state.visitor.email, name: state.visitor.name || "" });
    if (state.conversation) {
      message.conversation = state.conversation.id;
      if (state.conversation.key) message.key = state.conversation.key;
      message.after = unbrokenSeq();
    }
    return message;
  }

  function connect() {
    clearTimeout(link.retryTimer);
    link.retryTimer = null;
    if (link.stopped || link.socket || !(TOKEN || state.visitor)) return;
    setConnection(link.attempts ? "reconnecting" : "connecting");
    let socket;
    try {
      socket = new WebSocket(SOCKET_URL);
    } catch (error) {
      console.warn("Paydesk chat cannot connect:", error);
      retryLater();
      return;
    }
    link.socket = socket;
    socket.onopen = () => {
      socket.send(JSON.stringify(hello()));
      startPings();
    };
    socket.onmessage = (event) => {
      if (socket !== link.socket) return;
      link.heard = true;
      let data;
      try {
        data = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (data && typeof data.type === "string") receive(data);
    };
    socket.onclose = (event) => {
      if (socket === link.socket) lost(event.code, event.reason);
    };
  }

  function lost(code, reason) {
    link.socket = null;
    link.ready = false;
    clearInterval(link.pingTimer);
    typingSent = false;
    showAgentTyping(null);
    for (const view of state.pending.values()) {
      clearTimeout(view.retryTimer);
      view.retryTimer = null;
    }
    if (code === CLOSE_BAD_TOKEN && !TOKEN) {
      // The email address typed was refused: ask again.
      console.warn("Paydesk chat refused the email address:", reason);
      state.visitor = null;
      local.set("visitor", null);
      ui.identifyError.textContent = t("email_invalid");
      ui.identifyError.hidden = false;
      setConnection("offline");
    } else if (code === CLOSE_BAD_TOKEN || code === CLOSE_BAD_HELLO) {
      console.warn("Paydesk chat is unavailable:", reason || code);
      link.stopped = true;
      setConnection("unavailable");
    } else if (code === CLOSE_NOT_YOURS) {
      console.warn("Paydesk chat: the stored conversation is not this customer's; starting anew");
      forgetConversation();
      retryLater();
    } else {
      if (code === CLOSE_HELLO_TIMEOUT) console.warn("Paydesk chat: the hello timed out");
      retryLater();
    }
  }

  function retryLater() {
    if (link.stopped || link.retryTimer) return;
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** link.attempts);
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2;
    link.attempts += 1;
    setConnection("reconnecting");
    link.retryTimer = setTimeout(connect, delay);
  }

  function drop() {
    // Give up on the current socket at once (it may be dead without knowing it) and reconnect.
    const socket = link.socket;
    if (!socket) return;
    link.socket = null;
    socket.onopen = socket.onmessage = socket.onclose = null;
    try {
      socket.close();
    } catch (error) {
      /* closed already */
    }
    lost(1006, "dropped");
  }

  function startPings() {
    clearInterval(link.pingTimer);
    link.heard = true;
    link.pingTimer = setInterval(() => {
      if (!link.heard) {
        drop();
        return;
      }
      link.heard = false;
      send({ type: "ping" });
    }, PING_EVERY_MS);
  }

  function reconnectNow() {
    if (link.socket || link.stopped) return;
    link.attempts = Math.min(link.attempts, 1);
    connect();
  }

  // --- Start ---------------------------------------------------------------------------------

  async function loadTexts(attempt) {
    const url = `${BASE}/chat/api/widget/?language=${encodeURIComponent(REQUESTED_LANGUAGE)}`;
    try {
      const response = await fetch(url, { credentials: "omit" });
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      return await response.json();
    } catch (error) {
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
      console.warn(`Paydesk chat could not load its texts (${error.message}); retrying`);
      await new Promise((resolve) => setTimeout(resolve, delay / 2 + (Math.random() * delay) / 2));
      return loadTexts(attempt + 1);
    }
  }

  async function start() {
    const config = await loadTexts(0);
    state.strings = config.strings || {};
    state.language = config.language || "en";
    state.direction = config.direction === "rtl" ? "rtl" : "ltr";
    state.maxBytes = config.max_attachment_bytes || state.maxBytes;
    build();
    restoreOutbox();
    render();
    const wasOpen = session.get("open");
    if (wasOpen === true || (wasOpen === null && OPEN_AT_START)) setOpen(true, false);
    connect();
    window.addEventListener("online", reconnectNow);
    // The browser knows the network is gone: the socket is dead, even if it has not noticed.
    // Dropped now, what the customer writes meanwhile waits in the outbox, marked as sending.
    window.addEventListener("offline", () => {
      if (link.socket) drop();
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") {
        reconnectNow();
        sendReceipts();
      }
    });
  }

  window.PaydeskChat = {
    open: () => setOpen(true),
    close: () => setOpen(false),
    reconnect: () => {
      if (link.socket) drop();
      else reconnectNow();
    },
    redactPans: redactPans,
  };

  const STYLE = `
.root {
  all: initial; display: block; color: #111827; text-align: start;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Vazirmatn, Tahoma,
    "DejaVu Sans", sans-serif;
  -webkit-font-smoothing: antialiased;
}
.root *, .root *::before, .root *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
button { font: inherit; color: inherit; cursor: pointer; }
button:disabled { cursor: default; }
:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
svg { width: 22px; height: 22px; fill: none; stroke: currentColor; stroke-width: 2;
  stroke-linecap: round; stroke-linejoin: round; flex: none; }
.vh { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; }
h2, h3, h4, p, ol, ul, fieldset { margin: 0; padding: 0; }
fieldset { border: 0; }

.launcher { position: relative; display: grid; place-items: center; width: 58px; height: 58px;
  margin: 0; padding: 0; border: 0; border-radius: 50%; background: #1d4ed8; color: #fff;
  box-shadow: 0 8px 24px rgba(17, 24, 39, .28); transition: transform .15s ease; }
.launcher:hover { transform: scale(1.06); background: #1e40af; }
.launcher svg { width: 28px; height: 28px; }
.when-closed, .when-open { display: grid; }
.when-open, .is-open .when-closed { display: none; }
.is-open .when-open { display: grid; }
.badge { position: absolute; top: -3px; inset-inline-end: -3px; min-width: 22px; height: 22px;
  padding: 0 6px; border: 2px solid #fff; border-radius: 11px; background: #dc2626; color: #fff;
  font-size: 12px; font-weight: 700; line-height: 18px; text-align: center; }

.teaser { position: absolute; bottom: 72px; width: 270px; display: flex; align-items: flex-start;
  gap: 4px; padding: 4px; border: 1px solid #e5e7eb; border-radius: 14px; background: #fff;
  box-shadow: 0 10px 30px rgba(17, 24, 39, .2); }
.teaser-open { flex: 1; display: grid; gap: 6px; padding: 10px; border: 0; background: none;
  text-align: start; font-size: 14px; }
.teaser-words { color: #991b1b; }
.teaser-open strong { color: #1d4ed8; }
.teaser-close { display: grid; place-items: center; width: 32px; height: 32px; padding: 0;
  border: 0; border-radius: 8px; background: none; color: #6b7280; }
.teaser-close svg { width: 16px; height: 16px; }

.panel { position: absolute; bottom: 74px; display: flex; flex-direction: column;
  width: min(384px, calc(100vw - 32px)); height: min(640px, calc(100vh - 110px));
  overflow: hidden; border: 1px solid #e5e7eb; border-radius: 18px; background: #fff;
  box-shadow: 0 16px 48px rgba(17, 24, 39, .3); }
.side-right .panel, .side-right .teaser { right: 0; }
.side-left .panel, .side-left .teaser { left: 0; }

.header { display: flex; align-items: center; gap: 10px; padding: 12px;
  padding-inline-start: 16px; background: #1d4ed8; color: #fff; }
.avatar-slot { display: contents; }
.avatar { display: grid; place-items: center; flex: none; width: 36px; height: 36px;
  border-radius: 50%; color: #fff; font-size: 14px; font-weight: 700; letter-spacing: .02em; }
.avatar-brand { background: rgba(255, 255, 255, .18); }
.avatar-brand svg { width: 20px; height: 20px; }
.heading { flex: 1; min-width: 0; }
.title { display: -webkit-box; overflow: hidden; -webkit-box-orient: vertical;
  -webkit-line-clamp: 2; font-size: 16px; font-weight: 650; line-height: 1.25;
  overflow-wrap: anywhere; }
.subtitle { display: flex; align-items: center; gap: 6px; font-size: 13px; opacity: .92; }
.dot { flex: none; width: 8px; height: 8px; border-radius: 50%; background: #9ca3af; }
.dot[data-state="online"] { background: #4ade80; }
.dot[data-state="connecting"], .dot[data-state="reconnecting"] { background: #fbbf24; }
.dot[data-state="unavailable"] { background: #f87171; }
.icon-button { display: grid; place-items: center; flex: none; width: 38px; height: 38px;
  padding: 0; border: 0; border-radius: 10px; background: transparent; }
.header .icon-button:hover { background: rgba(255, 255, 255, .16); }

.banner { padding: 8px 16px; background: #fee2e2; color: #991b1b; font-size: 14px; }
.scroll { flex: 1; overflow-y: auto; overscroll-behavior: contain; padding: 14px;
  background: #f8fafc; }

.payments { margin-block-end: 14px; padding: 12px 14px; border: 1px solid #e5e7eb;
  border-radius: 14px; background: #fff; }
.payments h3 { margin-block-end: 6px; color: #4b5563; font-size: 12px; font-weight: 650;
  letter-spacing: .04em; text-transform: uppercase; }
.payment-list { list-style: none; display: grid; gap: 6px; }
.payment { display: flex; gap: 8px; align-items: baseline; font-size: 13px; color: #4b5563; }
.payment.newest { font-size: 15px; color: #111827; }
.payment .dot { transform: translateY(-1px); background: #f59e0b; }
.payment-failed .dot { background: #dc2626; }
.payment-failed.newest .words { color: #991b1b; font-weight: 600; }
.payment-succeeded .dot { background: #16a34a; }
.alternatives { margin-block-start: 10px; padding-block-start: 10px;
  border-block-start: 1px dashed #e5e7eb; }
.alternatives h4 { font-size: 13px; font-weight: 600; color: #374151; }
.alternatives ul { list-style: none; display: flex; flex-wrap: wrap; gap: 6px;
  margin-block-start: 6px; }
.alternatives li { padding: 3px 10px; border-radius: 999px; background: #eff6ff; color: #1e40af;
  font-size: 13px; }

.notice { margin-block-end: 14px; padding: 10px 12px; border: 1px solid #fed7aa;
  border-radius: 12px; background: #fff7ed; color: #9a3412; font-size: 14px; }

.log { list-style: none; display: flex; flex-direction: column; gap: 10px; }
.msg { display: flex; align-items: flex-end; gap: 8px; }
.msg-customer { justify-content: flex-end; }
.msg-system { justify-content: center; }
.msg .avatar { width: 28px; height: 28px; font-size: 11px; }
.bubble { max-width: 82%; padding: 8px 12px; border: 1px solid #e5e7eb; border-radius: 16px;
  border-end-start-radius: 4px; background: #fff; }
.msg-customer .bubble { border-color: #1d4ed8; border-radius: 16px; border-end-end-radius: 4px;
  background: #1d4ed8; color: #fff; }
.msg-system .bubble { max-width: 92%; padding: 2px 8px; border: 0; background: none;
  color: #4b5563; font-size: 13px; text-align: center; }
.msg-pending .bubble { opacity: .8; }
.msg-failed .bubble { border-color: #fca5a5; background: #fee2e2; color: #7f1d1d; }
.msg-uploading .bubble { opacity: .7; font-style: italic; }
.who { margin-block-end: 2px; color: #4b5563; font-size: 12px; font-weight: 650; }
.bot-label { color: #1d4ed8; }
.body { white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: plaintext; }
.meta { display: flex; justify-content: flex-end; gap: 6px; margin-block-start: 2px;
  font-size: 11px; opacity: .75; }
.mark[data-state="read"] { color: #93c5fd; font-weight: 700; opacity: 1; }
.msg-customer .mark[data-state="read"] { color: #bfdbfe; }
.card-notice { margin-block-start: 6px; padding: 6px 8px; border-radius: 8px;
  background: #fef3c7; color: #92400e; font-size: 12px; }
.problem { margin-block-start: 4px; font-size: 13px; }
.link-button { margin-inline-start: 6px; padding: 0; border: 0; background: none;
  color: inherit; font-weight: 650; text-decoration: underline; }
.article { margin-block-start: 8px; padding: 10px 12px; border-inline-start: 3px solid #1d4ed8;
  border-radius: 10px; background: #f1f5f9; }
.article h4 { margin-block-end: 4px; font-size: 14px; }
.article p { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 14px; }
.attachment-image img { display: block; max-width: 100%; max-height: 220px;
  margin-block-start: 4px; border-radius: 10px; }
.attachment-file { display: inline-flex; align-items: center; gap: 6px; max-width: 100%;
  margin-block-start: 4px; padding: 6px 10px; border-radius: 8px; background: rgba(0, 0, 0, .07);
  color: inherit; text-decoration: none; }
.attachment-file svg { width: 18px; height: 18px; }
.file-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.file-size { opacity: .75; font-size: 12px; }

.typing { padding: 4px 16px 6px; background: #f8fafc; color: #4b5563; font-size: 13px;
  font-style: italic; }

.button { display: inline-flex; align-items: center; justify-content: center; margin: 0;
  padding: 9px 16px; border: 1px solid #1d4ed8; border-radius: 999px; background: #1d4ed8;
  color: #fff; font-size: 14px; font-weight: 600; }
.button:hover:not(:disabled) { background: #1e40af; }
.button.secondary { background: #fff; color: #1d4ed8; }
.button.secondary:hover:not(:disabled) { background: #eff6ff; }
.button:disabled { opacity: .5; }
.talk { margin-block-start: 10px; }

.identify { display: grid; gap: 6px; padding: 16px; border-block-start: 1px solid #e5e7eb; }
.intro { margin-block-end: 6px; color: #374151; }
.field { display: block; font-size: 13px; font-weight: 600; color: #374151; }
.identify input, .after textarea { width: 100%; margin: 0 0 6px; padding: 10px 12px;
  border: 1px solid #d1d5db; border-radius: 10px; background: #fff; color: #111827;
  font: inherit; font-size: 16px; }
.form-error { color: #b91c1c; font-size: 14px; }

.composer { border-block-start: 1px solid #e5e7eb; background: #fff; }
.composer-row { display: flex; align-items: flex-end; gap: 4px; padding: 8px 10px; }
.composer-error { padding: 8px 14px 0; color: #b91c1c; font-size: 13px; }
.composer textarea { flex: 1; min-width: 0; height: 42px; min-height: 42px; max-height: 120px;
  margin: 0; padding: 10px 14px; resize: none; border: 1px solid #d1d5db; border-radius: 21px;
  background: #fff; color: #111827; font: inherit; font-size: 16px; line-height: 1.3; }
.composer textarea:focus { border-color: #1d4ed8; outline: none;
  box-shadow: 0 0 0 3px rgba(29, 78, 216, .2); }
.attach { color: #4b5563; border-radius: 50%; }
.attach:hover:not(:disabled) { background: #f3f4f6; }
.attach:disabled { opacity: .35; }
.send { border-radius: 50%; background: #1d4ed8; color: #fff; }
.send:hover { background: #1e40af; }
[dir="rtl"] .send svg { transform: scaleX(-1); }

.after { display: grid; gap: 10px; padding: 14px 16px; border-block-start: 1px solid #e5e7eb; }
.closed { color: #4b5563; font-size: 14px; }
.rate { display: grid; gap: 6px; }
.rate legend { margin-block-end: 4px; font-weight: 650; }
.stars { display: flex; gap: 2px; }
.star { width: 40px; height: 40px; padding: 0; border: 0; border-radius: 8px; background: none;
  color: #d1d5db; font-size: 30px; line-height: 1; }
.star.on { color: #f59e0b; }
.star:hover { color: #fbbf24; }
.rated, .transcript-sent { color: #166534; font-size: 14px; }
.after-actions { display: flex; flex-wrap: wrap; gap: 8px; }

@media (max-width: 480px) {
  .panel { position: fixed; inset: 0; width: auto; height: auto; border: 0; border-radius: 0; }
  .is-open .launcher, .is-open .teaser { display: none; }
  .teaser { width: min(270px, calc(100vw - 40px)); }
}
`;

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
