"""The notification pages through HTTP: the agent's list, the bell, the settings, and the two
pages customers reach from an email (unsubscribe and the satisfaction survey)."""

import re

import pytest
from django.core import mail, signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.emails import unsubscribe_url
from notifications.models import (
    AgentPreferences,
    Channel,
    Kind,
    Notification,
    SatisfactionRating,
    Status,
    Unsubscribe,
)
from notifications.texts import RATING_SALT, rating_token
from tests.factories import CustomerFactory, TicketFactory
from tickets.models import EntryKind
from tickets.services import ticket_add_entry, ticket_update

pytestmark = pytest.mark.django_db

LIST = reverse("notifications:list")
READ_ALL = reverse("notifications:read_all")
SETTINGS = reverse("notifications:preferences")
QUEUE = reverse("tickets:queue")
BELL_COUNT = re.compile(
    r'<span class="notification-count" id="notification-count"( hidden)?>(\d+)<'
)


def open_url(notice: Notification) -> str:
    return reverse("notifications:open", args=[notice.pk])


def bell(page: str) -> tuple[bool, int]:
    """(whether the bell's count is shown, the count) in a page's top bar."""
    match = BELL_COUNT.search(page)
    assert match, "the top bar has no bell"
    return match.group(1) is None, int(match.group(2))


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def rate_url(ticket) -> str:
    return reverse("notifications:rate", args=[rating_token(ticket.pk)])


@pytest.fixture
def as_sam(client, sam):
    client.force_login(sam)
    return client


@pytest.fixture
def ticket(team):
    return TicketFactory(team=team, subject="Card declined twice")


# Who may open what ----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, sam, ticket, make_notice):
    notice = make_notice(sam, ticket)
    for method, url in (
        ("get", LIST),
        ("get", open_url(notice)),
        ("get", SETTINGS),
        ("post", READ_ALL),
        ("post", SETTINGS),
    ):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login")), url
    notice.refresh_from_db()
    assert notice.read_at is None


def test_a_customer_account_cannot_open_the_notification_pages(
    client, customer_user, ticket, make_notice
):
    notice = make_notice(customer_user, ticket)
    client.force_login(customer_user)

    assert client.get(LIST).status_code == 403
    assert client.get(open_url(notice)).status_code == 403
    assert client.get(SETTINGS).status_code == 403
    assert client.post(SETTINGS, {"email_kinds": [Kind.SLA_BREACHED]}).status_code == 403
    assert client.post(READ_ALL).status_code == 403
    notice.refresh_from_db()
    assert notice.read_at is None


def test_the_list_shows_only_the_agents_own_notices_in_the_app(as_sam, sam, lee, team, make_notice):
    make_notice(sam, TicketFactory(team=team, subject="Sam's dispute"))
    make_notice(lee, TicketFactory(team=team, subject="Lee's refund"))
    make_notice(sam, TicketFactory(team=team, subject="Sam's email copy"), channel=Channel.EMAIL)
    make_notice(sam, TicketFactory(team=team, subject="Not delivered yet"), status=Status.PENDING)

    page = as_sam.get(LIST).content.decode()

    assert "Sam&#x27;s dispute" in page
    assert "Lee&#x27;s refund" not in page
    assert "Sam&#x27;s email copy" not in page
    assert "Not delivered yet" not in page


def test_another_agents_notice_is_not_found_even_by_its_id(as_sam, sam, lee, ticket, make_notice):
    leas = make_notice(lee, ticket)
    sams_email = make_notice(sam, ticket, channel=Channel.EMAIL)

    assert as_sam.get(open_url(leas)).status_code == 404
    assert as_sam.get(open_url(sams_email)).status_code == 404
    leas.refresh_from_db()
    assert leas.read_at is None


def test_an_empty_list_says_what_will_show_up_there(as_sam):
    page = as_sam.get(LIST).content.decode()

    assert "Nothing yet." in page
    assert bell(page) == (False, 0)


def test_older_notices_are_on_the_next_page(as_sam, sam, team, make_notice):
    oldest = make_notice(sam, TicketFactory(team=team, subject="The very first one"))
    for _n in range(30):
        make_notice(sam, TicketFactory(team=team))

    first = as_sam.get(LIST).content.decode()
    second = as_sam.get(LIST, {"page": 2}).content.decode()

    assert "The very first one" not in first
    assert "Page 1 of 2" in first
    assert f'data-notification="{oldest.pk}"' in second


