"""Two-factor authentication with an authenticator app (TOTP) and recovery codes, for the
workspace and for the Django admin."""

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from tests.accounts.conftest import add_authenticator_app, confirm_password, sign_in, totp_code

pytestmark = pytest.mark.django_db

QUEUE = "/desk/"


def test_activating_an_app_asks_for_the_password_again(client, agent):
    sign_in(client, "alice")

    response = client.get(reverse("mfa_activate_totp"))

    assert response.url.startswith(reverse("account_reauthenticate"))


def test_an_agent_activates_an_authenticator_app_and_gets_recovery_codes(client, agent):
    sign_in(client, "alice")
    confirm_password(client)
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    assert secret in page.content.decode()  # shown for typing into the app by hand

    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})

    assert response.url == reverse("mfa_view_recovery_codes")
    assert set(Authenticator.objects.filter(user=agent).values_list("type", flat=True)) == {
        Authenticator.Type.TOTP,
        Authenticator.Type.RECOVERY_CODES,
    }
    codes = client.get(response.url).content.decode()
    recovery = RecoveryCodes(Authenticator.objects.get(type=Authenticator.Type.RECOVERY_CODES))
    assert all(code in codes for code in recovery.get_unused_codes())


def test_a_wrong_code_does_not_activate_the_app(client, agent):
    sign_in(client, "alice")
    confirm_password(client)
    client.get(reverse("mfa_activate_totp"))
    secret = client.session["mfa.totp.secret"]

    response = client.post(
        reverse("mfa_activate_totp"), {"code": totp_code(secret, at=time.time() - 3600)}
    )

    assert "Incorrect code." in response.content.decode()
    assert not Authenticator.objects.filter(user=agent).exists()


def test_with_an_app_the_password_alone_does_not_sign_in(client, agent):
    add_authenticator_app(agent)

    response = sign_in(client, "alice")

    assert response.url == reverse("mfa_authenticate")
    assert SESSION_KEY not in client.session
    assert client.get(QUEUE).url.startswith(reverse("account_login"))


def test_with_an_app_the_code_completes_the_sign_in(client, agent):
    secret = add_authenticator_app(agent)
    sign_in(client, "alice")

    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})

    assert response.url == QUEUE
    assert client.session[SESSION_KEY] == str(agent.pk)
    assert client.get(QUEUE).status_code == 200


def test_a_wrong_code_is_refused_at_sign_in(client, agent):
    secret = add_authenticator_app(agent)
    sign_in(client, "alice")

    response = client.post(
        reverse("mfa_authenticate"), {"code": totp_code(secret, at=time.time() - 3600)}
    )

    assert "Incorrect code." in response.content.decode()
    assert SESSION_KEY not in client.session


def test_a_recovery_code_signs_in_once(client, agent):
    add_authenticator_app(agent)
    recovery = RecoveryCodes(Authenticator.objects.get(type=Authenticator.Type.RECOVERY_CODES))
    code = recovery.get_unused_codes()[0]

    sign_in(client, "alice")
    assert client.post(reverse("mfa_authenticate"), {"code": code}).url == QUEUE
    client.post(reverse("account_logout"))
    sign_in(client, "alice")
    again = client.post(reverse("mfa_authenticate"), {"code": code})

    assert again.status_code == 200
    assert SESSION_KEY not in client.session


def test_the_two_factor_page_uses_the_paydesk_layout(client, agent):
    sign_in(client, "alice")

    page = client.get(reverse("mfa_index")).content.decode()

    assert re.search(r"<title>\s*Two-Factor Authentication\s*· Paydesk</title>", page)
    assert 'class="topbar"' in page
    assert reverse("mfa_activate_totp") in page


# The Django admin -------------------------------------------------------------------------------


def test_the_admin_login_is_allauths_sign_in(client, admin):
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0] == f"{reverse('account_login')}?next=%2Fadmin%2F"


def test_an_admin_with_an_app_needs_the_code_to_reach_the_admin(client, admin):
    secret = add_authenticator_app(admin)

    response = sign_in(client, "root", next="/admin/")
    assert response.url.startswith(reverse("mfa_authenticate"))
    assert client.get("/admin/").status_code == 302

    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_an_agent_who_is_not_staff_is_kept_out_of_the_admin(client, agent):
    sign_in(client, "alice")

    assert client.get(reverse("admin:login")).status_code == 403
