"""The agent's own account page, and the language switcher that remembers its choice."""

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import check_for_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from accounts.forms import ProfileForm
from accounts.selectors import preferences_for
from accounts.services import profile_set_language, profile_update

PROFILE_SAVED = _("Your profile has been saved.")


def _changes_email(request: HttpRequest) -> bool:
    return request.POST.get("email", "").strip().lower() != request.user.email.lower()


# The email address is where password reset links go: changing it asks for the password again.
@login_required
@reauthentication_required(allow_get=True, enabled=_changes_email)
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = ProfileForm(request.POST, user=user)
        if form.is_valid():
            profile_update(user=user, **form.cleaned_data)
            messages.success(request, PROFILE_SAVED)
            return redirect("accounts:profile")
    else:
        preferences = preferences_for(user)
        form = ProfileForm(
            user=user,
            initial={
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
                "time_zone": preferences.time_zone,
                "language": preferences.language,
            },
        )
    return render(request, "accounts/profile.html", {"form": form})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (cookie, then back to `next`), which for a signed-in user also
    saves the choice to their profile: a profile language wins over the cookie."""
    language = request.POST.get("language", "")
    if (
        request.user.is_authenticated
        and language in dict(settings.LANGUAGES)
        and check_for_language(language)
    ):
        profile_set_language(user=request.user, language=language)
    return django_set_language(request)
