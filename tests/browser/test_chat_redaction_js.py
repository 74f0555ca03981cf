"""Card numbers are masked in the browser before a message is shown, kept or sent: the widget's
copy of the rule and static/chat/redaction.js (the inbox's) agree with chat/redaction.py on the
same inputs, and a card number typed while offline never reaches localStorage or the socket,
nor an agent's sessionStorage."""

import json
import re
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat.models import ChatMessage, Conversation
from chat.presence import agent_status
from chat.redaction import MASK, luhn_valid, redact_pans
from tests.browser.conftest import log_in
from tests.browser.test_chat_widget import WIDGET, open_checkout, open_widget, stored_bodies, write
from tests.conftest import wait_until
from tickets.services import default_team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STATIC = Path(__file__).resolve().parents[2] / "static"
RAW_SPACED = "4242 4242 4242 4242"
RAW = "4242424242424242"
TYPED = f"my card {RAW_SPACED} exp 12/27"
MASKED = f"my card 424242{MASK * 6}4242 exp 12/27"

# The cases of tests/chat/test_redaction.py, and digits of other scripts (Python's \d).
CASES = [
    "my card is 4242 4242 4242 4242, please retry",
    "5555-5555-5555-4444",
    "378282246310005",
    "order 4242424242424241",
    "call +30 210 123 4567 8901",
    "id 1234567890123",
    "amount 185.10 USD on 2024-08-02, ref 42",
    "4242 4242 4242 4242 12 27 cvc 123",
    "old 4242424242424242 new 5555-5555-5555-4444",
    "303155875394-8727002749",
    TYPED,
    "4242  4242 4242 4242",
    "4242--4242-4242-4242",
    "4242 - 4242 - 4242 - 4242",
    "4242.4242.4242.4242",
    "4242\t4242 4242 4242",
    "4242\n4242\n4242\n4242",
    "4242    4242 4242 4242",  # four spaces: too far apart to be one number
    "4242\n\n4242 4242 4242",
    "۴۲۴۲ ۴۲۴۲ ۴۲۴۲ ۴۲۴۲",  # Persian digits
    "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢",  # Arabic-Indic digits
    "４２４２４２４２４２４２４２４２",  # fullwidth digits
    "𝟒𝟐𝟒𝟐𝟒𝟐𝟒𝟐𝟒𝟐𝟒𝟐𝟒𝟐𝟒𝟐",  # mathematical bold digits, outside the BMP
    "",
    "no digits at all — καμία κάρτα — بدون کارت",
]
DIGITS = "0123456789" + "۰۱۲۳۴۵۶۷۸۹" + "٠١٢٣٤٥٦٧٨٩" + "０１２３４５６７８９" + "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗"


def both_in_the_browser(page, texts: list[str]) -> dict[str, list[list]]:
    """What the widget's copy and redaction.js make of each text: [text, masked] pairs."""
    return page.evaluate(
        """(texts) => {
            const run = (redact) => texts.map((text) => {
                const result = redact(text);
                return [result.text, result.masked];
            });
            return {
                widget: run(window.PaydeskChat.redactPans),
                inbox: run(window.PaydeskRedaction.redactPans),
            };
        }""",
        texts,
    )


def in_python(texts: list[str]) -> list[list]:
    return [list(redact_pans(text)) for text in texts]


@pytest.fixture
def checkout(settings):
    settings.DEMO_CHECKOUT = True
    settings.CHAT_IDENTITY_SECRET = "chat-secret-for-browser-tests"


@pytest.fixture
def both(checkout, new_page, server):
    """A page with both implementations loaded: the checkout's widget and redaction.js."""
    page = new_page()
    open_checkout(page)
    page.add_script_tag(url=server.url + "/static/chat/redaction.js")
    page.wait_for_function("() => window.PaydeskRedaction && window.PaydeskChat")
    return page


def test_the_widget_holds_the_same_rule_as_redaction_js():
    def rule(path: Path) -> str:
        text = path.read_text(encoding="utf-8")
        return re.search(r"// <redact-pans>\n.*// </redact-pans>\n", text, re.DOTALL).group(0)

    assert rule(STATIC / "chat" / "widget.js") == rule(STATIC / "chat" / "redaction.js")


