"""Instant answers: the knowledge-base article that answers a customer's question well.

A question and an article are compared by their lexemes: the words that carry meaning (stop
words, greetings, numbers and single letters dropped), reduced to a common stem. An article
answers the question well when

- it holds at least half of the question's lexemes, and at least two of them (the one lexeme of
  a one-word question), and
- at least one of those is in its title or keywords: an article that only mentions a word in
  passing is not about it.

Among the articles that qualify, the one whose title and keywords hold most of the question wins
(then the better full-text rank, then the older article). PostgreSQL finds the candidates and
stems with its own full-text search, with a dictionary per language; other databases (SQLite,
the embedded setup) use the small tokenizer below. The rule is the same for both.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection

from chat.models import FaqArticle

TITLE, BODY = "A", "B"
# What a matched lexeme is worth when choosing between articles, by where the article has it.
WEIGHT_SCORES = {TITLE: 1.0, BODY: 0.5}
# A first message with more meaningful words than this is an account of a problem, not a
# question a short article answers: a person reads it.
MAX_QUESTION_WORDS = 40

# PostgreSQL's text search configuration per language; Persian has no stemmer there.
TEXT_SEARCH_CONFIGS = {"en": "english", "el": "greek", "fa": "simple"}

WORD = re.compile(r"\w+")


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Compared after _normalised (lower case; Greek without accents and with σ for ς).
STOP_WORDS = {
    "en": _word_set(
        """
        a about after again all am an and any anything are as at be been before being but by
        can could did do does doing done for from had has have having he her here hers him his
        how i if in into is it its just let me mine more most my myself no nor not now of off on
        once only or other our ours out over own same she should so some still than that the
        their theirs them then there these they this those through to too under until up very
        was we were what when where which while who whom why will with would you your yours
        hi hello hey hiya greetings dear good morning afternoon evening thanks thank please
        ok okay yes yeah sir madam anyone somebody someone there
        get got getting gets want wanted need needed help know tell ask asks asking asked question
        im ive dont doesnt didnt cant cannot wont isnt wasnt don doesn didn isn wasn
        """
    ),
    "el": _word_set(
        """
        ο η το οι τα του τησ των τον την τουσ τισ στο στη στην στον στα στισ στουσ σε με για
        απο και η να θα δεν δε μη μην που πωσ τι γιατι ποτε ποιοσ ποια ποιο ειναι ηταν
        ειμαι εχω εχει εχουν ειχα μου μασ σασ σου τουσ εγω εσυ εμεισ εσεισ αυτο αυτη αυτοσ
        ενα μια μιαν ενασ αλλα αν οταν ωσ οτι επειδη ακομα ηδη πολυ λιγο μονο ολα κατι καποιοσ
        γεια χαιρετε χαιρετω καλημερα καλησπερα καληνυχτα ευχαριστω ευχαριστουμε παρακαλω
        ναι οχι οκ ενταξει κυριε κυρια υπαρχει γινει εγινε
        θελω θελει μπορω μπορειτε μπορει πρεπει παρω παιρνω λαβω βοηθεια βοηθηστε ερωτηση
        """
    ),
    "fa": _word_set(
        """
        از به با در که این آن را و یا من ما شما تو او آنها ایشان است هست نیست بود بودم شد شده
        شود می نمی هم نیز تا برای اگر اما ولی چون چرا چه چی کی کجا چطور چگونه چقدر
        آیا یک یه هر همه خیلی فقط ها های ام ای اید اند ش م ت مان تان شان
        سلام درود خداحافظ ممنون مرسی سپاس متشکرم لطفا خواهش ببخشید وقت بخیر
        بله نه آره باشه خوب
        دارم دارید دارد داشتم کنم کنید کند کرد کردم کرده خواهم خواهد خواستم میخواهم میخوام
        باید بگیرم گرفتم بگویید بگید کمک سوال چیست چیه
        """
    ),
}

# Crude English stemming for the fallback: enough that "declined", "declines" and "decline" meet.
_EN_SUFFIXES = ("ing", "ed", "es", "s", "e", "ly")
# Greek inflection endings (after accents are dropped), longest first.
_EL_SUFFIXES = ("ουσ", "εσ", "ασ", "ησ", "οσ", "ου", "ων", "α", "η", "ε", "ο", "ι", "υ", "ω")
_FA_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ۀ": "ه"})


@dataclass(frozen=True)
class _Candidate:
    article_id: int
    lexemes: dict[str, str]  # lexeme → TITLE or BODY, the best place the article has it
    rank: float = 0.0


def faq_best_match(question: str, language: str) -> FaqArticle | None:
    """The published article in `language` that answers `question` well, or None."""
    if language == "fa":
        question = question.translate(_FA_LETTERS)
    words = meaningful_words(question, language)
    if not words or len(words) > MAX_QUESTION_WORDS:
        return None
    articles = FaqArticle.objects.filter(published=True, language=language)
    if connection.vendor == "postgresql":
        lexemes, candidates = _postgres_candidates(words, language, articles)
    else:
        lexemes = {_stemmed(word, language) for word in words}
        candidates = _fallback_candidates(articles, language)
    best = best_candidate(lexemes, candidates)
    return articles.filter(pk=best).first() if best is not None else None


def meaningful_words(text: str, language: str) -> list[str]:
    """The text's words that carry meaning, each once, in order (as written)."""
    stop_words = STOP_WORDS.get(language, frozenset())
    seen: dict[str, str] = {}
    for word in WORD.findall(text):
        normalised = _normalised(word, language)
        if len(normalised) < 2 or normalised.isdigit() or normalised in stop_words:
            continue
        seen.setdefault(normalised, word)
    return list(seen.values())