# Reading notices ------------------------------------------------------------------------------


def test_opening_a_notice_marks_it_read_and_leads_to_its_ticket(as_sam, sam, ticket, make_notice):
    notice = make_notice(sam, ticket)
    other = make_notice(sam, TicketFactory(team=ticket.team))

    response = as_sam.get(open_url(notice))

    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:detail", args=[ticket.pk])
    notice.refresh_from_db()
    other.refresh_from_db()
    assert notice.read_at is not None
    assert other.read_at is None
    assert bell(as_sam.get(LIST).content.decode()) == (True, 1)


def test_a_notice_whose_ticket_is_gone_leads_back_to_the_list(as_sam, sam, ticket, make_notice):
    notice = make_notice(sam, ticket)
    ticket.delete()

    response = as_sam.get(open_url(notice))

    assert response.status_code == 302
    assert response["Location"] == LIST


def test_mark_all_as_read_zeroes_the_bell_and_leaves_colleagues_notices_alone(
    as_sam, sam, lee, team, make_notice
):
    for _n in range(2):
        make_notice(sam, TicketFactory(team=team))
    leas = make_notice(lee, TicketFactory(team=team))
    before = as_sam.get(LIST).content.decode()
    assert bell(before) == (True, 2)
    assert before.count('class="notification unread"') == 2

    response = as_sam.post(READ_ALL, follow=True)

    page = response.content.decode()
    assert response.redirect_chain == [(LIST, 302)]
    assert bell(page) == (False, 0)
    assert 'class="notification unread"' not in page
    leas.refresh_from_db()
    assert leas.read_at is None


def test_mark_all_as_read_is_a_post(as_sam):
    assert as_sam.get(READ_ALL).status_code == 405


# The bell -------------------------------------------------------------------------------------


def test_the_queue_top_bar_shows_the_agents_unread_count(as_sam, sam, lee, team, make_notice):
    assert bell(as_sam.get(QUEUE).content.decode()) == (False, 0)

    for _n in range(3):
        make_notice(sam, TicketFactory(team=team))
    make_notice(sam, TicketFactory(team=team), read=True)
    make_notice(sam, TicketFactory(team=team), channel=Channel.EMAIL)
    make_notice(sam, TicketFactory(team=team), status=Status.FAILED)
    make_notice(lee, TicketFactory(team=team))

    page = as_sam.get(QUEUE).content.decode()

    assert bell(page) == (True, 3)
    assert 'aria-label="Notifications (3)"' in page


def test_an_assignment_by_a_colleague_lights_the_assignees_bell(
    as_sam, sam, lee, ticket, on_commit
):
    with on_commit():
        ticket_update(ticket=ticket, actor=lee, assignee=sam)

    assert bell(as_sam.get(QUEUE).content.decode()) == (True, 1)
    page = as_sam.get(LIST).content.decode()
    assert f"Ticket #{ticket.pk} was assigned to you: Card declined twice" in page


# Settings -------------------------------------------------------------------------------------


def test_the_settings_page_starts_with_the_default_email_choices(as_sam):
    page = as_sam.get(SETTINGS).content.decode()

    checked = set(re.findall(r'value="(\w+)"[^>]*checked', page))
    assert checked == {
        Kind.TICKET_ASSIGNED,
        Kind.URGENT_TICKET,
        Kind.SLA_BREACHED,
        Kind.DISPUTE_DEADLINE_72H,
        Kind.DISPUTE_DEADLINE_24H,
    }


def test_saved_settings_change_what_is_emailed_next(as_sam, sam, lee, team, on_commit):
    response = as_sam.post(SETTINGS, {"email_kinds": [Kind.CUSTOMER_REPLIED]}, follow=True)

    assert response.redirect_chain == [(SETTINGS, 302)]
    page = response.content.decode()
    assert "Your notification settings have been saved." in page
    assert set(re.findall(r'value="(\w+)"[^>]*checked', page)) == {Kind.CUSTOMER_REPLIED}

    ticket = TicketFactory(team=team)
    with on_commit():
        ticket_update(ticket=ticket, actor=lee, assignee=sam)
    assert mail.outbox == []  # no assignment email any more
    assert Notification.objects.filter(user=sam, channel=Channel.IN_APP).count() == 1

    with on_commit():
        ticket_add_entry(ticket=ticket, kind=EntryKind.CUSTOMER_MESSAGE, body="Any news?")
    (message,) = mail.outbox
    assert message.to == ["sam@paydesk.test"]
    assert f"replied on ticket #{ticket.pk}" in message.subject


