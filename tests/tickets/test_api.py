"""The JSON API under /api/, used over HTTP as agents, admins and strangers would use it."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from payments.models import (
    Dispute,
    EventOutcome,
    PaymentStatus,
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
from tickets.api import ERROR_ASSIGNEE_NOT_AGENT
from tickets.models import EntryKind, Priority, Reason, Status, Ticket
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db

TICKETS = "/api/tickets/"
PAYMENTS = "/api/payments/"
EVENTS = "/api/webhook-events/"


def ticket_url(ticket) -> str:
    return f"{TICKETS}{ticket.pk}/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


# Who may use the API ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", [TICKETS, PAYMENTS, EVENTS, "/api/schema/"])
def test_an_anonymous_visitor_is_refused(api_as, url):
    assert api_as(None).get(url).status_code in (401, 403)


@pytest.mark.parametrize("url", [TICKETS, PAYMENTS, EVENTS, "/api/schema/"])
def test_a_user_who_is_neither_staff_nor_on_a_team_is_refused(api_as, customer_user, url):
    assert api_as(customer_user).get(url).status_code == 403


def test_a_user_who_is_not_an_agent_cannot_reply_to_a_ticket(api_as, customer_user, team):
    ticket = TicketFactory(team=team)

    response = api_as(customer_user).post(f"{ticket_url(ticket)}replies/", {"body": "Hi"})

    assert response.status_code == 403
    assert not ticket.timeline.exists()


def test_an_agent_sees_only_tickets_of_their_team(api_as, agent, team):
    mine = TicketFactory(team=team)
    TicketFactory(team=TeamFactory(name="Wallets"))

    assert ids(api_as(agent).get(TICKETS)) == [mine.pk]


def test_an_admin_sees_every_ticket(api_as, admin, team):
    tickets = [TicketFactory(team=team), TicketFactory(team=TeamFactory(name="Wallets"))]

    assert sorted(ids(api_as(admin).get(TICKETS))) == sorted(t.pk for t in tickets)


def test_an_agent_of_another_team_cannot_open_change_or_reply_to_a_ticket(api_as, outsider, team):
    ticket = TicketFactory(team=team)
    client = api_as(outsider)

    assert client.get(ticket_url(ticket)).status_code == 404
    assert client.patch(ticket_url(ticket), {"status": "solved"}).status_code == 404
    assert client.post(f"{ticket_url(ticket)}replies/", {"body": "Hi"}).status_code == 404
    assert client.post(f"{ticket_url(ticket)}notes/", {"body": "Hm"}).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert not ticket.timeline.exists()


def test_a_ticket_that_does_not_exist_is_a_404(api_as, admin):
    assert api_as(admin).get(f"{TICKETS}999999/").status_code == 404
    assert api_as(admin).get(f"{TICKETS}abc/").status_code == 404


def test_an_agent_can_use_a_token_instead_of_a_session(api_as, agent, team):
    ticket = TicketFactory(team=team)
    token = Token.objects.create(user=agent)

    response = api_as(None).get(TICKETS, HTTP_AUTHORIZATION=f"Token {token.key}")

    assert ids(response) == [ticket.pk]


def test_webhook_events_are_for_admins_only(api_as, agent, admin):
    assert api_as(agent).get(EVENTS).status_code == 403
    assert api_as(admin).get(EVENTS).status_code == 200


# The list --------------------------------------------------------------------------------------


def test_a_list_item_shows_the_customer_the_payments_and_who_works_on_it(api_as, agent, team):
    customer = CustomerFactory(email="dana@example.com", name="Dana Scully")
    payment = PaymentFactory(
        customer=customer, provider_payment_id="pi_3Abc", amount_minor=12_550, currency="EUR"
    )
    TicketFactory(
        team=team, customer=customer, payments=[payment], assignee=agent, subject="Card declined"
    )

    [item] = api_as(agent).get(TICKETS).json()["results"]

    assert item["subject"] == "Card declined"
    assert item["status"] == "new"
    assert item["team"] == {"id": team.pk, "name": "Card payments"}
    assert item["assignee"] == {"id": agent.pk, "username": "alice"}
    assert item["customer"] == {
        "id": customer.pk,
        "email": "dana@example.com",
        "name": "Dana Scully",
    }
    assert item["payments"] == [
        {
            "id": payment.pk,
            "provider": "stripe",
            "provider_payment_id": "pi_3Abc",
            "amount_minor": 12_550,
            "currency": "EUR",
            "status": "failed",
        }
    ]
    assert item["first_response_at"] is None
    assert "timeline" not in item


@pytest.fixture
def assorted_tickets(team):
    """Tickets alike but for one thing each, named by that thing."""
    TicketFactory(team=team, subject="plain", payments=[PaymentFactory()])
    TicketFactory(team=team, subject="pending", status=Status.PENDING)
    TicketFactory(team=team, subject="urgent", priority=Priority.URGENT)
    TicketFactory(team=team, subject="dispute", reason=Reason.DISPUTE)
    TicketFactory(
        team=team,
        subject="paypal",
        payments=PaymentFactory.create_batch(2, provider=Provider.PAYPAL),
    )
    TicketFactory(
        team=team, subject="mallory", customer=CustomerFactory(email="mallory@example.com")
    )


@pytest.mark.parametrize(
    ("params", "subject"),
    [
        ({"status": "pending"}, "pending"),
        ({"priority": "urgent"}, "urgent"),
        ({"reason": "dispute"}, "dispute"),
        ({"provider": "paypal"}, "paypal"),
        ({"customer_email": "MALLORY@example.com"}, "mallory"),
    ],
)
def test_the_list_filters_by(api_as, agent, assorted_tickets, params, subject):
    response = api_as(agent).get(TICKETS, params)

    assert [item["subject"] for item in response.json()["results"]] == [subject]


def test_the_list_filters_by_team(api_as, admin, team):
    TicketFactory(team=team)
    wallets = TeamFactory(name="Wallets")
    theirs = TicketFactory(team=wallets)

    assert ids(api_as(admin).get(TICKETS, {"team": wallets.pk})) == [theirs.pk]


def test_the_assignee_filter_takes_an_id_me_or_none(api_as, agent, team):
    colleague = AgentFactory(team=team)
    mine = TicketFactory(team=team, assignee=agent)
    theirs = TicketFactory(team=team, assignee=colleague)
    nobodys = TicketFactory(team=team, assignee=None)
    client = api_as(agent)

    assert ids(client.get(TICKETS, {"assignee": "me"})) == [mine.pk]
    assert ids(client.get(TICKETS, {"assignee": "none"})) == [nobodys.pk]
    assert ids(client.get(TICKETS, {"assignee": colleague.pk})) == [theirs.pk]
    assert client.get(TICKETS, {"assignee": "someone"}).status_code == 400


@pytest.mark.parametrize("q", ["refund never", "ZOE@EXAMPLE", "Zoe Washburne", "pi_3Zoe"])
def test_free_text_search_finds_a_ticket_by_subject_customer_or_payment_id(api_as, agent, team, q):
    TicketFactory(team=team, subject="Something else", payments=[PaymentFactory()])
    zoe = CustomerFactory(email="zoe@example.com", name="Zoe Washburne")
    wanted = TicketFactory(
        team=team,
        subject="My refund never arrived",
        customer=zoe,
        payments=[PaymentFactory(provider_payment_id="pi_3Zoe42", customer=zoe)],
    )

    assert ids(api_as(agent).get(TICKETS, {"q": q})) == [wanted.pk]


def test_tickets_can_be_ordered_by_urgency(api_as, agent, team):
    low = TicketFactory(team=team, priority=Priority.LOW)
    urgent = TicketFactory(team=team, priority=Priority.URGENT)
    normal = TicketFactory(team=team, priority=Priority.NORMAL)
    high = TicketFactory(team=team, priority=Priority.HIGH)

    most_urgent_first = ids(api_as(agent).get(TICKETS, {"ordering": "-priority"}))

    assert most_urgent_first == [urgent.pk, high.pk, normal.pk, low.pk]


def test_ordering_by_due_date_puts_tickets_without_one_last(api_as, agent, team):
    now = timezone.now()
    undated = TicketFactory(team=team, due_at=None)
    later = TicketFactory(team=team, due_at=now + timedelta(days=2))
    sooner = TicketFactory(team=team, due_at=now + timedelta(hours=3))

    assert ids(api_as(agent).get(TICKETS, {"ordering": "due_at"})) == [
        sooner.pk,
        later.pk,
        undated.pk,
    ]


def test_an_unknown_filter_value_is_refused_with_a_400(api_as, agent):
    response = api_as(agent).get(TICKETS, {"status": "sleeping", "ordering": "subject"})

    assert response.status_code == 400
    assert set(response.json()) == {"status", "ordering"}


def test_pages_hold_50_tickets_unless_asked_for_more_up_to_200(api_as, admin, team):
    Ticket.objects.bulk_create(Ticket(team=team, subject=f"#{n}") for n in range(201))
    client = api_as(admin)

    default = client.get(TICKETS).json()
    assert (default["count"], len(default["results"])) == (201, 50)
    assert len(ids(client.get(TICKETS, {"page_size": 120}))) == 120
    assert len(ids(client.get(TICKETS, {"page_size": 5000}))) == 200
    last = client.get(TICKETS, {"page_size": 200, "page": 2}).json()
    assert (last["next"], len(last["results"])) == (None, 1)


def test_the_list_runs_the_same_number_of_queries_for_5_tickets_as_for_30(
    api_as, agent, team, django_assert_num_queries
):
    # session, user, "is an agent", count, tickets with customer/team/assignee, their payments,
    # their tags
    list_queries = 7

    def add_tickets(count: int) -> None:
        for _ in range(count):
            customer = CustomerFactory()
            TicketFactory(
                team=team,
                customer=customer,
                assignee=AgentFactory(team=team),
                payments=PaymentFactory.create_batch(2, customer=customer),
            )

    client = api_as(agent)
    add_tickets(5)
    with django_assert_num_queries(list_queries):
        assert len(ids(client.get(TICKETS, {"page_size": 200}))) == 5

    add_tickets(25)
    with django_assert_num_queries(list_queries):
        assert len(ids(client.get(TICKETS, {"page_size": 200}))) == 30


# One ticket ------------------------------------------------------------------------------------


def test_the_detail_shows_the_timeline_with_its_authors(api_as, agent, team):
    ticket = ticket_create(subject="Card declined", reason=Reason.PAYMENT_FAILED, team=team)
    client = api_as(agent)
    client.post(f"{ticket_url(ticket)}notes/", {"body": "Customer called"})

    detail = client.get(ticket_url(ticket)).json()

    assert detail["subject"] == "Card declined"
    opened, note = detail["timeline"]
    assert (opened["kind"], opened["author"]) == (EntryKind.TICKET_CREATED, None)
    assert (note["kind"], note["author"]) == (EntryKind.INTERNAL_NOTE, "alice")
    assert note["body"] == "Customer called"
    assert note["public"] is False
    assert note["data"] == {}


def test_changing_the_status_is_recorded_on_the_timeline_with_its_author(api_as, agent, team):
    ticket = TicketFactory(team=team)

    response = api_as(agent).patch(ticket_url(ticket), {"status": "solved"})

    assert response.status_code == 200
    detail = response.json()
    assert detail["status"] == "solved"
    assert detail["solved_at"] is not None
    [entry] = detail["timeline"]
    assert entry["kind"] == EntryKind.STATUS_CHANGE
    assert entry["author"] == "alice"
    assert entry["data"] == {"from": "new", "to": "solved"}


def test_an_agent_assigns_a_ticket_to_a_colleague_and_back_to_nobody(api_as, agent, team):
    colleague = AgentFactory(username="bob", first_name="Bob", last_name="Berg", team=team)
    ticket = TicketFactory(team=team)
    client = api_as(agent)

    assigned = client.patch(ticket_url(ticket), {"assignee": colleague.pk}, format="json").json()
    assert assigned["assignee"] == {"id": colleague.pk, "username": "bob"}

    unassigned = client.patch(ticket_url(ticket), {"assignee": None}, format="json").json()
    assert unassigned["assignee"] is None
    assert [entry["body"] for entry in unassigned["timeline"]] == [
        "Assigned to Bob Berg",
        "Assigned to nobody",
    ]


def test_a_ticket_cannot_be_assigned_to_someone_who_is_not_an_agent(
    api_as, agent, customer_user, team
):
    ticket = TicketFactory(team=team)

    response = api_as(agent).patch(ticket_url(ticket), {"assignee": customer_user.pk})

    assert response.status_code == 400
    assert response.json() == {"assignee": [ERROR_ASSIGNEE_NOT_AGENT]}
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_an_admin_changes_priority_and_team_in_one_request(api_as, admin, team):
    wallets = TeamFactory(name="Wallets")
    ticket = TicketFactory(team=team)

    detail = (
        api_as(admin)
        .patch(ticket_url(ticket), {"priority": "high", "team": wallets.pk}, format="json")
        .json()
    )

    assert detail["priority"] == "high"
    assert detail["team"] == {"id": wallets.pk, "name": "Wallets"}
    assert [entry["kind"] for entry in detail["timeline"]] == [
        EntryKind.PRIORITY_CHANGE,
        EntryKind.TEAM_CHANGE,
    ]


def test_an_agent_hands_a_ticket_to_another_team_and_no_longer_sees_it(api_as, agent, team):
    wallets = TeamFactory(name="Wallets")
    ticket = TicketFactory(team=team)
    client = api_as(agent)

    response = client.patch(ticket_url(ticket), {"team": wallets.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["team"] == {"id": wallets.pk, "name": "Wallets"}
    assert client.get(ticket_url(ticket)).status_code == 404


def test_a_reply_is_public_and_sets_the_first_response_time(api_as, agent, team):
    ticket = TicketFactory(team=team)
    client = api_as(agent)

    response = client.post(f"{ticket_url(ticket)}replies/", {"body": "We are on it."})

    assert response.status_code == 201
    reply = response.json()
    assert reply["kind"] == EntryKind.AGENT_REPLY
    assert reply["public"] is True
    assert reply["author"] == "alice"
    detail = client.get(ticket_url(ticket)).json()
    assert detail["first_response_at"] is not None
    assert detail["status"] == "open"

    client.post(f"{ticket_url(ticket)}replies/", {"body": "Fixed now."})

    assert client.get(ticket_url(ticket)).json()["first_response_at"] == detail["first_response_at"]


def test_a_note_is_not_public_and_is_not_a_response(api_as, agent, team):
    ticket = TicketFactory(team=team)
    client = api_as(agent)

    response = client.post(f"{ticket_url(ticket)}notes/", {"body": "Looks like fraud."})

    assert response.status_code == 201
    assert response.json()["kind"] == EntryKind.INTERNAL_NOTE
    assert response.json()["public"] is False
    detail = client.get(ticket_url(ticket)).json()
    assert detail["first_response_at"] is None
    assert detail["status"] == "new"


def test_an_empty_reply_is_refused(api_as, agent, team):
    ticket = TicketFactory(team=team)

    response = api_as(agent).post(f"{ticket_url(ticket)}replies/", {"body": "  "})

    assert response.status_code == 400
    assert "body" in response.json()
    assert not ticket.timeline.exists()


# Payments and provider events ------------------------------------------------------------------


def test_an_agent_reads_a_payment_with_its_disputes_refunds_and_events(api_as, agent):
    payment = PaymentFactory(provider_payment_id="pi_3Dsp", status=PaymentStatus.DISPUTED)
    Dispute.objects.create(
        provider=Provider.STRIPE, provider_dispute_id="du_1", payment=payment, amount_minor=4_900
    )
    Refund.objects.create(
        provider=Provider.STRIPE,
        provider_refund_id="re_1",
        payment=payment,
        status=RefundStatus.FAILED,
    )
    event = WebhookEvent.objects.create(
        provider=Provider.STRIPE,
        event_id="evt_1",
        event_type="charge.dispute.created",
        body=b'{"secret": "raw"}',
        payment=payment,
        outcome=EventOutcome.PROCESSED,
    )

    detail = api_as(agent).get(f"{PAYMENTS}{payment.pk}/").json()

    assert detail["provider_payment_id"] == "pi_3Dsp"
    assert detail["status"] == "disputed"
    assert detail["dashboard_url"] == "https://dashboard.stripe.com/payments/pi_3Dsp"
    assert [d["provider_dispute_id"] for d in detail["disputes"]] == ["du_1"]
    assert [r["status"] for r in detail["refunds"]] == ["failed"]
    assert detail["events"] == [
        {
            "id": event.pk,
            "provider": "stripe",
            "event_type": "charge.dispute.created",
            "outcome": "processed",
            "received_at": detail["events"][0]["received_at"],
        }
    ]


def test_payments_can_be_filtered_by_provider(api_as, agent):
    PaymentFactory(provider=Provider.STRIPE)
    paypal = PaymentFactory(provider=Provider.PAYPAL)

    assert ids(api_as(agent).get(PAYMENTS, {"provider": "paypal"})) == [paypal.pk]


def test_an_admin_filters_webhook_events_and_reads_a_body_as_text(api_as, admin):
    def event(event_id, provider, event_type, outcome):
        return WebhookEvent.objects.create(
            provider=provider,
            event_id=event_id,
            event_type=event_type,
            outcome=outcome,
            body=f'{{"id": "{event_id}", "note": "café"}}'.encode(),
        )

    failed = event("evt_a", Provider.STRIPE, "charge.failed", EventOutcome.FAILED)
    event("evt_b", Provider.STRIPE, "charge.succeeded", EventOutcome.PROCESSED)
    event("WH-1", Provider.PAYPAL, "PAYMENT.CAPTURE.DENIED", EventOutcome.FAILED)
    client = api_as(admin)

    filters = {"provider": "stripe", "outcome": "failed", "event_type": "charge.failed"}
    assert ids(client.get(EVENTS, filters)) == [failed.pk]
    assert "body" not in client.get(EVENTS).json()["results"][0]
    detail = client.get(f"{EVENTS}{failed.pk}/").json()
    assert detail["body"] == '{"id": "evt_a", "note": "café"}'


# Documentation ---------------------------------------------------------------------------------


def test_an_agent_can_read_the_schema_and_the_docs_page(api_as, agent):
    client = api_as(agent)

    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/tickets/{id}/replies/" in schema.content
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


def test_a_stranger_is_not_an_agent_even_with_a_customer_record(api_as):
    # A customer's address on a ticket gives its owner no access to the API.
    customer = CustomerFactory(email="eve@example.com")
    TicketFactory(customer=customer)
    eve = UserFactory(username="eve", email="eve@example.com")

    assert api_as(eve).get(TICKETS).status_code == 403
