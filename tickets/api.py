"""The ticket API for agents: list and read tickets, change them, reply and add notes.

Reads go through tickets.selectors (which also decides who may see a ticket), writes through
tickets.services, so the API records the same timeline as every other way of working a ticket.
"""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from payments.api import (
    ApiPagination,
    CustomerSummarySerializer,
    PaymentSummarySerializer,
    pk_from_url,
)
from payments.models import Provider
from tickets.models import Priority, Reason, Status, Team, Ticket, TimelineEntry
from tickets.permissions import is_agent
from tickets.selectors import TICKET_ORDERINGS, ticket_get_for_agent, ticket_list, ticket_reload
from tickets.services import AssignmentError, ticket_note, ticket_reply, ticket_update

ERROR_ASSIGNEE_NOT_AGENT = "Tickets can only be assigned to agents."
ERROR_ASSIGNEE_FILTER = 'Use a user id, "me" or "none".'


class TeamSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username"]


class TimelineEntrySerializer(serializers.ModelSerializer):
    author = serializers.CharField(
        source="author.username", allow_null=True, read_only=True, help_text="Username."
    )

    class Meta:
        model = TimelineEntry
        fields = ["id", "kind", "body", "author", "public", "created_at", "data"]


class TicketSerializer(serializers.ModelSerializer):
    team = TeamSummarySerializer()
    assignee = UserSummarySerializer(allow_null=True)
    customer = CustomerSummarySerializer(allow_null=True)
    payments = PaymentSummarySerializer(many=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")

    class Meta:
        model = Ticket
        fields = [
            "id",
            "subject",
            "status",
            "priority",
            "reason",
            "channel",
            "team",
            "assignee",
            "customer",
            "payments",
            "tags",
            "due_at",
            "first_response_due_at",
            "first_response_breached",
            "resolution_due_at",
            "resolution_breached",
            "sla_paused_at",
            "created_at",
            "updated_at",
            "first_response_at",
            "solved_at",
        ]


class TicketDetailSerializer(TicketSerializer):
    timeline = TimelineEntrySerializer(many=True)

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "timeline"]


class TicketFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    reason = serializers.ChoiceField(choices=Reason.choices, required=False)
    team = serializers.IntegerField(required=False, min_value=1, help_text="A team id.")
    assignee = serializers.CharField(
        required=False, help_text='A user id, "me" or "none" (unassigned).'
    )
    provider = serializers.ChoiceField(
        choices=Provider.choices, required=False, help_text="The provider of any of its payments."
    )
    customer_email = serializers.EmailField(required=False)
    q = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Text in the subject, the customer's email or name, or a payment id.",
    )
    ordering = serializers.ChoiceField(
        choices=[o for field in TICKET_ORDERINGS for o in (field, f"-{field}")],
        required=False,
        help_text='Prefix with "-" for descending. Newest first by default.',
    )

    def validate_assignee(self, value: str) -> str | int:
        if value in ("me", "none"):
            return value
        if value.isdigit():
            return int(value)
        raise serializers.ValidationError(ERROR_ASSIGNEE_FILTER)


class TicketUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(),
        allow_null=True,
        required=False,
        help_text="A user id, or null to unassign.",
    )
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False)

    def validate_assignee(self, user):
        if user is not None and not is_agent(user):
            raise serializers.ValidationError(ERROR_ASSIGNEE_NOT_AGENT)
        return user


class EntryBodySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20_000)


class TicketViewSet(viewsets.GenericViewSet):
    serializer_class = TicketSerializer
    pagination_class = ApiPagination

    def get_queryset(self):
        return ticket_list(user=self.request.user)

    def get_object(self) -> Ticket:
        ticket = ticket_get_for_agent(user=self.request.user, pk=pk_from_url(self.kwargs["pk"]))
        if ticket is None:
            raise NotFound
        return ticket

    @extend_schema(parameters=[TicketFilterSerializer])
    def list(self, request: Request) -> Response:
        filters = TicketFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(
            ticket_list(user=request.user, filters=filters.validated_data)
        )
        return self.get_paginated_response(TicketSerializer(page, many=True).data)

    @extend_schema(responses=TicketDetailSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(TicketDetailSerializer(self.get_object()).data)

    @extend_schema(request=TicketUpdateSerializer, responses=TicketDetailSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        changes = TicketUpdateSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        try:
            ticket = ticket_update(ticket=ticket, actor=request.user, **changes.validated_data)
        except AssignmentError as error:
            raise serializers.ValidationError({"assignee": [str(error)]}) from error
        return Response(TicketDetailSerializer(ticket_reload(ticket=ticket)).data)

    @extend_schema(request=EntryBodySerializer, responses={201: TimelineEntrySerializer})
    @action(detail=True, methods=["post"])
    def replies(self, request: Request, pk: str) -> Response:
        """Reply to the customer: public, and the first one sets the first response time."""
        ticket = self.get_object()
        body = _body(request)
        entry = ticket_reply(ticket=ticket, author=request.user, body=body)
        return Response(TimelineEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EntryBodySerializer, responses={201: TimelineEntrySerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request: Request, pk: str) -> Response:
        """Add an internal note: agents see it, the customer never does."""
        ticket = self.get_object()
        body = _body(request)
        entry = ticket_note(ticket=ticket, author=request.user, body=body)
        return Response(TimelineEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


def _body(request: Request) -> str:
    serializer = EntryBodySerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["body"]
