"""Admins can require two-factor authentication: until they set up an authenticator app,
signed-in users can reach only the pages that set one up."""

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from accounts.middleware import TWO_FACTOR_REQUIRED
from accounts.models import SecurityPolicy
from tests.accounts.conftest import (
    add_authenticator_app,
    confirm_password,
    sign_in,
    totp_code,
)

pytestmark = pytest.mark.django_db

QUEUE = "/desk/"


@pytest.fixture
def two_factor_required():
    policy = SecurityPolicy.load()
    policy.require_two_factor = True
    policy.save()
    return policy


def test_two_factor_is_not_required_until_an_admin_says_so(client, agent):
    sign_in(client, "alice")

    assert client.get(QUEUE).status_code == 200
    assert SecurityPolicy.load().require_two_factor is False


def test_a_user_without_an_app_is_sent_to_set_one_up(client, agent, two_factor_required):
    sign_in(client, "alice")

    response = client.get(QUEUE, follow=True)

    assert response.redirect_chain[0] == (reverse("mfa_activate_totp"), 302)
    assert str(TWO_FACTOR_REQUIRED) in response.content.decode()


def test_signing_in_leads_straight_to_the_setup(client, agent, two_factor_required):
    response = sign_in(client, "alice")

    assert client.get(response.url).url == reverse("mfa_activate_totp")


@pytest.mark.parametrize("path", ["/api/tickets/", reverse("accounts:profile"), "/admin/"])
def test_no_other_page_is_reachable_before_the_setup(client, admin, two_factor_required, path):
    sign_in(client, "root")

    assert client.get(path).url == reverse("mfa_activate_totp")


def test_htmx_requests_are_told_to_load_the_setup_page(client, agent, two_factor_required):
    sign_in(client, "alice")

    response = client.get(QUEUE, headers={"HX-Request": "true"})

    assert response.headers["HX-Redirect"] == reverse("mfa_activate_totp")


def test_the_setup_pages_signing_out_and_machines_stay_reachable(
    client, agent, two_factor_required
):
    sign_in(client, "alice")

    assert client.get(reverse("mfa_index")).status_code == 200
    assert client.get(reverse("account_reauthenticate")).status_code == 200
    assert client.get("/healthz").status_code == 200
    assert (
        client.post("/webhooks/stripe/", b"{}", content_type="application/json").status_code == 400
    )
    assert client.post(reverse("account_logout")).url == reverse("account_login")
    assert SESSION_KEY not in client.session


def test_setting_up_the_app_opens_the_desk(client, agent, two_factor_required):
    sign_in(client, "alice")
    confirm_password(client)
    client.get(reverse("mfa_activate_totp"))
    secret = client.session["mfa.totp.secret"]

    client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})

    assert client.get(reverse("mfa_view_recovery_codes")).status_code == 200
    assert client.get(QUEUE).status_code == 200


def test_a_user_with_an_app_goes_through(client, agent, two_factor_required):
    secret = add_authenticator_app(agent)
    sign_in(client, "alice")
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})

    assert client.get(QUEUE).status_code == 200


def test_visitors_are_not_redirected_to_the_setup(client, two_factor_required):
    assert client.get(QUEUE).url.startswith(reverse("account_login"))
    assert client.get(reverse("account_login")).status_code == 200


def test_while_required_the_app_cannot_be_deactivated(client, agent, two_factor_required):
    secret = add_authenticator_app(agent)
    sign_in(client, "alice")
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    confirm_password(client)

    client.post(reverse("mfa_deactivate_totp"))

    assert Authenticator.objects.filter(user=agent, type=Authenticator.Type.TOTP).exists()


def test_without_the_policy_the_app_can_be_deactivated(client, agent):
    secret = add_authenticator_app(agent)
    sign_in(client, "alice")
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    confirm_password(client)

    client.post(reverse("mfa_deactivate_totp"))

    assert not Authenticator.objects.filter(user=agent, type=Authenticator.Type.TOTP).exists()


# The policy in the Django admin ----------------------------------------------------------------


def test_the_policy_list_in_the_admin_opens_the_one_policy(admin_client):
    response = admin_client.get(reverse("admin:accounts_securitypolicy_changelist"))

    policy = SecurityPolicy.objects.get()
    assert response.url == reverse("admin:accounts_securitypolicy_change", args=[policy.pk])


def test_an_admin_turns_the_policy_on_in_the_admin(admin_client):
    policy = SecurityPolicy.load()

    admin_client.post(
        reverse("admin:accounts_securitypolicy_change", args=[policy.pk]),
        {"require_two_factor": "on"},
    )

    assert SecurityPolicy.load().require_two_factor is True
    assert SecurityPolicy.objects.count() == 1


def test_the_policy_can_be_neither_added_nor_deleted_in_the_admin(admin_client):
    policy = SecurityPolicy.load()

    assert admin_client.get(reverse("admin:accounts_securitypolicy_add")).status_code == 403
    delete = reverse("admin:accounts_securitypolicy_delete", args=[policy.pk])
    assert admin_client.get(delete).status_code == 403
