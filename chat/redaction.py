"""Card numbers (PANs) never reach storage, logs, Redis or email: they are masked on the way in.

A PAN is a Luhn-valid run of 12 to 19 digits, optionally grouped with spaces, dots, dashes or
line breaks.
At most the first 6 and the last 4 digits are kept, as PCI DSS allows.
"""

import re

MASK = "•"
# Digit groups joined by up to three spaces, tabs, dots or dashes ("4242 - 4242", "4242.4242"),
# or by one line break: how people type a card number, or paste it from a card app.
_RUN = re.compile(r"\d+(?:(?:[ \t\u00a0.\-\u2013]{1,3}|\r?\n)\d+)*")
_GROUP = re.compile(r"\d+")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _masked(digits: str) -> str:
    return digits[:6] + MASK * (len(digits) - 10) + digits[-4:]


def _redact_run(run: str) -> str:
    """Mask every card number in a run of digit groups. A card number starts and ends on a
    group boundary, so "4242 4242 4242 4242 12/27" still gives up its card number."""
    groups = [(m.start(), m.end()) for m in _GROUP.finditer(run)]
    out, cursor, first = [], 0, 0
    while first < len(groups):
        for last in range(len(groups) - 1, first - 1, -1):
            start, end = groups[first][0], groups[last][1]
            digits = re.sub(r"\D", "", run[start:end])
            if 12 <= len(digits) <= 19 and luhn_valid(digits):
                out += [run[cursor:start], _masked(digits)]
                cursor, first = end, last + 1
                break
        else:
            first += 1
    return "".join(out) + run[cursor:]


def redact_pans(text: str) -> tuple[str, bool]:
    """(text with every card number masked, whether anything was masked)."""
    redacted = text
    while True:
        # The kept last four digits of one masked number can join the digits after it into
        # a new Luhn-valid run ("…5394-8727002749"): mask again until nothing is left. Each
        # pass masks at least two digits, so this ends.
        again = _RUN.sub(lambda match: _redact_run(match.group(0)), redacted)
        if again == redacted:
            return redacted, redacted != text
        redacted = again


_MASKED = re.compile(r"\d{1,6}" + MASK + r"{2,}\d{1,4}")


def has_masked_pan(text: str) -> bool:
    """Whether `text` holds a card number masked already (by the widget, before sending)."""
    return bool(_MASKED.search(text))
