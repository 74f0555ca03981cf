"""Amounts are kept in minor units (cents); providers and people speak in major units."""

from decimal import Decimal

# ISO 4217 currencies whose minor unit is not 1/100.
_EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0, "HUF": 2, "TWD": 2,
    "BHD": 3, "JOD": 3, "KWD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def to_minor(value: str | Decimal, currency: str) -> int:
    """'185.10' USD -> 18510. PayPal sends amounts as decimal strings in major units."""
    return int((Decimal(value) * (10 ** exponent(currency))).to_integral_value())


def format_amount(amount_minor: int | None, currency: str | None) -> str:
    if amount_minor is None or not currency:
        return ""
    places = exponent(currency)
    major = Decimal(amount_minor) / (10**places)
    return f"{major:,.{places}f} {currency.upper()}"
