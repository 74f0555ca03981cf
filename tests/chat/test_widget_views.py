"""The widget's texts and reading direction, fetched from merchants' pages (CORS)."""

import pytest
from django.utils import translation

from chat.widget_strings import WIDGET_STRINGS
from tests.chat.conftest import SHOP

URL = "/chat/api/widget/"


def strings_in(language: str) -> dict[str, str]:
    with translation.override(language):
        return {key: str(text) for key, text in WIDGET_STRINGS.items()}


@pytest.mark.parametrize(
    ("requested", "language", "direction"),
    [("en", "en", "ltr"), ("el", "el", "ltr"), ("fa", "fa", "rtl"), ("fa-IR", "fa", "rtl")],
)
def test_the_widget_gets_its_texts_in_the_language_asked_for(
    client, requested, language, direction
):
    response = client.get(URL, {"language": requested})

    assert response.status_code == 200
    config = response.json()
    assert config["language"] == language
    assert config["direction"] == direction
    assert config["strings"] == strings_in(language)
    assert config["max_attachment_bytes"] == 10 * 1024 * 1024


def test_the_english_texts_are_the_source_texts(client):
    strings = client.get(URL, {"language": "en"}).json()["strings"]

    assert strings["talk_to_person"] == "Talk to a person"
    assert "%(email)s" in strings["offline_notice"]  # the widget fills it in


def test_a_language_paydesk_does_not_speak_falls_back_to_english(client):
    config = client.get(URL, {"language": "de-DE"}).json()

    assert (config["language"], config["direction"]) == ("en", "ltr")


def test_without_a_language_the_browsers_is_used(client):
    config = client.get(URL, HTTP_ACCEPT_LANGUAGE="fa-IR,fa;q=0.9").json()

    assert (config["language"], config["direction"]) == ("fa", "rtl")


def test_an_allowed_merchant_page_may_read_the_texts(client, settings):
    settings.CORS_ALLOWED_ORIGINS = [SHOP]

    response = client.get(URL, {"language": "en"}, HTTP_ORIGIN=SHOP)

    assert response["Access-Control-Allow-Origin"] == SHOP


def test_another_site_may_not_read_the_texts(client, settings):
    settings.CORS_ALLOWED_ORIGINS = [SHOP]

    response = client.get(URL, {"language": "en"}, HTTP_ORIGIN="https://evil.example")

    assert response.status_code == 200  # the browser, not the server, keeps it from the page
    assert "Access-Control-Allow-Origin" not in response


def test_the_texts_are_read_only(client):
    assert client.post(URL).status_code == 405
