import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat.redaction import MASK, has_masked_pan, luhn_valid, redact_pans


def _luhn_complete(prefix: str) -> str:
    for check in "0123456789":
        if luhn_valid(prefix + check):
            return prefix + check
    raise AssertionError("unreachable")


def test_a_card_number_keeps_only_its_first_six_and_last_four_digits():
    text, changed = redact_pans("my card is 4242 4242 4242 4242, please retry")

    assert changed
    assert text == f"my card is 424242{MASK * 6}4242, please retry"


def test_dashes_and_plain_digits_are_recognised():
    assert redact_pans("5555-5555-5555-4444")[0] == f"555555{MASK * 6}4444"
    assert redact_pans("378282246310005")[0] == f"378282{MASK * 5}0005"


def test_numbers_that_fail_the_luhn_check_are_left_alone():
    for text in ("order 4242424242424241", "call +30 210 123 4567 8901", "id 1234567890123"):
        assert redact_pans(text) == (text, False)


def test_short_digit_runs_and_dates_are_left_alone():
    text = "amount 185.10 USD on 2024-08-02, ref 42"
    assert redact_pans(text) == (text, False)


@given(st.integers(min_value=11, max_value=18), st.randoms(use_true_random=False))
def test_every_luhn_valid_number_of_12_to_19_digits_is_masked(length, rnd: random.Random):
    pan = _luhn_complete("".join(rnd.choice("0123456789") for _ in range(length)))

    text, changed = redact_pans(f"card {pan} thanks")

    assert changed
    assert pan not in text
    assert text == f"card {pan[:6]}{MASK * (len(pan) - 10)}{pan[-4:]} thanks"


@given(st.text(alphabet="0123456789 -x", max_size=80))
def test_redaction_never_leaves_a_luhn_valid_number_behind(text):
    redacted, _ = redact_pans(text)
    assert redact_pans(redacted) == (redacted, False)


def test_a_card_number_followed_by_more_digits_is_still_masked():
    text, changed = redact_pans("4242 4242 4242 4242 12 27 cvc 123")

    assert changed
    assert text == f"424242{MASK * 6}4242 12 27 cvc 123"


def test_two_card_numbers_in_one_message_are_both_masked():
    text, _ = redact_pans("old 4242424242424242 new 5555-5555-5555-4444")

    assert text == f"old 424242{MASK * 6}4242 new 555555{MASK * 6}4444"


def test_digits_next_to_a_masked_number_cannot_form_a_new_card_number():
    # The kept "5394" and the digits after the dash are Luhn-valid together once masked.
    text, changed = redact_pans("303155875394-8727002749")

    assert changed
    assert redact_pans(text) == (text, False)
    assert "8727002749" not in text


@pytest.mark.parametrize(
    "typed",
    [
        "4242  4242  4242  4242",
        "4242 - 4242 - 4242 - 4242",
        "4242.4242.4242.4242",
        "4242\t4242 4242 4242",
        "4242\n4242\n4242\n4242",
    ],
)
def test_card_numbers_typed_with_other_separators_are_masked(typed):
    text, masked = redact_pans(f"card: {typed} thanks")

    assert masked
    assert text == "card: 424242••••••4242 thanks"


def test_an_already_masked_card_number_is_recognised():
    assert has_masked_pan("card 424242••••••4242")
    assert not has_masked_pan("a list • of • things 42")
