"""Changes to an agent's own account: their name, email and preferences."""

from allauth.account.models import EmailAddress
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AbstractUser
from django.db import transaction

from accounts.models import Profile


def profile_for(user: AbstractBaseUser) -> Profile:
    """The user's profile, created with the defaults the first time it is asked for."""
    profile, _created = Profile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def profile_update(
    *,
    user: AbstractUser,
    first_name: str,
    last_name: str,
    email: str,
    time_zone: str,
    language: str,
) -> Profile:
    """Save what the agent edits on their profile page."""
    if email.lower() != user.email.lower():
        # allauth logs in and sends password resets by the addresses it has recorded as well
        # as by user.email: forget the old ones, so the old address no longer opens the account.
        EmailAddress.objects.filter(user=user).exclude(email__iexact=email).delete()
    user.first_name, user.last_name, user.email = first_name, last_name, email
    user.save(update_fields=["first_name", "last_name", "email"])
    profile = profile_for(user)
    profile.time_zone, profile.language = time_zone, language
    profile.full_clean(validate_unique=False)
    profile.save()
    return profile


def profile_set_language(*, user: AbstractBaseUser, language: str) -> Profile:
    """Remember the language the agent picked in the language switcher."""
    profile = profile_for(user)
    profile.language = language
    profile.full_clean(validate_unique=False)
    profile.save(update_fields=["language"])
    return profile
