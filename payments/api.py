"""Read-only API over payments (for agents) and the raw provider events (for admins only)."""

from drf_spectacular.utils import extend_schema
from rest_framework import pagination, serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from payments.models import (
    Customer,
    Dispute,
    EventOutcome,
    Payment,
    PaymentStatus,
    Provider,
    Refund,
    WebhookEvent,
)
from payments.selectors import payment_get, payment_list, webhook_event_get, webhook_event_list
from tickets.permissions import IsAdmin


class ApiPagination(pagination.PageNumberPagination):
    """PAGE_SIZE items a page unless the client asks for up to 200 with `page_size`."""

    page_size_query_param = "page_size"
    max_page_size = 200


class CustomerSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "email", "name"]


class PaymentSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "provider", "provider_payment_id", "amount_minor", "currency", "status"]


class PaymentSerializer(serializers.ModelSerializer):
    customer = CustomerSummarySerializer(allow_null=True)
    dashboard_url = serializers.URLField(read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "provider",
            "provider_payment_id",
            "provider_charge_id",
            "amount_minor",
            "currency",
            "refunded_amount_minor",
            "status",
            "failure_code",
            "failure_message",
            "description",
            "customer",
            "dashboard_url",
            "failed_at",
            "succeeded_at",
            "recovered_at",
            "recovered_amount_minor",
            "last_event_at",
            "created_at",
            "updated_at",
        ]


class DisputeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dispute
        fields = [
            "id",
            "provider",
            "provider_dispute_id",
            "amount_minor",
            "currency",
            "reason",
            "provider_status",
            "outcome",
            "evidence_due_at",
            "created_at",
        ]


class RefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = [
            "id",
            "provider",
            "provider_refund_id",
            "amount_minor",
            "currency",
            "status",
            "failure_reason",
            "created_at",
        ]


class PaymentEventSerializer(serializers.ModelSerializer):
    """What an agent may know of an event: that it came, and what became of it."""

    class Meta:
        model = WebhookEvent
        fields = ["id", "provider", "event_type", "outcome", "received_at"]


class PaymentDetailSerializer(PaymentSerializer):
    disputes = DisputeSerializer(many=True)
    refunds = RefundSerializer(many=True)
    events = PaymentEventSerializer(many=True)

    class Meta(PaymentSerializer.Meta):
        fields = [*PaymentSerializer.Meta.fields, "disputes", "refunds", "events"]


class WebhookEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEvent
        fields = [
            "id",
            "provider",
            "event_id",
            "event_type",
            "outcome",
            "payment",
            "received_at",
            "processed_at",
            "attempts",
            "deliveries",
            "error",
        ]


class WebhookEventDetailSerializer(WebhookEventSerializer):
    body = serializers.SerializerMethodField(help_text="The delivery as received, as text.")

    class Meta(WebhookEventSerializer.Meta):
        fields = [*WebhookEventSerializer.Meta.fields, "signature_headers", "body"]

    def get_body(self, event: WebhookEvent) -> str:
        return bytes(event.body).decode("utf-8", errors="replace")


class PaymentFilterSerializer(serializers.Serializer):
    provider = serializers.ChoiceField(choices=Provider.choices, required=False)
    status = serializers.ChoiceField(choices=PaymentStatus.choices, required=False)
    q = serializers.CharField(
        required=False, max_length=200, help_text="Part of a payment or charge id, or an email."
    )


class WebhookEventFilterSerializer(serializers.Serializer):
    provider = serializers.ChoiceField(choices=Provider.choices, required=False)
    outcome = serializers.ChoiceField(choices=EventOutcome.choices, required=False)
    event_type = serializers.CharField(required=False, max_length=100)


class PaymentViewSet(viewsets.GenericViewSet):
    serializer_class = PaymentSerializer
    pagination_class = ApiPagination

    def get_queryset(self):
        return payment_list()

    @extend_schema(parameters=[PaymentFilterSerializer])
    def list(self, request: Request) -> Response:
        filters = PaymentFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(payment_list(filters=filters.validated_data))
        return self.get_paginated_response(PaymentSerializer(page, many=True).data)

    def get_object(self) -> Payment:
        payment = payment_get(pk=pk_from_url(self.kwargs["pk"]))
        if payment is None:
            raise NotFound
        return payment

    @extend_schema(responses=PaymentDetailSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(PaymentDetailSerializer(self.get_object()).data)


class WebhookEventViewSet(viewsets.GenericViewSet):
    """Raw provider deliveries; bodies may hold personal data, so only admins see them."""

    serializer_class = WebhookEventSerializer
    pagination_class = ApiPagination
    permission_classes = [IsAdmin]

    def get_queryset(self):
        return webhook_event_list()

    @extend_schema(parameters=[WebhookEventFilterSerializer])
    def list(self, request: Request) -> Response:
        filters = WebhookEventFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(webhook_event_list(filters=filters.validated_data))
        return self.get_paginated_response(WebhookEventSerializer(page, many=True).data)

    def get_object(self) -> WebhookEvent:
        event = webhook_event_get(pk=pk_from_url(self.kwargs["pk"]))
        if event is None:
            raise NotFound
        return event

    @extend_schema(responses=WebhookEventDetailSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(WebhookEventDetailSerializer(self.get_object()).data)


def pk_from_url(value: str) -> int:
    """The id in a detail URL; anything but digits names nothing, hence a 404."""
    if not value.isdigit():
        raise NotFound
    return int(value)
