"""The chat's admin pages, and teams' business hours and holidays on the team's admin page."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from chat.attachments import attachment_store, attachment_url
from chat.faq import faq_best_match
from chat.identity import ChatIdentity
from chat.models import AgentPresence, AgentStatus, FaqArticle, Sender
from chat.services import conversation_start, customer_message_receive
from tests.chat.test_attachments import PNG
from tests.factories import AgentFactory
from tickets.models import BusinessHours, Holiday, Team, Weekday

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(settings, tmp_path, support_team):
    settings.MEDIA_ROOT = tmp_path
    article = FaqArticle.objects.create(
        language="en",
        title="Why was my card declined?",
        keywords="declined refused card",
        body="Most declines come from your bank.",
    )
    conversation, _ = conversation_start(
        identity=ChatIdentity(email="dana@example.com", name="Dana"), language="en"
    )
    attachment = attachment_store(
        conversation=conversation,
        upload=SimpleUploadedFile("bank-letter.png", PNG),
        uploaded_by=Sender.CUSTOMER,
    )
    customer_message_receive(
        conversation=conversation,
        body="Here is the letter from my bank",
        client_id="c1",
        attachment_id=attachment.pk,
    )
    agent = AgentFactory(username="alice", team=support_team)
    presence = AgentPresence.objects.create(user=agent, status=AgentStatus.AWAY)
    return {
        "faqarticle": article,
        "conversation": conversation,
        "attachment": attachment,
        "agentpresence": presence,
    }


PAGES = [
    ("faqarticle", "Why was my card declined?"),
    ("conversation", "dana@example.com"),
    ("attachment", "bank-letter.png"),
    ("agentpresence", "alice"),
]


@pytest.mark.parametrize(("model", "shown"), PAGES)
def test_every_chat_changelist_loads_and_lists_its_records(admin_client, records, model, shown):
    response = admin_client.get(reverse(f"admin:chat_{model}_changelist"))

    assert response.status_code == 200
    assert shown in response.content.decode()


@pytest.mark.parametrize(("model", "shown"), PAGES)
def test_every_chat_change_page_loads(admin_client, records, model, shown):
    url = reverse(f"admin:chat_{model}_change", args=[records[model].pk])

    response = admin_client.get(url)

    assert response.status_code == 200
    assert shown in response.content.decode()


def test_a_conversation_shows_its_messages_and_its_ticket_but_cannot_be_changed(
    admin_client, records
):
    conversation = records["conversation"]

    page = admin_client.get(reverse("admin:chat_conversation_change", args=[conversation.pk]))

    html = page.content.decode()
    assert "Here is the letter from my bank" in html
    assert reverse("tickets:detail", args=[conversation.ticket_id]) in html
    assert reverse("admin:tickets_ticket_change", args=[conversation.ticket_id]) in html
    assert 'name="_save"' not in html
    assert admin_client.get(reverse("admin:chat_conversation_add")).status_code == 403


def test_an_attachment_page_links_to_the_file(admin_client, records):
    attachment = records["attachment"]

    page = admin_client.get(reverse("admin:chat_attachment_change", args=[attachment.pk]))

    assert attachment_url(attachment) in page.content.decode()
    assert b'name="_save"' not in page.content


def test_an_faq_article_written_in_the_admin_answers_customers(admin_client):
    response = admin_client.post(
        reverse("admin:chat_faqarticle_add"),
        {
            "language": "el",
            "title": "Πότε θα γίνει η επιστροφή των χρημάτων μου;",
            "keywords": "επιστροφή χρήματα πίσω",
            "body": "Τα χρήματα εμφανίζονται σε 5 έως 10 εργάσιμες ημέρες.",
            "published": "on",
        },
    )

    assert response.status_code == 302
    article = FaqArticle.objects.get()
    assert article.language == "el"
    assert faq_best_match("Πότε θα πάρω πίσω τα χρήματά μου;", "el") == article


def test_articles_are_unpublished_from_the_list(admin_client, records):
    article = records["faqarticle"]

    admin_client.post(
        reverse("admin:chat_faqarticle_changelist"),
        {"action": "unpublish", "_selected_action": [article.pk]},
    )

    article.refresh_from_db()
    assert article.published is False
    assert faq_best_match("my card was declined", "en") is None


def test_the_faq_list_filters_by_language(admin_client, records):
    FaqArticle.objects.create(language="fa", title="چرا کارت من رد شد؟", body="…")

    page = admin_client.get(reverse("admin:chat_faqarticle_changelist"), {"language__exact": "fa"})

    assert "چرا کارت من رد شد؟" in page.content.decode()
    assert "Why was my card declined?" not in page.content.decode()


# Business hours on the team's page -----------------------------------------------------------


def team_form(team: Team, **changes: str) -> dict[str, str]:
    data = {
        "name": team.name,
        "time_zone": "Europe/Athens",
        "members": [str(pk) for pk in team.members.values_list("pk", flat=True)],
        "business_hours-TOTAL_FORMS": "1",
        "business_hours-INITIAL_FORMS": "0",
        "business_hours-0-weekday": str(Weekday.MONDAY),
        "business_hours-0-opens": "09:00",
        "business_hours-0-closes": "17:00",
        "holidays-TOTAL_FORMS": "1",
        "holidays-INITIAL_FORMS": "0",
        "holidays-0-date": "2026-03-25",
        "holidays-0-name": "Independence Day",
    }
    return data | changes


def test_a_teams_business_hours_and_holidays_are_edited_on_its_page(admin_client, support_team):
    url = reverse("admin:tickets_team_change", args=[support_team.pk])
    assert "business_hours-TOTAL_FORMS" in admin_client.get(url).content.decode()

    response = admin_client.post(url, team_form(support_team))

    assert response.status_code == 302
    hours = BusinessHours.objects.get(team=support_team)
    assert (hours.weekday, hours.opens, hours.closes) == (0, datetime.time(9), datetime.time(17))
    assert Holiday.objects.get(team=support_team).date == datetime.date(2026, 3, 25)
    support_team.refresh_from_db()
    assert support_team.time_zone == "Europe/Athens"


def test_a_misspelt_time_zone_is_refused(admin_client, support_team):
    url = reverse("admin:tickets_team_change", args=[support_team.pk])

    response = admin_client.post(url, team_form(support_team, time_zone="Europe/Athen"))

    assert response.status_code == 200
    assert "Not a time zone" in response.content.decode()
    assert not BusinessHours.objects.exists()
