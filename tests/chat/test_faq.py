"""Instant answers from the knowledge base (the demo's articles in English, Greek and Persian).

The unmarked tests run on whatever database the suite runs on (SQLite's fallback in the embedded
run); the `services` copies of the tables prove PostgreSQL's full-text search gives the same
answers.
"""

import pytest

from chat.faq import MAX_QUESTION_WORDS, faq_best_match
from chat.identity import ChatIdentity
from chat.models import ChatMessage, ConversationStatus, FaqArticle, Sender
from chat.presence import connection_open
from chat.services import conversation_accept, conversation_start, customer_message_receive
from payments.management.commands.load_demo_data import DEMO_FAQ_ARTICLES
from tests.conftest import require_real_services
from tests.factories import AgentFactory
from tickets.models import EntryKind
from tickets.services import default_team

pytestmark = pytest.mark.django_db

DECLINED = "Why was my card declined?"
REFUND = "When will I get my refund?"
DISPUTE = "How do disputes and chargebacks work?"
SECURE = "3-D Secure: confirming a payment with your bank"
EL_DECLINED = "Γιατί απορρίφθηκε η κάρτα μου;"
EL_REFUND = "Πότε θα γίνει η επιστροφή των χρημάτων μου;"
EL_DISPUTE = "Πώς λειτουργούν οι αμφισβητήσεις και οι αντιλογισμοί χρεώσεων (chargeback);"
EL_SECURE = "3-D Secure: επιβεβαίωση πληρωμής με την τράπεζά σας"
FA_DECLINED = "چرا کارت من رد شد؟"
FA_REFUND = "بازگشت وجه چقدر طول می‌کشد؟"
FA_DISPUTE = "اعتراض به تراکنش (chargeback) چطور انجام می‌شود؟"
FA_SECURE = "3-D Secure: تأیید پرداخت با بانک"

MUST_MATCH = [
    ("en", "my card was declined", DECLINED),
    ("en", "Why did my payment fail?", DECLINED),
    ("en", "The shop refused my card, it says payment failed", DECLINED),
    ("en", "when will I get my refund", REFUND),
    ("en", "How long does a refund take?", REFUND),
    ("en", "I want to dispute a charge", DISPUTE),
    ("en", "There is a charge on my statement I don't recognise", DISPUTE),
    ("en", "What is 3D Secure?", SECURE),
    ("en", "My bank asks me for a code", SECURE),
    ("el", "Η κάρτα μου απορρίφθηκε", EL_DECLINED),
    ("el", "Γιατί απέτυχε η πληρωμή μου;", EL_DECLINED),
    ("el", "Πότε θα πάρω πίσω τα χρήματά μου;", EL_REFUND),
    ("el", "Πότε θα γίνει η επιστροφή χρημάτων;", EL_REFUND),
    ("el", "Υπάρχει μια χρέωση που δεν αναγνωρίζω", EL_DISPUTE),
    ("el", "Η τράπεζα μου ζητάει κωδικό επιβεβαίωσης", EL_SECURE),
    ("fa", "کارت من رد شد", FA_DECLINED),
    ("fa", "چرا پرداخت من ناموفق بود؟", FA_DECLINED),
    ("fa", "پولم کی برمی‌گردد؟", FA_REFUND),
    ("fa", "استرداد وجه چقدر طول می‌کشد؟", FA_REFUND),
    ("fa", "می‌خواهم به یک تراکنش اعتراض کنم", FA_DISPUTE),
    ("fa", "کد تایید پیامک نمی‌شود", FA_SECURE),
]

MUST_NOT_MATCH = [
    ("en", "hi"),
    ("en", "hello?"),
    ("en", "Thanks!"),
    ("en", "Do you ship to Canada?"),
    ("en", "I forgot my password"),
    ("en", "My card was stolen"),
    ("en", "Can I change the delivery address of my order?"),
    ("el", "Γεια σας"),
    ("el", "Καλησπέρα!"),
    ("el", "Στέλνετε παραγγελίες στην Κύπρο;"),
    ("el", "Ξέχασα τον κωδικό μου"),
    ("fa", "سلام"),
    ("fa", "سلام، وقت بخیر"),
    ("fa", "به کانادا هم ارسال دارید؟"),
    ("fa", "رمز عبور حسابم را فراموش کرده‌ام"),
]


@pytest.fixture
def knowledge_base():
    return [
        FaqArticle.objects.create(language=language, title=title, keywords=keywords, body=body)
        for language, title, keywords, body in DEMO_FAQ_ARTICLES
    ]


def answer(question: str, language: str) -> str | None:
    article = faq_best_match(question, language)
    return article.title if article else None


