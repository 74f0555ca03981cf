"""Paydesk in English, Greek and Persian: pages, amounts, and catalogues that are complete and
compiled."""

import gettext
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from payments.decline_reasons import decline_reason_in_words
from tests.factories import AgentFactory, PaymentFactory, TicketFactory
from tickets.formatting import TIME_STRINGS, due_in_words, money
from tickets.models import EntryKind, Status
from tickets.services import ticket_update

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
TRANSLATED_LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]
CATALOGUES = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))
QUEUE = reverse("tickets:queue")


@pytest.fixture
def agent_with_a_ticket(client, db):
    agent = AgentFactory()
    payment = PaymentFactory(failure_code="insufficient_funds")
    ticket = TicketFactory(team=agent.teams.get(), payments=[payment])
    client.force_login(agent)
    return ticket


# Pages --------------------------------------------------------------------------------------


def test_the_queue_speaks_greek_to_a_greek_browser(client, agent_with_a_ticket):
    page = client.get(QUEUE, HTTP_ACCEPT_LANGUAGE="el").content.decode()
    assert '<html lang="el" dir="ltr">' in page
    assert "Τα ανοιχτά αιτήματά μου" in page  # the "My open tickets" view
    assert "Κοντά σε παραβίαση SLA" in page
    assert "Νέο" in page  # the ticket's status
    assert "My open tickets" not in page


def test_the_queue_in_persian_is_right_to_left(client, agent_with_a_ticket):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    page = client.get(QUEUE).content.decode()
    assert '<html lang="fa" dir="rtl">' in page
    assert "تیکت‌های باز من" in page
    assert "پرداخت ناموفق" in page  # the ticket's reason
    assert "My open tickets" not in page


def test_a_ticket_page_explains_the_decline_in_persian(client, agent_with_a_ticket):
    url = reverse("tickets:detail", args=[agent_with_a_ticket.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    assert '<html lang="fa" dir="rtl">' in page
    assert "موجودی کارت کافی نیست." in page
    assert "بازگشت به صف" in page


# Amounts, due times, reasons -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "$49.00"),
        ("el", "49,00\xa0$"),
        # Babel's Persian pattern: a left-to-right mark, the symbol, then the number.
        ("fa", "\u200e$\xa049.00"),
    ],
)
def test_an_amount_is_written_the_way_the_language_writes_it(language, expected):
    with translation.override(language):
        assert money(4_900, "USD") == expected


def test_a_due_time_reads_in_greek():
    now = timezone.now()
    with translation.override("el"):
        assert due_in_words(now + timedelta(hours=3), now) == ("σε 3\xa0ώρες", False)
        assert due_in_words(now - timedelta(days=1), now) == ("εκπρόθεσμο κατά 1\xa0ημέρα", True)


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_unit_of_a_duration_is_translated(language):
    for time_string in TIME_STRINGS.values():
        with translation.override("en"):
            english = time_string % {"num": 2}
        with translation.override(language):
            assert time_string % {"num": 2} != english


def test_a_decline_reason_is_a_translated_str():
    with translation.override("el"):
        reason = decline_reason_in_words("expired_card")
    assert type(reason) is str
    assert reason == "Η κάρτα έχει λήξει."


@pytest.mark.django_db
def test_timeline_text_is_stored_in_english_whatever_the_agents_language():
    ticket = TicketFactory(status=Status.NEW)
    with translation.override("el"):
        ticket_update(ticket=ticket, actor=None, status=Status.OPEN)
    entry = ticket.timeline.get(kind=EntryKind.STATUS_CHANGE)
    assert entry.body == "Status: New → Open"


# Catalogues -----------------------------------------------------------------------------------


def test_every_language_has_a_catalogue():
    for language in TRANSLATED_LANGUAGES:
        assert (LOCALE_DIR / language / "LC_MESSAGES" / "django.po").exists()


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda path: str(path.relative_to(LOCALE_DIR)))
def test_a_catalogue_is_fully_translated_with_matching_placeholders(po_path):
    catalogue = read_po(po_path.open("rb"))
    fuzzy = [message.id for message in catalogue if message.id and message.fuzzy]
    untranslated = [
        message.id
        for message in catalogue
        if message.id and not (all(message.string) if message.pluralizable else message.string)
    ]
    # Babel's checkers compare the %(name)s placeholders of msgid and msgstr.
    bad_placeholders = [(message.id, errors) for message, errors in catalogue.check()]
    assert not fuzzy, f"fuzzy in {po_path}: {fuzzy}"
    assert not untranslated, f"untranslated in {po_path}: {untranslated}"
    assert not bad_placeholders, bad_placeholders


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda path: str(path.relative_to(LOCALE_DIR)))
def test_the_compiled_catalogue_matches_its_source(po_path):
    """Compare what the .mo file says with what the .po file says, message by message: bytes
    differ between gettext versions and checkout times say nothing, but this fails whenever
    someone edits a .po file and forgets `manage.py compilemessages`."""
    with po_path.with_suffix(".mo").open("rb") as mo_file:
        compiled = dict(gettext.GNUTranslations(mo_file)._catalog)
    compiled.pop("", None)  # the header
    expected = {}
    for message in read_po(po_path.open("rb")):
        if not message.id:
            continue
        prefix = f"{message.context}\x04" if message.context else ""
        if message.pluralizable:
            for index, string in enumerate(message.string):
                expected[(prefix + message.id[0], index)] = string
        else:
            expected[prefix + message.id] = message.string
    assert compiled == expected


def test_makemessages_finds_no_new_message(tmp_path):
    """Every marked string is in the catalogues: makemessages, run on a copy of the project,
    adds no msgid."""
    assert shutil.which("xgettext"), "GNU gettext is missing: `make tools` installs it"
    root = Path(settings.BASE_DIR)
    skip = shutil.ignore_patterns(
        ".venv", ".git", "node_modules", "staticfiles", "*.sqlite3*", "__pycache__", "*.mo"
    )
    shutil.copytree(root, tmp_path / "project", ignore=skip)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--ignore=node_modules",
         *(f"--locale={language}" for language in TRANSLATED_LANGUAGES)],
        cwd=tmp_path / "project", check=True, capture_output=True,
    )  # fmt: skip
    for po_path in CATALOGUES:
        fresh = tmp_path / "project" / po_path.relative_to(root)
        ids = {(m.context, str(m.id)) for m in read_po(po_path.open("rb")) if m.id}
        fresh_ids = {(m.context, str(m.id)) for m in read_po(fresh.open("rb")) if m.id}
        assert fresh_ids - ids == set(), f"run makemessages: new messages for {po_path}"
