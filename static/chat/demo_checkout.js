// The demo shop's "Pay": the shop's server (chat/demo_views.py) answers with the event the
// payment provider would send, signed; this page then plays the provider and delivers it to
// Paydesk's webhook endpoint. No card detail leaves the page: the card fields have no name.
"use strict";

(function () {
  const form = document.getElementById("pay-form");
  const result = document.getElementById("pay-result");
  const button = form.querySelector("button[type=submit]");

  function show(state, text) {
    result.hidden = false;
    result.dataset.state = state;
    result.textContent = text;
  }

  async function pay() {
    const answer = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
    });
    const payment = await answer.json();
    if (!answer.ok) throw new Error(payment.error || answer.statusText);
    const delivered = await fetch(payment.webhook_url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Stripe-Signature": payment.signature },
      body: payment.body,
    });
    if (!delivered.ok) throw new Error(await delivered.text());
    return payment;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    show("busy", form.dataset.textPaying);
    try {
      const payment = await pay();
      show(payment.succeeded ? "ok" : "bad", payment.message);
      result.dataset.payment = payment.payment;
    } catch (error) {
      console.error("Demo payment failed:", error);
      show("bad", form.dataset.textUnreachable);
    } finally {
      button.disabled = false;
    }
  });
})();
