"""The profile page: name, email, time zone and language, applied to every page after."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.forms import ERROR_EMAIL_TAKEN
from accounts.models import Profile
from accounts.selectors import preferences_for, users_with_account_state
from accounts.services import profile_for
from tests.accounts.conftest import confirm_password, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROFILE = reverse("accounts:profile")


def form_data(**changes) -> dict[str, str]:
    data = {
        "first_name": "Alice",
        "last_name": "Liddell",
        "email": "alice@example.com",
        "time_zone": "UTC",
        "language": "",
    }
    return data | changes


@pytest.fixture
def alice_client(client, agent):
    client.force_login(agent)
    return client


def test_the_profile_page_needs_a_signed_in_user(client):
    assert client.get(PROFILE).url == f"{reverse('account_login')}?next={PROFILE}"


def test_the_page_shows_the_defaults_without_creating_a_profile(alice_client, settings):
    page = alice_client.get(PROFILE).content.decode()

    assert f'<option value="{settings.TIME_ZONE}" selected>' in page
    assert not Profile.objects.exists()


def test_the_page_links_to_two_factor_and_password_settings(alice_client):
    page = alice_client.get(PROFILE).content.decode()

    assert reverse("mfa_index") in page
    assert reverse("account_change_password") in page


def test_saving_the_profile_stores_name_time_zone_and_language(alice_client, agent):
    response = alice_client.post(
        PROFILE, form_data(first_name="Alicia", time_zone="Asia/Kolkata", language="el")
    )

    assert response.url == PROFILE
    agent.refresh_from_db()
    assert agent.first_name == "Alicia"
    assert (agent.profile.time_zone, agent.profile.language) == ("Asia/Kolkata", "el")


def test_changing_the_email_asks_for_the_password_first(alice_client, agent):
    response = alice_client.post(PROFILE, form_data(email="alicia@example.com"))

    assert response.url.startswith(reverse("account_reauthenticate"))
    agent.refresh_from_db()
    assert agent.email == "alice@example.com"


def test_after_the_password_the_new_email_is_saved(client, agent):
    sign_in(client, "alice")
    asked = client.post(PROFILE, form_data(email="alicia@example.com"))

    response = confirm_password(client, asked.url)

    assert response.url == PROFILE
    agent.refresh_from_db()
    assert agent.email == "alicia@example.com"


def test_pages_show_times_in_the_chosen_time_zone(alice_client):
    alice_client.post(PROFILE, form_data(time_zone="Asia/Kolkata"))

    page = alice_client.get(PROFILE).content.decode()

    assert "Times are shown in Asia/Kolkata" in page


def test_without_a_profile_times_are_in_the_site_time_zone(alice_client, settings):
    settings.TIME_ZONE = "Europe/Athens"

    page = alice_client.get(PROFILE).content.decode()

    assert "Times are shown in Europe/Athens" in page


def test_pages_come_in_the_chosen_language_whatever_the_browser_asks_for(alice_client):
    alice_client.post(PROFILE, form_data(language="fa"))

    page = alice_client.get("/desk/", headers={"Accept-Language": "en"}).content.decode()

    assert '<html lang="fa" dir="rtl">' in page


def test_with_no_language_chosen_the_browser_decides(alice_client):
    alice_client.post(PROFILE, form_data(language=""))

    page = alice_client.get("/desk/", headers={"Accept-Language": "el"}).content.decode()

    assert '<html lang="el" dir="ltr">' in page


def test_an_unknown_time_zone_is_refused_with_a_clear_error(alice_client, agent):
    response = alice_client.post(PROFILE, form_data(time_zone="Mars/Olympus_Mons"))

    assert response.status_code == 200
    assert "“Mars/Olympus_Mons” is not a time zone Paydesk knows." in response.content.decode()
    assert not Profile.objects.exists()


def test_the_model_refuses_an_unknown_time_zone_too(agent):
    profile = profile_for(agent)
    profile.time_zone = "Europe/Atlantis"

    with pytest.raises(ValidationError, match="not a time zone Paydesk knows"):
        profile.full_clean()


def test_an_email_another_account_uses_is_refused(client, agent):
    UserFactory(email="bob@example.com")
    sign_in(client, "alice")
    confirm_password(client)

    response = client.post(PROFILE, form_data(email="BOB@example.com"))

    assert str(ERROR_EMAIL_TAKEN) in response.content.decode()


def test_changing_the_email_forgets_the_old_address_for_sign_in(client, agent):
    EmailAddress.objects.create(user=agent, email="alice@example.com", verified=True)
    sign_in(client, "alice")
    confirm_password(client)

    client.post(PROFILE, form_data(email="alicia@example.com"))
    client.logout()

    assert sign_in(client, "alice@example.com").status_code == 200  # refused: form again
    assert sign_in(client, "alicia@example.com").url == "/desk/"


def test_the_email_page_of_allauth_leads_to_the_profile(alice_client):
    assert alice_client.get(reverse("account_email")).url == PROFILE


# The language switcher -------------------------------------------------------------------------


def test_the_language_switcher_saves_the_choice_to_the_profile(alice_client, agent):
    response = alice_client.post(
        reverse("accounts:set_language"), {"language": "el", "next": "/desk/"}
    )

    assert response.url == "/desk/"
    assert profile_for(agent).language == "el"
    page = alice_client.get("/desk/", headers={"Accept-Language": "fa"}).content.decode()
    assert '<html lang="el"' in page


def test_the_switcher_works_for_visitors_with_a_cookie(client):
    response = client.post(reverse("accounts:set_language"), {"language": "fa", "next": "/"})

    assert response.cookies["django_language"].value == "fa"
    page = client.get(reverse("account_login")).content.decode()
    assert '<html lang="fa" dir="rtl">' in page
    assert not Profile.objects.exists()


def test_the_switcher_ignores_a_language_paydesk_does_not_offer(alice_client, agent):
    alice_client.post(reverse("accounts:set_language"), {"language": "xx", "next": "/desk/"})

    assert not Profile.objects.exists()


def test_the_switcher_is_the_language_form_of_every_page(alice_client):
    page = alice_client.get("/desk/").content.decode()

    assert f'class="language-form" action="{reverse("accounts:set_language")}"' in page


# Cost ------------------------------------------------------------------------------------------


def test_the_user_comes_with_preferences_and_two_factor_standing_in_one_query(
    agent, django_assert_num_queries
):
    Profile.objects.create(user=agent, time_zone="Asia/Tehran", language="fa")

    with django_assert_num_queries(1):
        user = users_with_account_state().get(pk=agent.pk)
        preferences = preferences_for(user)
        assert (user.two_factor_policy_on, user.has_totp_authenticator) == (False, False)

    assert (preferences.time_zone, preferences.language) == ("Asia/Tehran", "fa")


def test_a_signed_in_page_costs_the_session_the_user_and_the_bell_only(
    alice_client, agent, django_assert_num_queries
):
    Profile.objects.create(user=agent, time_zone="Asia/Tehran", language="fa")

    # The session, the user with profile and 2FA standing, the unread notifications' count.
    with django_assert_num_queries(3):
        alice_client.get(PROFILE)


def test_a_deleted_user_is_signed_out(alice_client, agent):
    get_user_model().objects.filter(pk=agent.pk).delete()

    assert alice_client.get(PROFILE).url.startswith(reverse("account_login"))
