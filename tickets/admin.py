"""Admin pages for teams and tickets.

A ticket's status, priority, assignee, team and resolution deadline can be changed here,
through tickets.services.ticket_update like anywhere else, so each change lands on the timeline
with its author and the SLA due times follow. The timeline itself is a record and is never edited.
"""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib import admin
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tickets.canned import PLACEHOLDERS
from tickets.models import (
    OPEN_STATUSES,
    BusinessHours,
    CannedResponse,
    Holiday,
    Priority,
    SlaPolicy,
    Tag,
    Team,
    Ticket,
    TimelineEntry,
)
from tickets.selectors import agents_for
from tickets.services import ERROR_ASSIGNEE_NOT_ON_TEAM, ticket_update


class TeamAdminForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "time_zone", "members"]

    def clean_time_zone(self) -> str:
        # A misspelt zone would silently count the business hours in UTC.
        name = self.cleaned_data["time_zone"].strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise forms.ValidationError(
                "Not a time zone: use an IANA name such as Europe/Athens."
            ) from error
        return name


class BusinessHoursInline(admin.TabularInline):
    """When the team answers chats and SLA policies count; a team without any hours is open
    around the clock."""

    model = BusinessHours
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamAdminForm
    list_display = ["name", "member_count", "open_ticket_count"]
    search_fields = ["name", "members__username", "members__email"]
    filter_horizontal = ["members"]
    inlines = [BusinessHoursInline, HolidayInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("members", distinct=True),
                open_ticket_count=Count(
                    "tickets", filter=Q(tickets__status__in=OPEN_STATUSES), distinct=True
                ),
            )
        )

    @admin.display(description="members", ordering="member_count")
    def member_count(self, team: Team) -> int:
        return team.member_count

    @admin.display(description="open tickets", ordering="open_ticket_count")
    def open_ticket_count(self, team: Team) -> int:
        return team.open_ticket_count


class TimelineEntryInline(admin.TabularInline):
    model = TimelineEntry
    fields = ["created_at", "kind", "author", "public", "body", "webhook_event"]
    readonly_fields = fields
    ordering = ["created_at", "id"]
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[TimelineEntry]:
        return super().get_queryset(request).select_related("author", "webhook_event")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class TicketAdminForm(forms.ModelForm):
    class Meta:
        model = Ticket
        fields = ["status", "priority", "team", "assignee", "resolution_deadline"]

    def clean(self):
        data = super().clean()
        assignee, team = data.get("assignee"), data.get("team")
        if assignee and team and not assignee.is_staff and not assignee.teams.filter(pk=team.pk):
            self.add_error("assignee", str(ERROR_ASSIGNEE_NOT_ON_TEAM))
        return data


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    form = TicketAdminForm
    list_display = [
        "id",
        "subject",
        "status",
        "priority",
        "reason",
        "channel",
        "team",
        "assignee",
        "customer",
        "due_at",
        "updated_at",
    ]
    list_display_links = ["id", "subject"]
    list_filter = [
        "status",
        "priority",
        "reason",
        "team",
        "channel",
        "tags",
        "first_response_breached",
        "resolution_breached",
    ]
    list_select_related = ["team", "assignee", "customer"]
    search_fields = ["subject", "customer__email", "payments__provider_payment_id"]
    ordering = ["-created_at"]
    date_hierarchy = "created_at"
    inlines = [TimelineEntryInline]
    # Only what ticket_update knows how to change is editable.
    fields = [
        "subject",
        "customer",
        "payments",
        "tags",
        "reason",
        "channel",
        "status",
        "priority",
        "team",
        "assignee",
        "resolution_deadline",
        "merged_into",
        "created_at",
        "updated_at",
        "first_response_at",
        "solved_at",
        "sla_policy",
        "due_at",
        "first_response_due_at",
        "first_response_breached",
        "resolution_due_at",
        "resolution_breached",
        "sla_paused_at",
    ]
    readonly_fields = [
        "subject",
        "customer",
        "payments",
        "tags",
        "reason",
        "channel",
        "merged_into",
        "created_at",
        "updated_at",
        "first_response_at",
        "solved_at",
        # Kept by the SLA policies (tickets.sla): a fixed deadline is what an admin may set.
        "sla_policy",
        "due_at",
        "first_response_due_at",
        "first_response_breached",
        "resolution_due_at",
        "resolution_breached",
        "sla_paused_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Tickets are opened by webhooks, chats and emails, which know the customer and payment.
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # The timeline is the audit trail: a ticket is solved, closed or merged, never deleted.
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assignee":
            kwargs["queryset"] = agents_for(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Ticket, form, change: bool) -> None:
        data = form.cleaned_data
        # Only a deadline the admin changed: an unchanged one need not recount the targets.
        deadline = (
            {"due_at": data["resolution_deadline"]}
            if "resolution_deadline" in form.changed_data
            else {}
        )
        ticket_update(
            ticket=obj,
            actor=request.user,
            status=data["status"],
            priority=data["priority"],
            assignee=data["assignee"],
            team=data["team"],
            **deadline,
        )


_PRIORITY_RANK = Case(
    *(When(priority=priority, then=Value(rank)) for rank, priority in enumerate(Priority)),
    output_field=IntegerField(),
)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    """Targets per priority, optionally for one reason or team: the most specific active policy
    fits a ticket. Editing one applies to tickets as they are created or change priority or team;
    the due times of the others stay as they were."""

    list_display = [
        "name",
        "priority",
        "reason_or_any",
        "team_or_any",
        "first_response_minutes",
        "resolution_minutes",
        "business_hours",
        "active",
    ]
    list_editable = ["first_response_minutes", "resolution_minutes", "business_hours", "active"]
    list_filter = ["priority", "reason", "team", "business_hours", "active"]
    list_select_related = ["team"]
    search_fields = ["name"]
    fields = [
        "name",
        "priority",
        "reason",
        "team",
        "first_response_minutes",
        "resolution_minutes",
        "business_hours",
        "active",
    ]

    def get_ordering(self, request: HttpRequest) -> list:
        # Most urgent first, and the general policy of a priority before its specific ones.
        return [_PRIORITY_RANK.desc(), "team__name", "reason", "name"]

    @admin.display(description=_("reason"), ordering="reason")
    def reason_or_any(self, policy: SlaPolicy) -> str:
        return policy.get_reason_display() if policy.reason else _("any")

    @admin.display(description=_("team"), ordering="team__name")
    def team_or_any(self, policy: SlaPolicy) -> str:
        return policy.team.name if policy.team else _("any")


@admin.register(TimelineEntry)
class TimelineEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "ticket", "kind", "author", "public"]
    list_filter = ["kind", "public"]
    list_select_related = ["ticket", "author"]
    search_fields = ["body", "ticket__subject", "author__username"]
    ordering = ["-created_at", "-id"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ["title", "language", "updated_at", "created_by"]
    list_filter = ["language"]
    search_fields = ["title", "body"]
    readonly_fields = ["created_by", "updated_at"]

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        placeholders = ", ".join(f"{{{name}}} ({label})" for name, label in PLACEHOLDERS.items())
        form.base_fields["body"].help_text = f"Placeholders: {placeholders}"
        return form

    def save_model(self, request: HttpRequest, obj: CannedResponse, form, change: bool) -> None:
        if obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
