"""Instant answers: the knowledge-base article that answers a customer's question well."""

from chat.models import FaqArticle


def faq_best_match(question: str, language: str) -> FaqArticle | None:
    """The published article in `language` that answers `question` well, or None."""
    return None