def test_switching_every_email_off_is_saved_too(as_sam, sam, lee, ticket, on_commit):
    as_sam.post(SETTINGS, {})

    with on_commit():
        ticket_update(ticket=ticket, actor=lee, assignee=sam)
    assert mail.outbox == []
    assert re.findall(r'value="(\w+)"[^>]*checked', as_sam.get(SETTINGS).content.decode()) == []


def test_a_kind_that_is_not_an_agents_notice_is_refused(as_sam, sam):
    response = as_sam.post(SETTINGS, {"email_kinds": [Kind.TICKET_ASSIGNED, Kind.DAILY_DIGEST]})

    assert response.status_code == 400
    assert "daily_digest is not one of the available choices" in response.content.decode()
    assert not AgentPreferences.objects.filter(user=sam).exists()


# Headlines are text ---------------------------------------------------------------------------


def test_a_subject_with_markup_is_shown_as_text_on_the_list_and_in_the_email(
    as_sam, sam, lee, team, on_commit
):
    ticket = TicketFactory(team=team, subject="<script>alert(1)</script>")
    with on_commit():
        ticket_update(ticket=ticket, actor=lee, assignee=sam)

    page = as_sam.get(LIST).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    (message,) = mail.outbox
    assert message.subject.endswith(": <script>alert(1)</script>")  # plain text, as typed
    html = message.alternatives[0][0]
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "notification-bell" not in html


# The list's queries ---------------------------------------------------------------------------


def test_the_list_costs_the_same_queries_for_3_notices_as_for_30(
    as_sam, sam, team, make_notice, django_assert_num_queries
):
    for _n in range(3):
        make_notice(sam, TicketFactory(team=team))
    as_sam.get(LIST)  # warm up: the session, the user's profile
    with CaptureQueriesContext(connection) as few:
        assert as_sam.get(LIST).status_code == 200

    for _n in range(27):
        make_notice(sam, TicketFactory(team=team))
    with django_assert_num_queries(len(few.captured_queries)):
        page = as_sam.get(LIST).content.decode()
    assert page.count('class="notification unread"') == 30


# Unsubscribing --------------------------------------------------------------------------------


def test_unsubscribing_needs_no_login_and_shows_no_agent_chrome(client):
    path = path_of(unsubscribe_url("Ana@Example.com"))

    page = client.get(path)

    assert page.status_code == 200
    text = page.content.decode()
    assert "ana@example.com" in text
    assert_public_page(text)
    done = client.post(path)
    assert done.status_code == 200
    assert "will get no more payment alerts" in done.content.decode()
    assert Unsubscribe.objects.filter(email="ana@example.com").exists()


def test_an_agent_signed_in_sees_the_customer_page_without_chrome(as_sam, ticket):
    assert_public_page(as_sam.get(path_of(unsubscribe_url("ana@example.com"))).content.decode())
    assert_public_page(as_sam.get(rate_url(ticket)).content.decode())


def test_a_forged_unsubscribe_link_is_refused_with_a_clear_message(client):
    forged = signing.dumps("ana@example.com", salt="another.purpose", compress=True)
    for path in (
        reverse("notifications:unsubscribe", args=["not-a-token"]),
        reverse("notifications:unsubscribe", args=[forged]),
    ):
        for method in (client.get, client.post):
            response = method(path)
            assert response.status_code == 400
            assert "This unsubscribe link is not valid." in response.content.decode()
    assert not Unsubscribe.objects.exists()


def test_unsubscribing_twice_is_fine(client):
    path = path_of(unsubscribe_url("ana@example.com"))

    assert client.post(path).status_code == 200
    assert client.post(path).status_code == 200
    assert Unsubscribe.objects.count() == 1


# Rating ---------------------------------------------------------------------------------------


