"""Per-request account behaviour: the agent's time zone and language, and the two-factor policy.

Both run after AuthenticationMiddleware and MessageMiddleware. The user they look at was loaded
with their profile and two-factor standing (accounts.backends), so they add no queries.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_htmx.http import HttpResponseClientRedirect

from accounts.selectors import preferences_for, two_factor_setup_required

TWO_FACTOR_REQUIRED = _(
    "Paydesk requires two-factor authentication. Set up an authenticator app to continue."
)

# What a user who still has to set up two-factor authentication may reach: the pages that set
# it up (and the password check allauth asks for first), signing out, and switching language.
SETUP_URL_NAMES = frozenset(
    {
        "mfa_index",
        "mfa_activate_totp",
        "mfa_reauthenticate",
        "mfa_view_recovery_codes",
        "mfa_download_recovery_codes",
        "mfa_generate_recovery_codes",
        "account_reauthenticate",
        "account_logout",
        "accounts:set_language",
        "set_language",
    }
)
# Machines, not people, call these; they never carry an agent's session anyway.
OPEN_PATH_PREFIXES = ("/healthz", "/webhooks/")


def user_preferences(get_response: Callable[[HttpRequest], HttpResponse]):
    """Show times in the signed-in user's time zone and, when their profile names one, pages in
    their language (otherwise LocaleMiddleware's choice from the cookie or browser stands)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated:
            return get_response(request)
        preferences = preferences_for(request.user)
        timezone.activate(preferences.time_zone)
        if preferences.language:
            translation.activate(preferences.language)
            request.LANGUAGE_CODE = translation.get_language()
        try:
            return get_response(request)
        finally:
            # The active zone outlives the request in this thread; the next request may be
            # someone else's.
            timezone.deactivate()

    return middleware


def two_factor_required(get_response: Callable[[HttpRequest], HttpResponse]):
    """When the security policy requires it, send signed-in users without an authenticator app
    to the page that sets one up, whatever else they ask for."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if (
            request.user.is_authenticated
            and two_factor_setup_required(request.user)
            and not _reachable_during_setup(request)
        ):
            messages.warning(request, TWO_FACTOR_REQUIRED)
            activate_url = reverse("mfa_activate_totp")
            if request.headers.get("HX-Request") == "true":
                return HttpResponseClientRedirect(activate_url)
            return redirect(activate_url)
        return get_response(request)

    return middleware


def _reachable_during_setup(request: HttpRequest) -> bool:
    path = request.path_info
    if path.startswith((*OPEN_PATH_PREFIXES, "/" + settings.STATIC_URL.lstrip("/"))):
        return True
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.view_name in SETUP_URL_NAMES
