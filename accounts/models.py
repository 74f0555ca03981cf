"""Who an agent is beyond their login: their preferences, and the security policy admins set."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

ERROR_UNKNOWN_TIME_ZONE = _(
    "“%(value)s” is not a time zone Paydesk knows. Pick one from the list, such as Europe/Athens."
)


def validate_time_zone(value: str) -> None:
    """Accept the IANA names zoneinfo can load ("Europe/Athens", "UTC")."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(
            ERROR_UNKNOWN_TIME_ZONE, code="unknown_time_zone", params={"value": value}
        ) from error


def default_time_zone() -> str:
    return settings.TIME_ZONE


class Profile(models.Model):
    """An agent's preferences. Users without a row get the defaults: the site's time zone and
    the language their browser asks for."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profile",
        verbose_name=_("user"),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text=_("Dates and times are shown in this zone."),
    )
    language = models.CharField(
        _("language"),
        max_length=16,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Leave empty to follow the browser's language."),
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)


class SecurityPolicy(models.Model):
    """The one row of site-wide security settings admins edit in the Django admin."""

    SINGLETON_PK = 1

    require_two_factor = models.BooleanField(
        _("require two-factor authentication"),
        default=False,
        help_text=_(
            "Everyone who signs in must set up an authenticator app before they can use Paydesk."
        ),
    )

    class Meta:
        verbose_name = _("security policy")
        verbose_name_plural = _("security policy")

    def __str__(self) -> str:
        return str(_("Security policy"))

    def save(self, *args, **kwargs) -> None:
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "SecurityPolicy":
        policy, _created = cls.objects.get_or_create(pk=cls.SINGLETON_PK)
        return policy