def answer_score(question: set[str], article: dict[str, str]) -> float | None:
    """How well an article (its lexemes and where it has them) answers the question's lexemes:
    None when it does not answer it well (the rule in the module docstring), else the share of
    the question it holds, a lexeme in the title or keywords counting more than one in the body."""
    if not question:
        return None
    found = [lexeme for lexeme in question if lexeme in article]
    if len(found) < min(2, len(question)) or 2 * len(found) < len(question):
        return None
    if not any(article[lexeme] == TITLE for lexeme in found):
        return None
    return sum(WEIGHT_SCORES.get(article[lexeme], 0.5) for lexeme in found) / len(question)


def best_candidate(question: set[str], candidates: Iterable[_Candidate]) -> int | None:
    """The id of the article that answers the question best, or None if none answers it well."""
    scored = []
    for candidate in candidates:
        score = answer_score(question, candidate.lexemes)
        if score is not None:
            scored.append((-score, -candidate.rank, candidate.article_id))
    return min(scored)[2] if scored else None


# Lexemes elsewhere (SQLite) -----------------------------------------------------------------------


def _normalised(word: str, language: str) -> str:
    word = word.lower()
    if language == "el":
        decomposed = unicodedata.normalize("NFD", word)
        word = "".join(char for char in decomposed if not unicodedata.combining(char))
        word = unicodedata.normalize("NFC", word).replace("ς", "σ")
    elif language == "fa":
        word = word.translate(_FA_LETTERS)
    return word


def _stemmed(word: str, language: str) -> str:
    word = _normalised(word, language)
    if language == "en":
        if word.endswith("ies") and len(word) > 4:
            return word[:-3] + "y"
        for suffix in _EN_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
                return word[: -len(suffix)]
    elif language == "el":
        for suffix in _EL_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                return word[: -len(suffix)]
    return word


def _text_lexemes(text: str, language: str) -> set[str]:
    return {_stemmed(word, language) for word in meaningful_words(text, language)}


def _fallback_candidates(articles, language: str) -> list[_Candidate]:
    candidates = []
    for article in articles.only("pk", "title", "keywords", "body"):
        lexemes = dict.fromkeys(_text_lexemes(article.body, language), BODY)
        lexemes.update(
            dict.fromkeys(_text_lexemes(f"{article.title} {article.keywords}", language), TITLE)
        )
        candidates.append(_Candidate(article.pk, lexemes))
    return candidates


# Lexemes on PostgreSQL ----------------------------------------------------------------------------

# One lexeme of a tsvector's text form: 'card':1A,7B (no positions after strip(); no letter: D).
_TSVECTOR_ITEM = re.compile(r"'((?:[^']|'')+)'(?::([0-9A-D,]+))?")


def tsvector_lexemes(text: str) -> dict[str, str]:
    """The lexemes of a tsvector's text form, each with its best weight letter."""
    lexemes = {}
    for lexeme, positions in _TSVECTOR_ITEM.findall(text or ""):
        weights = re.sub(r"[0-9,]", " ", positions or "").split() or ["D"]
        lexemes[lexeme.replace("''", "'").replace("\\\\", "\\")] = min(weights)
    return lexemes


def _postgres_candidates(
    words: list[str], language: str, articles
) -> tuple[set[str], list[_Candidate]]:
    config = TEXT_SEARCH_CONFIGS.get(language, "simple")
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_tsvector(%s::regconfig, %s)::text", [config, " ".join(words)])
        question = set(tsvector_lexemes(cursor.fetchone()[0]))
    if not question:
        return question, []
    document = SearchVector("title", "keywords", weight=TITLE, config=config) + SearchVector(
        "body", weight=BODY, config=config
    )
    # Any of the words: the rule above decides, over the articles that share one at least.
    query = reduce(or_, (SearchQuery(word, config=config) for word in words))
    rows = (
        articles.annotate(document=document, rank=SearchRank(document, query))
        .filter(document=query)
        .values_list("pk", "document", "rank")
    )
    return question, [
        _Candidate(pk, tsvector_lexemes(text), rank or 0.0) for pk, text, rank in rows
    ]
