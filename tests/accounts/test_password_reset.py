"""Forgotten passwords: allauth emails a link, and the link sets a new password."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse

from tests.accounts.conftest import sign_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-harbour-sextant-7"


def ask_for_a_reset_link(client, email: str = "alice@example.com") -> str:
    client.post(reverse("account_reset_password"), {"email": email})
    (message,) = mail.outbox
    return re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", message.body)[1]


def open_link(client, link: str):
    """allauth moves the key from the URL to the session, then shows the new-password form."""
    return client.get(link, follow=True)


def test_asking_for_a_reset_emails_the_agent(client, agent):
    response = client.post(reverse("account_reset_password"), {"email": "alice@example.com"})

    assert response.url == reverse("account_reset_password_done")
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject.startswith("[Paydesk] ")


def test_the_emailed_link_sets_a_new_password_that_signs_in(client, agent):
    form_page = open_link(client, ask_for_a_reset_link(client))
    assert b'name="password1"' in form_page.content

    done = client.post(
        form_page.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )

    assert done.url == reverse("account_reset_password_from_key_done")
    assert sign_in(client, "alice", password=NEW_PASSWORD).url == "/desk/"


def test_the_old_password_stops_working_after_a_reset(client, agent):
    form_page = open_link(client, ask_for_a_reset_link(client))
    client.post(
        form_page.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )

    sign_in(client, "alice")

    assert SESSION_KEY not in client.session


def test_a_reset_link_works_once(client, agent):
    link = ask_for_a_reset_link(client)
    form_page = open_link(client, link)
    client.post(
        form_page.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )

    again = open_link(client, link)

    assert b'name="password1"' not in again.content


def test_an_unknown_address_gets_no_email_and_the_page_does_not_tell(client, agent):
    response = client.post(reverse("account_reset_password"), {"email": "who@example.com"})

    assert response.url == reverse("account_reset_password_done")
    assert mail.outbox == []
