import zoneinfo
from functools import cache

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.models import EmailAddress
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.translation import gettext_lazy as _

from accounts.models import ERROR_UNKNOWN_TIME_ZONE

ERROR_EMAIL_TAKEN = _("Another account already uses this email address.")


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone zoneinfo knows, sorted, without the aliases nobody picks."""
    names = zoneinfo.available_timezones() - {"Factory", "localtime", "posixrules"}
    return [(name, name.replace("_", " ")) for name in sorted(names)]


class LoginForm(AllauthLoginForm):
    """allauth's login form, with a label that says what to type."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("Username or email")
        self.fields["login"].widget.attrs.update(autocomplete="username", autofocus=True)
        self.fields["login"].widget.attrs.pop("placeholder", None)
        self.fields["password"].widget.attrs.pop("placeholder", None)


class ProfileForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("Email"),
        help_text=_("Password reset links are sent here. You can also sign in with it."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices,
        error_messages={"invalid_choice": ERROR_UNKNOWN_TIME_ZONE},
        help_text=_("Dates and times in Paydesk are shown in this zone."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("Same as the browser")), *settings.LANGUAGES],
        required=False,
    )

    def __init__(self, *args, user: AbstractBaseUser, **kwargs) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        other_users = get_user_model()._default_manager.exclude(pk=self.user.pk)
        if (
            other_users.filter(email__iexact=email).exists()
            or EmailAddress.objects.filter(email__iexact=email).exclude(user=self.user).exists()
        ):
            raise forms.ValidationError(ERROR_EMAIL_TAKEN, code="email_taken")
        return email