def test_the_survey_needs_no_login_and_shows_no_agent_chrome(client, ticket):
    page = client.get(rate_url(ticket))

    assert page.status_code == 200
    text = page.content.decode()
    assert f"Your request #{ticket.pk}" in text
    assert_public_page(text)


def test_the_rating_picked_in_the_email_is_preselected(client, ticket):
    page = client.get(rate_url(ticket), {"rating": "4"}).content.decode()

    assert re.search(r'value="4"[^>]*checked', page)


@pytest.mark.parametrize(
    "token",
    [
        "forged-token",
        signing.dumps(1, salt="another.purpose"),
        signing.dumps("1", salt=RATING_SALT),  # not a ticket id
    ],
)
def test_a_bad_survey_link_is_refused_with_a_clear_message(client, ticket, token):
    for response in (
        client.get(reverse("notifications:rate", args=[token])),
        client.post(reverse("notifications:rate", args=[token]), {"rating": "5"}),
    ):
        assert response.status_code == 400
        assert "This rating link is not valid or has expired." in response.content.decode()
    assert not SatisfactionRating.objects.exists()


def test_a_survey_link_for_a_ticket_that_is_gone_is_refused(client, ticket):
    url = rate_url(ticket)
    ticket.delete()

    assert client.get(url).status_code == 400


def test_an_expired_survey_link_is_refused(client, ticket, settings):
    url = rate_url(ticket)
    settings.CSAT_LINK_MAX_AGE_DAYS = 0

    response = client.post(url, {"rating": "5"})

    assert response.status_code == 400
    assert not SatisfactionRating.objects.exists()


@pytest.mark.parametrize("rating", ["0", "6", "-1", "4.5", "five", ""])
def test_a_rating_outside_1_to_5_is_refused_and_nothing_is_stored(client, ticket, rating):
    response = client.post(rate_url(ticket), {"rating": rating, "comment": "Hmm"})

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not SatisfactionRating.objects.exists()
    assert not ticket.timeline.filter(body__contains="rated the support").exists()


def test_rating_again_changes_the_one_rating(client, ticket):
    client.post(rate_url(ticket), {"rating": "2", "comment": "Slow"})

    page = client.get(rate_url(ticket)).content.decode()
    assert re.search(r'value="2"[^>]*checked', page)
    assert "Slow</textarea>" in page

    assert client.post(rate_url(ticket), {"rating": "5", "comment": ""}).status_code == 200

    (rating,) = SatisfactionRating.objects.all()
    assert (rating.ticket, rating.rating, rating.comment) == (ticket, 5, "")


def test_a_card_number_in_the_comment_is_masked_before_it_is_stored(client, ticket):
    client.post(
        rate_url(ticket), {"rating": "3", "comment": "Charged twice on 4242 4242 4242 4242!"}
    )

    rating = SatisfactionRating.objects.get(ticket=ticket)
    assert "4242 4242 4242 4242" not in rating.comment
    assert "4242424242424242" not in rating.comment
    assert rating.comment.startswith("Charged twice on 424242")
    assert rating.comment.endswith("4242!")
    entry = ticket.timeline.get(body__contains="rated the support 3/5")
    assert "4242 4242 4242 4242" not in entry.body


def test_the_survey_works_for_a_ticket_of_any_customer(client, team):
    ticket = TicketFactory(team=team, customer=CustomerFactory(email="maria@example.gr"))

    assert client.post(rate_url(ticket), {"rating": "1"}).status_code == 200
    assert SatisfactionRating.objects.get(ticket=ticket).rating == 1


def assert_public_page(page: str) -> None:
    """A customer page: none of the workspace's top bar, links or scripts."""
    for chrome in (
        'class="topbar"',
        "notification-bell",
        "Log out",
        reverse("tickets:queue"),
        "live.js",
    ):
        assert chrome not in page, chrome


def test_a_live_refresh_of_the_queue_does_not_count_notifications(as_sam, sam, team, make_notice):
    make_notice(sam, TicketFactory(team=team))
    as_sam.get(QUEUE)
    with CaptureQueriesContext(connection) as refresh:
        response = as_sam.get(QUEUE, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="queue-results")

    assert "notification-bell" not in response.content.decode()
    assert not [q for q in refresh.captured_queries if "notifications_notification" in q["sql"]]
