"""The Django admin, as a superuser uses it."""

import json

import pytest
from django.urls import reverse

from payments import admin as payments_admin
from payments.models import (
    Dispute,
    EventOutcome,
    Payment,
    Provider,
    Refund,
    RefundStatus,
    WebhookEvent,
)
from tests.factories import (
    AgentFactory,
    CustomerFactory,
    PaymentFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
)
from tickets.models import EntryKind, Status, Ticket, TimelineEntry
from tickets.services import ticket_note

pytestmark = pytest.mark.django_db


def stored_event(event_id: str, *, outcome=EventOutcome.FAILED, payment=None) -> WebhookEvent:
    # A type Paydesk does not act on: processing it marks it ignored, touching nothing else.
    body = {
        "id": event_id,
        "type": "customer.created",
        "created": 1_700_000_000,
        "data": {"object": {"id": "cus_1", "note": "café"}},
    }
    return WebhookEvent.objects.create(
        provider=Provider.STRIPE,
        event_id=event_id,
        event_type="customer.created",
        body=json.dumps(body, ensure_ascii=False).encode(),
        outcome=outcome,
        payment=payment,
    )


@pytest.fixture
def records(admin_user):
    """One of everything, each with a name the pages can be searched for."""
    team = TeamFactory(name="Card payments")
    agent = AgentFactory(username="alice", team=team)
    customer = CustomerFactory(email="dana@example.com", name="Dana Scully")
    payment = PaymentFactory(customer=customer, provider_payment_id="pi_3Dana")
    dispute = Dispute.objects.create(
        provider=Provider.STRIPE, provider_dispute_id="du_3Dana", payment=payment
    )
    refund = Refund.objects.create(
        provider=Provider.STRIPE,
        provider_refund_id="re_3Dana",
        payment=payment,
        status=RefundStatus.FAILED,
    )
    event = stored_event("evt_3Dana", payment=payment)
    ticket = TicketFactory(
        team=team, customer=customer, payments=[payment], subject="Card declined twice"
    )
    entry = ticket_note(ticket=ticket, author=agent, body="Called the bank")
    return {
        "team": team,
        "agent": agent,
        "customer": customer,
        "payment": payment,
        "dispute": dispute,
        "refund": refund,
        "webhookevent": event,
        "ticket": ticket,
        "timelineentry": entry,
    }


PAGES = [
    ("payments", "customer", "dana@example.com"),
    ("payments", "payment", "pi_3Dana"),
    ("payments", "dispute", "du_3Dana"),
    ("payments", "refund", "re_3Dana"),
    ("payments", "webhookevent", "evt_3Dana"),
    ("tickets", "team", "Card payments"),
    ("tickets", "ticket", "Card declined twice"),
    ("tickets", "timelineentry", "Internal note"),
]


@pytest.mark.parametrize(("app", "model", "shown"), PAGES)
def test_every_changelist_loads_and_lists_its_records(admin_client, records, app, model, shown):
    response = admin_client.get(reverse(f"admin:{app}_{model}_changelist"))

    assert response.status_code == 200
    assert shown in response.content.decode()


@pytest.mark.parametrize(("app", "model", "shown"), PAGES)
def test_every_change_page_loads(admin_client, records, app, model, shown):
    url = reverse(f"admin:{app}_{model}_change", args=[records[model].pk])

    assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("model", "params", "found", "not_found"),
    [
        ("webhookevent", {"provider": "stripe", "outcome": "failed"}, "evt_3Dana", "evt_done"),
        ("webhookevent", {"q": "pi_3Dana"}, "evt_3Dana", "evt_done"),
        ("ticket", {"q": "pi_3Dana"}, "Card declined twice", "Other question"),
        ("ticket", {"q": "dana@example.com"}, "Card declined twice", "Other question"),
        ("ticket", {"status__exact": "new"}, "Card declined twice", "Other question"),
        ("payment", {"q": "dana@example"}, "pi_3Dana", "pi_3Other"),
    ],
)
def test_changelists_filter_and_search(admin_client, records, model, params, found, not_found):
    stored_event("evt_done", outcome=EventOutcome.PROCESSED)
    TicketFactory(team=records["team"], subject="Other question", status=Status.SOLVED)
    PaymentFactory(provider_payment_id="pi_3Other")
    app = "payments" if model in ("webhookevent", "payment") else "tickets"

    page = admin_client.get(reverse(f"admin:{app}_{model}_changelist"), params).content.decode()

    assert found in page
    assert not_found not in page


