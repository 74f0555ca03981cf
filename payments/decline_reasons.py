"""Provider failure codes in words an agent (and a customer) understands."""

from django.utils.translation import gettext_lazy as _

DECLINE_REASONS = {
    # Stripe decline codes and failure codes
    "insufficient_funds": _("The card has insufficient funds."),
    "card_declined": _("The card was declined by the bank."),
    "generic_decline": _("The bank declined the card without giving a reason."),
    "do_not_honor": _("The bank declined the card without giving a reason."),
    "expired_card": _("The card has expired."),
    "incorrect_cvc": _("The security code (CVC) was wrong."),
    "incorrect_number": _("The card number was wrong."),
    "incorrect_zip": _("The postal code did not match the card."),
    "processing_error": _("The bank had a processing error; trying again may work."),
    "lost_card": _("The card was reported lost."),
    "stolen_card": _("The card was reported stolen."),
    "fraudulent": _("The bank suspected fraud."),
    "card_velocity_exceeded": _("The card's spending limit was reached."),
    "withdrawal_count_limit_exceeded": _("The card's spending limit was reached."),
    "authentication_required": _("The bank asked for 3-D Secure, which was not completed."),
    "card_not_supported": _("The card does not support this kind of purchase."),
    "currency_not_supported": _("The card does not support this currency."),
    "pickup_card": _("The bank asked to keep the card (it may be lost or stolen)."),
    "try_again_later": _("The bank asked to try again later."),
    "payment_intent_authentication_failure": _("The customer did not complete 3-D Secure."),
    # PayPal statuses and reasons
    "DECLINED": _("PayPal declined the payment."),
    "DENIED": _("PayPal denied the payment."),
    "INSTRUMENT_DECLINED": _("The payer's funding source was declined."),
    "PAYER_CANNOT_PAY": _("The payer cannot pay with the chosen funding source."),
    "TRANSACTION_REFUSED": _("PayPal refused the transaction."),
    "UNILATERAL": _("The payee has no confirmed PayPal account yet."),
    "PAYMENT_DENIED": _("PayPal denied the subscription payment."),
}


def decline_reason_in_words(code: str, provider_message: str = "") -> str:
    """The best plain-words reason we have: our text for a known code, else the provider's."""
    if code in DECLINE_REASONS:
        return str(DECLINE_REASONS[code])
    return provider_message or (code.replace("_", " ") if code else "")