# The rule, on the suite's database ---------------------------------------------------------


@pytest.mark.parametrize(("language", "question", "title"), MUST_MATCH)
def test_a_question_the_knowledge_base_answers_gets_the_right_article(
    knowledge_base, language, question, title
):
    assert answer(question, language) == title


@pytest.mark.parametrize(("language", "question"), MUST_NOT_MATCH)
def test_greetings_and_unrelated_questions_get_no_article(knowledge_base, language, question):
    assert answer(question, language) is None


def test_only_articles_in_the_conversations_language_answer(knowledge_base):
    FaqArticle.objects.exclude(language="el").delete()

    assert answer("my card was declined", "en") is None
    assert answer("Η κάρτα μου απορρίφθηκε", "el") == EL_DECLINED


def test_an_unpublished_article_never_answers(knowledge_base):
    FaqArticle.objects.filter(title=DECLINED).update(published=False)

    assert answer("my card was declined", "en") is None


def test_an_article_that_mentions_the_words_only_in_passing_does_not_answer():
    FaqArticle.objects.create(
        language="en",
        title="Delivery times",
        keywords="shipping delivery",
        body="If your card was declined, your order ships once the payment goes through.",
    )

    assert answer("my card was declined", "en") is None


def test_a_long_account_of_a_problem_is_left_to_a_person(knowledge_base):
    story = "My card was declined. " + " ".join(f"word{n}" for n in range(MAX_QUESTION_WORDS))

    assert answer(story, "en") is None


# The same tables on PostgreSQL's full-text search --------------------------------------------


@pytest.mark.services
@pytest.mark.parametrize(("language", "question", "title"), MUST_MATCH)
def test_postgres_full_text_search_answers_with_the_right_article(
    knowledge_base, language, question, title
):
    require_real_services()
    assert answer(question, language) == title


@pytest.mark.services
@pytest.mark.parametrize(("language", "question"), MUST_NOT_MATCH)
def test_postgres_full_text_search_leaves_greetings_and_unrelated_questions_alone(
    knowledge_base, language, question
):
    require_real_services()
    assert answer(question, language) is None


# Through the chat ----------------------------------------------------------------------------


def start(language: str = "en"):
    conversation, _ = conversation_start(
        identity=ChatIdentity(email="ana@example.com"), language=language
    )
    return conversation


def test_a_first_message_the_knowledge_base_answers_gets_the_article(knowledge_base):
    conversation = start("el")

    _, caused = customer_message_receive(
        conversation=conversation, body="Η κάρτα μου απορρίφθηκε", client_id="c1"
    )

    assert [m.sender for m in caused] == [Sender.CUSTOMER, Sender.BOT]
    assert caused[1].article.title == EL_DECLINED
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.ANSWERED
    assert conversation.ticket.timeline.filter(
        kind=EntryKind.CHAT_EVENT, body__contains=EL_DECLINED
    ).exists()


def test_a_first_message_it_cannot_answer_waits_for_an_agent(knowledge_base):
    agent = AgentFactory(team=default_team())
    connection_open(user=agent, channel_name="agent-tab")
    conversation = start()

    _, caused = customer_message_receive(conversation=conversation, body="Hello?", client_id="c1")

    assert [m.sender for m in caused] == [Sender.CUSTOMER, Sender.SYSTEM]
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.WAITING
    assert not ChatMessage.objects.filter(conversation=conversation, sender=Sender.BOT).exists()


def test_with_nobody_online_an_unanswered_first_message_is_left_for_email(knowledge_base):
    conversation = start()

    customer_message_receive(
        conversation=conversation, body="Do you ship to Canada?", client_id="1"
    )

    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OFFLINE


def test_a_first_message_to_an_agent_already_in_the_chat_is_theirs_to_answer(knowledge_base):
    agent = AgentFactory(team=default_team())
    connection_open(user=agent, channel_name="agent-tab")
    conversation = start()
    conversation_accept(conversation=conversation, agent=agent)

    message, caused = customer_message_receive(
        conversation=conversation, body="my card was declined", client_id="c1"
    )

    assert caused == [message]
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.ACTIVE
    assert conversation.assignee == agent


def test_only_the_first_message_is_answered_automatically(knowledge_base):
    agent = AgentFactory(team=default_team())
    connection_open(user=agent, channel_name="agent-tab")
    conversation = start()
    customer_message_receive(conversation=conversation, body="hi", client_id="c1")

    message, caused = customer_message_receive(
        conversation=conversation, body="my card was declined", client_id="c2"
    )

    assert caused == [message]
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.WAITING