def test_a_webhook_event_page_shows_the_raw_body_as_text(admin_client, records):
    event = records["webhookevent"]

    page = admin_client.get(reverse("admin:payments_webhookevent_change", args=[event.pk]))

    assert "&quot;note&quot;: &quot;café&quot;" in page.content.decode()
    assert b'name="_save"' not in page.content


def test_provider_records_cannot_be_added_by_hand(admin_client):
    for model in ("payment", "dispute", "refund", "webhookevent", "ticket", "timelineentry"):
        app = "tickets" if model in ("ticket", "timelineentry") else "payments"
        assert admin_client.get(reverse(f"admin:{app}_{model}_add")).status_code == 403


def test_the_reprocess_action_queues_each_selected_event(admin_client, monkeypatch):
    queued = []
    monkeypatch.setattr(payments_admin, "enqueue_processing", queued.append)
    first, second = stored_event("evt_1"), stored_event("evt_2")
    stored_event("evt_not_selected")

    response = admin_client.post(
        reverse("admin:payments_webhookevent_changelist"),
        {"action": "reprocess", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )

    assert sorted(queued) == sorted([first.pk, second.pk])
    assert "Queued 2 event(s) for processing." in response.content.decode()


def test_a_reprocessed_failed_event_gets_processed(admin_client):
    event = stored_event("evt_failed_before")

    admin_client.post(
        reverse("admin:payments_webhookevent_changelist"),
        {"action": "reprocess", "_selected_action": [event.pk]},
    )

    event.refresh_from_db()
    assert event.outcome == EventOutcome.IGNORED
    assert event.error == ""


def test_changing_a_ticket_in_the_admin_is_recorded_on_its_timeline(
    admin_client, admin_user, records
):
    ticket = records["ticket"]

    response = admin_client.post(
        reverse("admin:tickets_ticket_change", args=[ticket.pk]),
        {
            "status": Status.PENDING,
            "priority": "high",
            "team": records["team"].pk,
            "assignee": records["agent"].pk,
            "due_at_0": "",
            "due_at_1": "",
            "timeline-TOTAL_FORMS": "1",
            "timeline-INITIAL_FORMS": "1",
            "timeline-MIN_NUM_FORMS": "0",
            "timeline-MAX_NUM_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == (
        Status.PENDING,
        "high",
        records["agent"],
    )
    changes = TimelineEntry.objects.filter(ticket=ticket).exclude(kind=EntryKind.INTERNAL_NOTE)
    assert {(entry.kind, entry.author) for entry in changes} == {
        (EntryKind.STATUS_CHANGE, admin_user),
        (EntryKind.PRIORITY_CHANGE, admin_user),
        (EntryKind.ASSIGNMENT_CHANGE, admin_user),
    }


def test_only_agents_can_be_picked_as_assignee_in_the_admin(admin_client, records):
    UserFactory(username="carol_customer")

    page = admin_client.get(reverse("admin:tickets_ticket_change", args=[records["ticket"].pk]))

    assert ">alice<" in page.content.decode()
    assert "carol_customer" not in page.content.decode()


def test_a_team_page_picks_members_with_a_two_pane_selector(admin_client, records):
    page = admin_client.get(reverse("admin:tickets_team_change", args=[records["team"].pk]))

    assert b"SelectFilter2.js" in page.content


@pytest.mark.parametrize(
    "model",
    [WebhookEvent, Payment, Dispute, Refund, Ticket, TimelineEntry],
)
def test_the_audit_trail_cannot_be_deleted_in_the_admin(admin_client, records, model):
    obj = model.objects.first()
    opts = model._meta

    response = admin_client.get(f"/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/delete/")

    assert response.status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()
