"""Forms of the workspace. They validate what the browser sends; the services do the work."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from accounts.selectors import display_name
from payments.models import Provider
from tickets.models import Channel, Priority, Reason, Status, Team
from tickets.selectors import QueueView

PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25
ERROR_BAD_TAG = _("Tags are words, digits, hyphens and underscores.")

SORT_CHOICES = [
    ("", _("Default order")),
    ("due_at", _("Due soonest")),
    ("-due_at", _("Due latest")),
    ("-priority", _("Most urgent")),
    ("priority", _("Least urgent")),
    ("-updated_at", _("Recently updated")),
    ("updated_at", _("Least recently updated")),
    ("-created_at", _("Newest")),
    ("created_at", _("Oldest")),
]


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return display_name(obj)


def _blank(label: str) -> list[tuple[str, str]]:
    return [("", label)]


def _start_of_day(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class QueueFilterForm(forms.Form):
    """The queue's view, filters, search, order and page, all in the URL."""

    view = forms.ChoiceField(choices=_blank(_("Everything")) + QueueView.choices, required=False)
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    status = forms.ChoiceField(choices=_blank(_("Any status")) + Status.choices, required=False)
    priority = forms.ChoiceField(
        choices=_blank(_("Any priority")) + Priority.choices, required=False
    )
    reason = forms.ChoiceField(choices=_blank(_("Any reason")) + Reason.choices, required=False)
    provider = forms.ChoiceField(
        choices=_blank(_("Any provider")) + Provider.choices, required=False
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=_blank(_("Any channel")) + Channel.choices, required=False
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), empty_label=_("Any team"), required=False
    )
    assignee = forms.ChoiceField(required=False)
    tag = forms.CharField(max_length=50, required=False)
    created_after = forms.DateField(label=_("Created from"), required=False)
    created_before = forms.DateField(label=_("Created until"), required=False)
    due_after = forms.DateField(label=_("Due from"), required=False)
    due_before = forms.DateField(label=_("Due until"), required=False)
    solved_after = forms.DateField(label=_("Solved from"), required=False)
    solved_before = forms.DateField(label=_("Solved until"), required=False)
    sort = forms.ChoiceField(label=_("Order"), choices=SORT_CHOICES, required=False)
    per_page = forms.TypedChoiceField(
        label=_("Per page"),
        choices=[(size, size) for size in PAGE_SIZES],
        coerce=int,
        required=False,
        empty_value=DEFAULT_PAGE_SIZE,
    )

    def __init__(self, *args, teams, agents, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["assignee"].choices = [
            ("", _("Anyone")),
            ("me", _("Me")),
            ("none", _("Nobody")),
            *((str(agent.pk), display_name(agent)) for agent in agents),
        ]

    def selector_filters(self) -> dict:
        """The cleaned form in the terms of tickets.selectors.ticket_list."""
        data = self.cleaned_data
        filters = {
            key: data.get(key)
            for key in ("view", "q", "status", "priority", "reason", "provider", "channel", "tag")
        }
        filters["team"] = data["team"].pk if data.get("team") else None
        filters["assignee"] = data.get("assignee")
        filters["ordering"] = data.get("sort")
        # Dates are whole days in the agent's time zone; "until" includes the day itself.
        for name in ("created_after", "due_after", "solved_after"):
            if data.get(name):
                filters[name] = _start_of_day(data[name])
        for name in ("created_before", "due_before", "solved_before"):
            if data.get(name) and data[name] < date.max:
                filters[name] = _start_of_day(data[name] + timedelta(days=1))
        return filters


class TicketUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    assignee = AgentChoiceField(
        label=_("Assignee"), queryset=None, required=False, empty_label=_("Unassigned")
    )
    team = forms.ModelChoiceField(label=_("Team"), queryset=None, empty_label=None)
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=500,
        help_text=_("Separated by commas or spaces."),
    )

    def __init__(self, *args, teams, agents, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["assignee"].queryset = agents

    def clean_tags(self) -> list[str]:
        return parse_tags(self.cleaned_data["tags"])


def parse_tags(text: str) -> list[str]:
    names = [word for word in text.replace(",", " ").split() if word]
    tags = [slugify(name, allow_unicode=True) for name in names]
    if any(not tag or len(tag) > 50 for tag in tags):
        raise forms.ValidationError(ERROR_BAD_TAG)
    return tags


class EntryForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=20_000)


class ReplyForm(EntryForm):
    # The newest timeline entry the agent had on screen when they started writing.
    seen_entry_id = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    send_anyway = forms.BooleanField(widget=forms.HiddenInput, required=False)


class MergeForm(forms.Form):
    target = forms.IntegerField(
        label=_("Merge into ticket number"), min_value=1, widget=forms.NumberInput
    )


class BulkActionForm(forms.Form):
    ACTIONS = [
        ("assign", _("Assign to")),
        ("status", _("Set status")),
        ("tag", _("Add tag")),
    ]
    tickets = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=True)
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    assignee = AgentChoiceField(
        label=_("Assignee"), queryset=None, required=False, empty_label=_("Unassigned")
    )
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices, required=False)
    tag = forms.CharField(label=_("Tag"), max_length=50, required=False)

    def __init__(self, *args, agents, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agents
        # Any ticket number is accepted here; the view keeps those the agent may see.
        self.fields["tickets"].choices = [
            (value, value)
            for value in self.data.getlist("tickets")
            if str(value).isdigit() and 0 < int(value) < 2**63
        ]

    def clean(self):
        data = super().clean()
        if data.get("action") == "status" and not data.get("status"):
            self.add_error("status", _("Choose a status."))
        if data.get("action") == "tag":
            try:
                tags = parse_tags(data.get("tag") or "")
            except forms.ValidationError as error:
                self.add_error("tag", error)
            else:
                if len(tags) != 1:
                    self.add_error("tag", _("Give one tag."))
                else:
                    data["tag"] = tags[0]
        return data
