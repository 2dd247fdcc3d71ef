"""Every main page in French, in Chromium, after its scripts ran: no English string of
the catalogues (pages' and scripts') and no unmarked English sentence is on it, in its
text or in what a screen reader reads (nvr/tests/french.py), and its longer words still
fit a 360 px phone. A browser set to French,
for a person who chose no language: the browser's language is the default."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse

from conftest import World
from nvr.testing import LiveServer, chromium, session_cookies
from nvr.tests.french import english_in, translations
from nvr.tests.test_browser_layout import DESKTOP, PHONE, WIDEST, layout_pages
from nvr.tests.test_french_pages import household_names

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What a person sees or hears: text nodes and read attributes, leaving out scripts and what
# the page marks translate="no" (the household's names); hidden text counts (it shows later).
TEXTS = """() => {
  const skip = (el) => el.closest("script, style, template, code, pre, [translate=no]");
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.textContent.trim() && !skip(node.parentElement)) texts.push(node.textContent);
  }
  for (const el of document.body.querySelectorAll("[title], [placeholder], [aria-label], [alt], input[type=submit]")) {
    if (skip(el)) continue;
    for (const name of ["title", "placeholder", "aria-label", "alt"]) {
      if (el.getAttribute(name)) texts.push(el.getAttribute(name));
    }
    if (el.type === "submit" && el.value) texts.push(el.value);
  }
  texts.push(document.title);
  return texts;
}"""


@pytest.fixture
def french_page(asgi_server: LiveServer, world: World) -> Iterator[Any]:
    cookie = session_cookies({"owner": world.a.owner})["owner"]
    with chromium() as browser:
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800})
        host = asgi_server.http.split("//")[1].split(":")[0]
        context.add_cookies([{"name": "sessionid", "value": cookie, "domain": host, "path": "/"}])
        yield context.new_page()


def english_on(page: Any, names: set[str]) -> list[str]:
    return english_in(page.evaluate(TEXTS), names=names)


@pytest.mark.usefixtures("world_with_clips")
def test_every_main_page_shows_no_english_in_french(french_page: Any, asgi_server: LiveServer, world: World):
    page, names, found = french_page, household_names(world), []
    for name, path in layout_pages(world).items():
        response = page.goto(f"{asgi_server.http}{path}", wait_until="networkidle")
        assert response.status == 200, f"{name}: {path} answered {response.status}"
        assert page.evaluate("document.documentElement.lang") == "fr", name
        found += [f"{name} ({path}): {problem}" for problem in english_on(page, names)]
        # French runs longer than English: the phone layout must still hold it.
        page.set_viewport_size({"width": PHONE, "height": 800})
        if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
            found.append(f"{name} ({path}): scrolls sideways at {PHONE} px: " + "; ".join(page.evaluate(WIDEST)))
        page.set_viewport_size({"width": DESKTOP, "height": 800})
    assert found == [], "\n".join(found)


def test_the_check_catches_an_english_string_a_script_writes(french_page: Any, asgi_server: LiveServer):
    """Not vacuous: a catalogue string a script leaves in English, written into a French
    page after it loaded, is named."""
    page = french_page
    page.goto(f"{asgi_server.http}{reverse('accounts:security')}", wait_until="networkidle")
    assert english_on(page, set()) == []
    english = next(e for e, f in translations().items() if "%" not in e and e.lower() != f.lower())
    add = "(t) => document.querySelector('main').append(Object.assign(document.createElement('p'), {textContent: t}))"
    page.evaluate(add, english)
    [found] = english_on(page, set())
    assert "catalogue's English" in found
