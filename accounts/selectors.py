"""What every request needs to know about the signed-in user, read without extra queries."""

from dataclasses import dataclass

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import Profile, SecurityPolicy


@dataclass(frozen=True)
class Preferences:
    time_zone: str
    language: str  # "" follows the browser


def users_with_account_state() -> QuerySet:
    """Users loaded together with their profile and their standing under the two-factor policy.

    The authentication backend loads the user of every request with this, so applying their
    time zone and checking the policy costs no query beyond the one that loads the user.
    """
    return (
        get_user_model()
        ._default_manager.select_related("profile")
        .annotate(
            two_factor_policy_on=Exists(SecurityPolicy.objects.filter(require_two_factor=True)),
            has_totp_authenticator=Exists(
                Authenticator.objects.filter(user_id=OuterRef("pk"), type=Authenticator.Type.TOTP)
            ),
        )
    )


def preferences_for(user: AbstractBaseUser) -> Preferences:
    """The user's time zone and language; the defaults when they have no profile."""
    try:
        profile = user.profile
    except Profile.DoesNotExist:
        return Preferences(time_zone=settings.TIME_ZONE, language="")
    return Preferences(time_zone=profile.time_zone, language=profile.language)


def two_factor_setup_required(user: AbstractBaseUser) -> bool:
    """True when the policy requires two-factor authentication and `user` has no authenticator
    app yet."""
    policy_on = getattr(user, "two_factor_policy_on", None)
    if policy_on is None:  # a user not loaded through users_with_account_state()
        policy_on = SecurityPolicy.objects.filter(require_two_factor=True).exists()
    if not policy_on:
        return False
    has_totp = getattr(user, "has_totp_authenticator", None)
    if has_totp is None:
        has_totp = Authenticator.objects.filter(
            user_id=user.pk, type=Authenticator.Type.TOTP
        ).exists()
    return not has_totp


def display_name(user: AbstractBaseUser) -> str:
    """How Paydesk names a user to others: their full name, else their username."""
    return user.get_full_name() or user.get_username()