def test_the_browser_masks_the_cases_the_server_masks(both):
    masked = both_in_the_browser(both, CASES)

    assert masked["widget"] == in_python(CASES)
    assert masked["inbox"] == in_python(CASES)
    assert masked["widget"][CASES.index(TYPED)] == [MASKED, True]
    assert masked["widget"][CASES.index("۴۲۴۲ ۴۲۴۲ ۴۲۴۲ ۴۲۴۲")] == [
        f"۴۲۴۲۴۲{MASK * 6}۴۲۴۲",
        True,
    ]


def luhn_completed(prefix: str) -> str:
    return next(prefix + check for check in "0123456789" if luhn_valid(prefix + check))


@st.composite
def card_numbers(draw) -> str:
    """A Luhn-valid number of 12 to 19 digits, in any script, cut into groups joined by
    separators, some of which (two spaces, two dashes) a card number may not have."""
    prefix = draw(st.lists(st.sampled_from("0123456789"), min_size=11, max_size=18))
    zero = draw(st.sampled_from(range(0, len(DIGITS), 10)))
    pan = "".join(DIGITS[zero + int(digit)] for digit in luhn_completed("".join(prefix)))
    cuts = draw(st.lists(st.integers(1, len(pan) - 1), max_size=4, unique=True).map(sorted))
    bounds = [0, *cuts, len(pan)]
    groups = [pan[start:end] for start, end in pairwise(bounds)]
    separators = draw(
        st.lists(
            st.sampled_from([" ", "-", "  ", "--", ".", "\t", "\n", " - ", "    ", "\n\n"]),
            min_size=len(cuts),
            max_size=len(cuts),
        )
    )
    joined = (sep + group for sep, group in zip(separators, groups[1:], strict=True))
    return groups[0] + "".join(joined)


def messages():
    words = st.text(alphabet=DIGITS + " -/.x•aβب\t\n", max_size=60)
    return st.lists(st.one_of(words, card_numbers()), min_size=1, max_size=6).map(" ".join)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(messages(), min_size=1, max_size=50))
def test_the_browser_and_the_server_agree_on_any_text(both, texts):
    masked = both_in_the_browser(both, texts)

    assert masked["widget"] == in_python(texts)
    assert masked["inbox"] == in_python(texts)


def spy_on_storage_and_socket(page) -> None:
    """Keep, in the page, every value written to storage and every frame sent on a socket."""
    page.evaluate(
        """() => {
            window.written = [];
            const setItem = Storage.prototype.setItem;
            Storage.prototype.setItem = function (key, value) {
                window.written.push(String(key) + "=" + String(value));
                return setItem.call(this, key, value);
            };
            const send = WebSocket.prototype.send;
            WebSocket.prototype.send = function (data) {
                window.written.push("socket:" + String(data));
                return send.call(this, data);
            };
        }"""
    )


def assert_no_card_number(written: list[str]) -> None:
    for value in written:
        assert RAW not in re.sub(r"[ -]", "", value), value


def test_a_card_number_typed_offline_is_masked_before_it_is_shown_kept_or_sent(checkout, new_page):
    page = new_page()
    widget = open_checkout(page)
    open_widget(widget)
    write(widget, "Hello")
    widget.locator(".msg-customer .mark[data-state=sent]").wait_for()
    spy_on_storage_and_socket(page)

    page.context.set_offline(True)
    page.evaluate("window.PaydeskChat.reconnect()")
    page.locator(f"{WIDGET}[data-connection=reconnecting]").wait_for(state="attached")
    write(widget, TYPED)
    pending = widget.locator(".msg-pending")
    pending.locator(".card-notice", has_text="We hid your card number").wait_for()
    assert pending.locator(".body").inner_text() == MASKED
    outbox = page.evaluate(
        """() => Object.keys(localStorage).filter((key) => key.includes(":outbox:"))
            .map((key) => JSON.parse(localStorage.getItem(key)))"""
    )
    assert [[item["body"] for item in items] for items in outbox] == [[MASKED]]
    assert RAW_SPACED not in page.evaluate("() => JSON.stringify(localStorage)")

    # Back online: it is sent masked, and the server has nothing left to mask.
    page.context.set_offline(False)
    sent = widget.locator(".msg-customer", has_text=MASKED)
    sent.locator(".mark[data-state=sent]").wait_for()
    assert wait_until(lambda: stored_bodies() == ["Hello", MASKED], timeout=10)
    written = page.evaluate("window.written")
    assert any(":outbox:" in value for value in written)
    assert any(value.startswith("socket:") and MASKED in value for value in written)
    assert_no_card_number(written)
    assert page.js_errors == []


