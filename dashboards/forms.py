"""The dashboard's period and filters, all in the URL."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboards.metrics import Filters
from dashboards.periods import Period, last_days
from payments.models import Provider
from tickets.models import Channel, Reason, Team

# A longer custom period is refused: per-day figures of years are a report, not a dashboard.
MAX_DAYS = 366
ERROR_CUSTOM_NEEDS_DATES = _("A custom period needs a first and a last day.")
ERROR_END_BEFORE_START = _("The last day comes before the first.")
ERROR_TOO_LONG = _("A period is at most %(days)d days.")

PERIODS = [
    ("today", _("Today")),
    ("7d", _("Last 7 days")),
    ("30d", _("Last 30 days")),
    ("custom", _("Custom")),
]
DEFAULT_PERIOD = "7d"
PERIOD_DAYS = {"today": 1, "7d": 7, "30d": 30}


def _blank(label) -> list[tuple[str, str]]:
    return [("", label)]


class DashboardForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False)
    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("To"), required=False)
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), empty_label=_("Any team"), required=False
    )
    provider = forms.ChoiceField(
        label=_("Provider"), choices=_blank(_("Any provider")) + Provider.choices, required=False
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=_blank(_("Any channel")) + Channel.choices, required=False
    )
    reason = forms.ChoiceField(
        label=_("Reason"), choices=_blank(_("Any reason")) + Reason.choices, required=False
    )

    def __init__(self, *args, teams, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams

    def clean(self) -> dict:
        data = super().clean()
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if not (start and end):
                raise forms.ValidationError(ERROR_CUSTOM_NEEDS_DATES)
            if end < start:
                raise forms.ValidationError(ERROR_END_BEFORE_START)
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(ERROR_TOO_LONG, params={"days": MAX_DAYS})
        return data

    def chosen_period(self) -> Period:
        data = self.cleaned_data
        choice = data.get("period") or DEFAULT_PERIOD
        if choice == "custom":
            return Period(data["start"], data["end"])
        return last_days(PERIOD_DAYS[choice], today=timezone.localdate())

    def filters(self, *, assignee_id: int | None = None) -> Filters:
        data = self.cleaned_data
        return Filters(
            team_id=data["team"].pk if data.get("team") else None,
            provider=data.get("provider") or "",
            channel=data.get("channel") or "",
            reason=data.get("reason") or "",
            assignee_id=assignee_id,
        )
