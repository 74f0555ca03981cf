"""Provider failure codes in words an agent (and a customer) understands."""

DECLINE_REASONS = {
    # Stripe decline codes and failure codes
    "insufficient_funds": "The card has insufficient funds.",
    "card_declined": "The card was declined by the bank.",
    "generic_decline": "The bank declined the card without giving a reason.",
    "do_not_honor": "The bank declined the card without giving a reason.",
    "expired_card": "The card has expired.",
    "incorrect_cvc": "The security code (CVC) was wrong.",
    "incorrect_number": "The card number was wrong.",
    "incorrect_zip": "The postal code did not match the card.",
    "processing_error": "The bank had a processing error; trying again may work.",
    "lost_card": "The card was reported lost.",
    "stolen_card": "The card was reported stolen.",
    "fraudulent": "The bank suspected fraud.",
    "card_velocity_exceeded": "The card's spending limit was reached.",
    "withdrawal_count_limit_exceeded": "The card's spending limit was reached.",
    "authentication_required": "The bank asked for 3-D Secure, which was not completed.",
    "card_not_supported": "The card does not support this kind of purchase.",
    "currency_not_supported": "The card does not support this currency.",
    "pickup_card": "The bank asked to keep the card (it may be lost or stolen).",
    "try_again_later": "The bank asked to try again later.",
    "payment_intent_authentication_failure": "The customer did not complete 3-D Secure.",
    # PayPal statuses and reasons
    "DECLINED": "PayPal declined the payment.",
    "DENIED": "PayPal denied the payment.",
    "INSTRUMENT_DECLINED": "The payer's funding source was declined.",
    "PAYER_CANNOT_PAY": "The payer cannot pay with the chosen funding source.",
    "TRANSACTION_REFUSED": "PayPal refused the transaction.",
    "UNILATERAL": "The payee has no confirmed PayPal account yet.",
    "PAYMENT_DENIED": "PayPal denied the subscription payment.",
}


def decline_reason_in_words(code: str, provider_message: str = "") -> str:
    """The best plain-words reason we have: our text for a known code, else the provider's."""
    return DECLINE_REASONS.get(code) or provider_message or (code.replace("_", " ") if code else "")
