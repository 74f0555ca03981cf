"""What the chat widget fetches over HTTP. Merchants' pages call it from their own origin:
django-cors-headers answers for /chat/api/ (CORS_ALLOWED_ORIGINS = CHAT_ALLOWED_ORIGINS)."""

import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import translation
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from chat.widget_strings import WIDGET_STRINGS

logger = logging.getLogger(__name__)


def widget_language(requested: str) -> str:
    """The supported language closest to `requested` ("fa-IR" → "fa"), else English."""
    try:
        return translation.get_supported_language_variant(requested.strip().lower())
    except LookupError:
        return "en"


@require_GET
@cache_control(public=True, max_age=300)
def widget_config(request: HttpRequest) -> JsonResponse:
    """The widget's texts and reading direction in `?language=` (the page's language or the
    customer's), else in the language of the request."""
    requested = request.GET.get("language", "")[:35] or request.LANGUAGE_CODE
    language = widget_language(requested)
    if requested.split("-")[0].lower() != language:
        logger.info("Chat widget asked for language %r; answering in %s", requested, language)
    with translation.override(language):
        strings = {key: str(text) for key, text in WIDGET_STRINGS.items()}
        direction = "rtl" if translation.get_language_bidi() else "ltr"
    return JsonResponse(
        {
            "language": language,
            "direction": direction,
            "strings": strings,
            "max_attachment_bytes": settings.CHAT_MAX_ATTACHMENT_BYTES,
        }
    )
