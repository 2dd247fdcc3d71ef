"""Finding English on a page that should be French.

Two nets, used by the page tests (test_french_pages.py) and the browser test
(test_browser_french.py):
- the catalogues: any text that is one of their English strings (whole, or with its
  placeholders filled in) is a string the page forgot to translate;
- English words: a text with common English words ("the", "your", ...) once the
  household's own names are taken out is a string nobody marked for translation.
"""

import gettext
import re
from collections.abc import Set
from functools import lru_cache
from html.parser import HTMLParser

from nvr.testing import ROOT

CATALOGUES = ROOT / "locale" / "fr" / "LC_MESSAGES"
DOMAINS = ("django", "djangojs")
# Words common in English sentences and absent from French ones (so no "on", "a", "son").
ENGLISH_WORDS = re.compile(
    r"\b(the|your|you|and|with|this|that|these|those|is|are|was|were|of|to|for|from|have|has|"
    r"will|can|cannot|can't|don't|not|when|what|which|there|here|by|it|its|be|been|or|if|yet|"
    r"yours|my|our|we|they|them|their|how|who|any|every|each|only|none|no one|ago|since|until)\b",
    re.IGNORECASE,
)
# Attributes people read or hear (screen readers), checked like text.
READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


def _fresh(po: str, mo: str) -> bool:
    source, compiled = CATALOGUES / po, CATALOGUES / mo
    return compiled.exists() and compiled.stat().st_mtime >= source.stat().st_mtime


@lru_cache(maxsize=1)
def translations() -> dict[str, str]:
    """Every English msgid of the French catalogues and its French, from the compiled files."""
    found: dict[str, str] = {}
    for domain in DOMAINS:
        if not (CATALOGUES / f"{domain}.po").exists():
            continue
        if not _fresh(f"{domain}.po", f"{domain}.mo"):
            raise AssertionError(f"locale/fr/LC_MESSAGES/{domain}.mo is missing or stale: run bin/messages compile")
        with open(CATALOGUES / f"{domain}.mo", "rb") as compiled:
            catalog = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
        for key, french in catalog.items():
            english = key[0] if isinstance(key, tuple) else key  # plurals: (msgid, form)
            if english:
                found[english] = french
    return found


@lru_cache(maxsize=1)
def english_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """A pattern per catalogue string whose French differs from its English."""
    patterns = []
    for english, french in translations().items():
        if _normal(english).lower() == _normal(french).lower():
            continue  # the same in both languages ("Notifications", "Menu")
        parts = PLACEHOLDER.split(_normal(english))
        if sum(len(re.sub(r"\W", "", part)) for part in parts) < 4:
            continue  # "%(used)s of %(quota)s" would match any text with "of" in it
        pattern = r".+?".join(re.escape(part) for part in parts)
        patterns.append((english, re.compile(pattern)))
    return patterns


def _normal(text: str) -> str:
    return " ".join(text.split())


def english_in(texts: list[str], *, names: Set[str] = frozenset()) -> list[str]:
    """The texts (text nodes, read attributes) that are English, each with the reason.

    ``names`` are the household's own words (people, cameras, households, emails): they
    are taken out before looking for English words, as a camera may be called "Porch".
    """
    found = []
    for raw in texts:
        text = _normal(raw)
        if not text or text in names:
            continue
        caught = next((english for english, pattern in english_patterns() if pattern.fullmatch(text)), None)
        if caught is not None:
            found.append(f"{text!r} is the catalogue's English for {translations()[caught]!r}")
            continue
        bare = text
        for name in sorted(names, key=len, reverse=True):
            bare = bare.replace(name, " ")
        word = ENGLISH_WORDS.search(bare)
        if word:
            found.append(f"{text!r} has the English word {word.group(0)!r}")
    return found


class _Texts(HTMLParser):
    """Text nodes and read attributes, leaving out scripts, code, and what the page marks
    ``translate="no"`` (the HTML attribute for names, addresses and zone names)."""

    SKIP = {"script", "style", "template", "code", "pre"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skipped: list[str] = []  # the open elements whose content is left out

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        untranslated = attributes.get("translate") == "no"
        if (tag in self.SKIP or untranslated or (self._skipped and tag == self._skipped[-1])) and tag not in self.VOID:
            self._skipped.append(tag)
        if self._skipped or untranslated:
            return
        self.texts += [value for name, value in attrs if name in READ_ATTRIBUTES and value]
        if tag == "input" and attributes.get("type") in {"submit", "button"} and attributes.get("value"):
            self.texts.append(attributes["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if self._skipped and tag == self._skipped[-1]:
            self._skipped.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipped and data.strip():
            self.texts.append(data)


def texts_of(html: str) -> list[str]:
    """The text nodes and read attributes of a page, as a person (or screen reader) gets them."""
    parser = _Texts()
    parser.feed(html)
    return parser.texts
