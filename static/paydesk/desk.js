// Paydesk workspace: keyboard shortcuts, canned responses, and refreshing what live.js
// reports as changed. Plain JavaScript on top of htmx; the pages work without it.
(function () {
  "use strict";

  var body = document.body;
  var page = body.dataset.page;

  function typingInField(event) {
    var target = event.target;
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  // Queue -------------------------------------------------------------------------------------
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll(".ticket-row"));
  }

  function selectedRow() {
    return document.querySelector(".ticket-row.is-selected");
  }

  function selectRow(row) {
    rows().forEach(function (other) {
      other.classList.remove("is-selected");
      other.removeAttribute("aria-selected");
    });
    if (!row) return;
    row.classList.add("is-selected");
    row.setAttribute("aria-selected", "true");
    var link = row.querySelector("a");
    if (link) link.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function moveSelection(step) {
    var all = rows();
    if (!all.length) return;
    var index = all.indexOf(selectedRow());
    var next = index === -1 ? 0 : Math.min(all.length - 1, Math.max(0, index + step));
    selectRow(all[next]);
  }

  function checkedTicketIds() {
    return Array.prototype.map.call(
      document.querySelectorAll('#bulk-form input[name="tickets"]:checked'),
      function (box) { return box.value; }
    );
  }

  var queueRefresh = null;
  function refreshQueue() {
    // Bursts of changes (a webhook touches several tickets) become one request.
    clearTimeout(queueRefresh);
    queueRefresh = setTimeout(function () {
      var keep = { checked: checkedTicketIds(), selected: (selectedRow() || {}).dataset };
      var selectedId = keep.selected ? keep.selected.ticketId : null;
      htmx.ajax("GET", window.location.pathname + window.location.search, {
        target: "#queue-results",
        swap: "innerHTML",
      }).then(function () {
        keep.checked.forEach(function (id) {
          var box = document.querySelector('#bulk-form input[name="tickets"][value="' + id + '"]');
          if (box) box.checked = true;
        });
        if (selectedId) {
          var row = document.querySelector('.ticket-row[data-ticket-id="' + selectedId + '"]');
          if (row) {
            row.classList.add("is-selected");
            row.setAttribute("aria-selected", "true");
          }
        }
      });
    }, 300);
  }

  // Ticket ------------------------------------------------------------------------------------
  var ticketRefresh = null;
  function refreshTicket() {
    clearTimeout(ticketRefresh);
    ticketRefresh = setTimeout(function () {
      // Only the timeline and the header: what the agent is typing stays where it is.
      htmx.ajax("GET", body.dataset.liveUrl, { target: "#timeline", swap: "outerHTML" });
    }, 200);
  }

  function focusField(selector) {
    var field = document.querySelector(selector);
    if (!field) return;
    var details = field.closest("details");
    if (details) details.open = true;
    field.scrollIntoView({ block: "center" });
    field.focus();
  }

  function insertAtCursor(textarea, text) {
    var start = textarea.selectionStart || 0;
    var end = textarea.selectionEnd || 0;
    var before = textarea.value.slice(0, start);
    var after = textarea.value.slice(end);
    textarea.value = before + text + after;
    var caret = before.length + text.length;
    textarea.setSelectionRange(caret, caret);
    textarea.focus();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var insert = event.target.closest(".canned-insert");
    if (insert) {
      var reply = document.getElementById("id_reply_body");
      if (reply) insertAtCursor(reply, insert.dataset.text);
      var details = insert.closest("details");
      if (details) details.open = false;
      return;
    }
    if (event.target.id === "select-all") {
      document.querySelectorAll('#bulk-form input[name="tickets"]').forEach(function (box) {
        box.checked = event.target.checked;
      });
      return;
    }
    var row = event.target.closest(".ticket-row");
    if (row && !event.target.closest("a, input, button, label")) selectRow(row);
  });

  // Keyboard ----------------------------------------------------------------------------------
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typingInField(event)) return;
    var dialog = document.getElementById("shortcuts");
    if (event.key === "?") {
      event.preventDefault();
      if (dialog && !dialog.open) dialog.showModal();
      return;
    }
    if (page === "queue") {
      if (event.key === "j") { event.preventDefault(); moveSelection(1); }
      else if (event.key === "k") { event.preventDefault(); moveSelection(-1); }
      else if (event.key === "Enter" && selectedRow() && event.target.tagName !== "A") {
        event.preventDefault();
        window.location.href = selectedRow().dataset.url;
      }
    } else if (page === "ticket") {
      if (event.key === "r") { event.preventDefault(); focusField("#id_reply_body"); }
      else if (event.key === "n") { event.preventDefault(); focusField("#id_note_body"); }
      else if (event.key === "s") { event.preventDefault(); focusField("#id_status"); }
      else if (event.key === "a") {
        event.preventDefault();
        var assign = document.querySelector("#assign-to-me-form");
        if (assign) assign.requestSubmit();
      }
    }
  });

  if (page === "queue") body.addEventListener("paydesk:queue-changed", refreshQueue);
  if (page === "ticket") body.addEventListener("paydesk:ticket-changed", refreshTicket);
})();
