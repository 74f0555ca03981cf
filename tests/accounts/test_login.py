"""Signing in and out with allauth: username or email and a password; no public sign-up."""

import datetime

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from payments.management.commands.load_demo_data import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    AGENT_PASSWORD,
    AGENT_USERNAME,
)
from tests.accounts.conftest import sign_in
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db

QUEUE = "/desk/"


def test_the_desk_sends_a_visitor_to_the_sign_in_page(client):
    response = client.get(QUEUE)

    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next={QUEUE}"


def test_the_sign_in_page_has_labelled_fields_and_no_sign_up_invitation(client):
    page = client.get(reverse("account_login")).content.decode()

    assert '<label for="id_login">Username or email' in page
    assert '<label for="id_password">Password' in page
    assert reverse("account_reset_password") in page
    assert reverse("account_signup") not in page
    assert "<title>Sign in · Paydesk</title>" in page


@pytest.mark.parametrize("login", ["alice", "alice@example.com", "ALICE@example.com"])
def test_an_agent_signs_in_with_username_or_email_and_lands_on_the_queue(client, agent, login):
    response = sign_in(client, login)

    assert response.status_code == 302
    assert response.url == QUEUE
    assert client.session[SESSION_KEY] == str(agent.pk)


def test_signing_in_goes_back_to_the_page_that_asked_for_it(client, agent):
    response = sign_in(client, "alice", next="/desk/?view=mine")

    assert response.url == "/desk/?view=mine"


def test_a_wrong_password_shows_an_error_and_signs_nobody_in(client, agent):
    response = sign_in(client, "alice", password="not-the-password")

    assert response.status_code == 200
    assert "The username and/or password you specified are not correct." in (
        response.content.decode()
    )
    assert SESSION_KEY not in client.session


def test_an_inactive_user_cannot_sign_in(client, agent):
    agent.is_active = False
    agent.save()

    sign_in(client, "alice")

    assert SESSION_KEY not in client.session


def test_sign_up_is_closed(client):
    page = client.get(reverse("account_signup"))
    client.post(
        reverse("account_signup"),
        {"username": "mallory", "email": "m@example.com", "password1": "x" * 20},
    )

    assert "Paydesk accounts are created by admins." in page.content.decode()
    assert not get_user_model().objects.filter(username="mallory").exists()


def test_signing_out_takes_a_post(client, agent):
    sign_in(client, "alice")

    client.get(reverse("account_logout"))
    assert SESSION_KEY in client.session

    response = client.post(reverse("account_logout"))
    assert response.url == reverse("account_login")
    assert SESSION_KEY not in client.session


def test_a_session_lasts_session_cookie_age_at_most(client, agent, settings):
    sign_in(client, "alice")

    session = Session.objects.get()
    expected = timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert abs(session.expire_date - expected) < datetime.timedelta(minutes=1)


def test_an_expired_session_is_sent_back_to_the_sign_in_page(client, agent):
    sign_in(client, "alice")
    assert client.get(QUEUE).status_code == 200
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))

    response = client.get(QUEUE)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_a_cleared_session_is_sent_back_to_the_sign_in_page(client, agent):
    sign_in(client, "alice")
    client.cookies.clear()

    response = client.get(QUEUE)

    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize(
    ("username", "password", "is_staff"),
    [(ADMIN_USERNAME, ADMIN_PASSWORD, True), (AGENT_USERNAME, AGENT_PASSWORD, False)],
)
def test_users_made_like_the_demo_users_sign_in_through_the_form(
    client, username, password, is_staff
):
    # load_demo_data makes them with set_password() alone: no allauth email record.
    user = get_user_model().objects.create(
        username=username, email=f"{username}@example.com", is_staff=is_staff
    )
    user.set_password(password)
    user.save()
    TeamFactory().members.add(user)

    response = sign_in(client, username, password=password)

    assert response.url == QUEUE
    assert client.get(QUEUE).status_code == 200
