"""A customer's payment in plain words, for the chat widget (in the active language)."""

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from payments.decline_reasons import decline_reason_in_words
from payments.models import Payment, PaymentStatus
from tickets.formatting import money

ALTERNATIVES = {
    "card": gettext_lazy("Another card"),
    "paypal": gettext_lazy("PayPal"),
    "apple_pay": gettext_lazy("Apple Pay"),
    "google_pay": gettext_lazy("Google Pay"),
    "bank_transfer": gettext_lazy("Bank transfer"),
}


def payment_in_words(payment: Payment) -> str:
    amount = money(payment.amount_minor, payment.currency)
    status = payment.status
    if status == PaymentStatus.FAILED:
        reason = decline_reason_in_words(payment.failure_code, payment.failure_message)
        if reason:
            return _("Your payment of %(amount)s did not go through: %(reason)s") % {
                "amount": amount,
                "reason": reason,
            }
        return _("Your payment of %(amount)s did not go through.") % {"amount": amount}
    words = {
        PaymentStatus.PENDING: _("Your payment of %(amount)s is being processed."),
        PaymentStatus.REQUIRES_ACTION: _(
            "Your payment of %(amount)s is waiting for you to confirm it with your bank."
        ),
        PaymentStatus.SUCCEEDED: _("Your payment of %(amount)s went through."),
        PaymentStatus.CANCELED: _("Your payment of %(amount)s was canceled."),
        PaymentStatus.REFUNDED: _("Your payment of %(amount)s was refunded."),
        PaymentStatus.PARTIALLY_REFUNDED: _("Your payment of %(amount)s was partly refunded."),
        PaymentStatus.DISPUTED: _("Your payment of %(amount)s is disputed with your bank."),
    }
    return words.get(status, _("Your payment of %(amount)s is being processed.")) % {
        "amount": amount
    }


def payment_payload(payment: Payment) -> dict:
    return {
        "id": payment.provider_payment_id,
        "provider": payment.get_provider_display(),
        "amount": money(payment.amount_minor, payment.currency),
        "status": payment.status,
        "failed": payment.status == PaymentStatus.FAILED,
        "words": payment_in_words(payment),
    }


def alternatives() -> list[dict[str, str]]:
    """The other ways to pay the merchant offers (CHAT_PAYMENT_ALTERNATIVES), named."""
    return [
        {"code": code, "label": str(ALTERNATIVES.get(code, code.replace("_", " ").title()))}
        for code in settings.CHAT_PAYMENT_ALTERNATIVES
    ]