def test_a_message_an_older_widget_kept_as_typed_is_masked_before_it_is_shown_or_sent(
    checkout, new_page
):
    page = new_page()
    # What an earlier version of the widget left in localStorage: the text as typed.
    page.add_init_script(
        """(() => {
            const key = "paydesk-chat:" + location.origin + ":outbox:new";
            if (!sessionStorage.getItem("seeded")) {
                sessionStorage.setItem("seeded", "1");
                localStorage.setItem(key, JSON.stringify(
                    [{client_id: "kept-1", body: TYPED, attachment: null}]
                ));
            }
        })()""".replace("TYPED", json.dumps(TYPED))
    )
    page.add_init_script(
        """window.written = [];
        const send = WebSocket.prototype.send;
        WebSocket.prototype.send = function (data) {
            window.written.push("socket:" + String(data));
            return send.call(this, data);
        };"""
    )
    widget = open_checkout(page)
    open_widget(widget)
    sent = widget.locator(".msg-customer", has_text=MASKED)
    sent.locator(".mark[data-state=sent]").wait_for()
    assert sent.locator(".card-notice").is_visible()
    stored = ChatMessage.objects.filter(sender="customer").values_list("client_id", "body")
    assert list(stored) == [("kept-1", MASKED)]
    assert_no_card_number(page.evaluate("window.written"))
    assert RAW_SPACED not in page.evaluate("() => JSON.stringify(localStorage)")
    assert page.js_errors == []


def test_a_card_number_an_agent_types_never_reaches_session_storage_or_the_customer(
    checkout, new_page, make_agent
):
    sam = make_agent("sam", default_team(), first_name="Sam", last_name="Rivera")
    agent = new_page()
    log_in(agent, "sam")
    agent.goto("/desk/chats/")
    agent.locator("#chat-presence[data-state=online]").wait_for()
    wait_until(lambda: agent_status(sam) == "online", timeout=10)

    customer = new_page()
    widget = open_checkout(customer)
    open_widget(widget)
    write(widget, "Can you check my order?")
    widget.locator(".msg-customer .mark[data-state=sent]").wait_for()
    conversation = Conversation.objects.get()
    agent.locator(f'[data-open-conversation="{conversation.pk}"]').click()
    panel = agent.locator(f"#chat-panel-{conversation.pk}")
    panel.get_by_role("button", name="Accept").click()
    panel.locator("[data-field=assignee]", has_text="You have this chat.").wait_for()
    spy_on_storage_and_socket(agent)

    # A draft with a card number, kept across a reload: masked in storage, and so once reloaded.
    composer = panel.get_by_label("Message to Ana Souza")
    composer.fill(TYPED)
    written = agent.evaluate("window.written")
    assert any(".draft." in value and MASKED in value for value in written)
    assert_no_card_number(written)
    agent.reload()
    agent.locator("#chat-presence[data-state=online]").wait_for()
    assert composer.input_value() == MASKED
    spy_on_storage_and_socket(agent)

    # Written while the connection is down: masked in the outbox, then sent masked.
    agent.evaluate("window.paydeskChat.drop()")
    composer.fill("Paid with " + RAW)
    composer.press("Enter")
    expected = f"Paid with 424242{MASK * 6}4242"
    panel.locator(".chat-msg.is-pending", has_text=expected).wait_for()
    agent.locator("#chat-notice", has_text="The card number in your message was masked").wait_for()
    widget.locator(".msg-agent", has_text=expected).wait_for()
    # The server masked nothing, but knows the message carries a masked card number.
    assert list(
        ChatMessage.objects.filter(sender="agent").values_list("body", "card_number_masked")
    ) == [(expected, True)]
    written = agent.evaluate("window.written")
    assert any(".outbox=" in value and expected in value for value in written)
    assert_no_card_number(written)
    assert RAW not in agent.evaluate("() => JSON.stringify(sessionStorage)")
    assert agent.js_errors == []
    assert customer.js_errors == []
