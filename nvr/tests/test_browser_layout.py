"""Every main page on a phone (360 px) and a desktop (1280 px), light and dark.

For each page and each of the four looks, a full-page screenshot goes to the artifacts
folder (``$NVR_TEST_ARTIFACTS/screenshots``, by default ``var/test-artifacts/screenshots``),
named ``<page>-<width>-<scheme>.png``. The test fails when a page scrolls sideways at
360 px (naming the boxes that stick out), when axe-core (``npm ci``, package.json) finds
text below its contrast ratio, or when a control is under 44 px tall on the phone layout.

One daphne, one browser, one page visited once per look: the whole module runs in well
under a minute.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from conftest import World, main_pages
from nvr.testing import ROOT, LiveServer, chromium, session_cookies

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE, DESKTOP = 360, 1280
TAP = 44  # px: the smallest control a finger hits reliably

# Boxes that make the page wider than the window: each overflowing element whose parent
# does not overflow (the box that sticks out), unless something clips it (overflow-x).
WIDEST = """() => {
  const width = window.innerWidth, found = [];
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].map((c) => "." + c).join("");
  const clipped = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll("*")) {
    const right = el.getBoundingClientRect().right;
    if (right <= width + 0.5 || clipped(el)) continue;
    const parent = el.parentElement;
    if (parent && parent !== document.body && parent.getBoundingClientRect().right > width + 0.5) continue;
    const path = [];
    for (let p = el; p && p !== document.body; p = p.parentElement) path.unshift(describe(p));
    found.push([Math.round(right), path.join(" > ")]);
  }
  return found.sort((a, b) => b[0] - a[0]).slice(0, 6).map(([r, p]) => `${p} (right edge ${r} px)`);
}"""

CONTRAST = """async () => {
  const result = await axe.run(document, { runOnly: { type: "rule", values: ["color-contrast"] } });
  return result.violations.flatMap((v) => v.nodes.map(
    (n) => `${n.target.join(" ")}: ${n.any.map((c) => c.message).join("; ")}`));
}"""

# Controls a finger must hit, on the phone layout: buttons, form fields, the menu button,
# the top bar's links, button-like links and rows' action links (links inside running
# text are exempt).
SMALL_TARGETS = """(tap) => {
  const controls = document.querySelectorAll(
    "button, a.button, summary, select, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), "
    + ".topbar a, td.actions a, .actions-row > a");
  const small = [];
  for (const el of controls) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || getComputedStyle(el).visibility === "hidden") continue;
    if (box.height < tap - 0.5) {
      small.push(`${el.tagName.toLowerCase()}${el.className ? "." + String(el.className).split(" ").join(".") : ""}`
        + ` "${(el.textContent || el.value || "").trim().slice(0, 30)}" is ${Math.round(box.height)} px tall`);
    }
  }
  return small;
}"""


def artifacts() -> Path:
    folder = Path(os.environ.get("NVR_TEST_ARTIFACTS") or ROOT / "var" / "test-artifacts") / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def layout_pages(world: World) -> dict[str, str]:
    """The pages a household's owner uses, by the name their screenshots carry: the main
    pages every page test opens (conftest.main_pages) and the support access page. The API
    docs page is left out: it is Swagger UI's layout and colours, not the site's."""
    pages = {name.replace(" ", "-"): path for name, path in main_pages(world.a).items() if name != "api docs"}
    return {**pages, "support-access": reverse("support-grants:list")}


@pytest.fixture
def owner_page(asgi_server: LiveServer, world: World) -> Iterator[Any]:
    if not AXE.exists():
        pytest.fail(f"{AXE.relative_to(ROOT)} is missing: run `npm ci` (bin/test does)")
    cookie = session_cookies({"owner": world.a.owner})["owner"]
    with chromium() as browser:
        page = browser.new_page(viewport={"width": DESKTOP, "height": 800})
        host = asgi_server.http.split("//")[1].split(":")[0]
        page.context.add_cookies([{"name": "sessionid", "value": cookie, "domain": host, "path": "/"}])
        yield page


def inject_axe(page: Any) -> None:
    """axe-core's source evaluated through DevTools: a <script> added to the page would be
    refused by the site's Content-Security-Policy (see nvr.testing.wait_in_page)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text() + "\n;undefined")


def problems(page: Any, width: int) -> list[str]:
    found = []
    scroll = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    if scroll > inner:
        found.append(f"scrolls sideways ({scroll} px wide in {inner} px): " + "; ".join(page.evaluate(WIDEST)))
    if width == PHONE:
        found += [f"small tap target: {s}" for s in page.evaluate(SMALL_TARGETS, TAP)]
    inject_axe(page)
    found += [f"low contrast: {v}" for v in page.evaluate(CONTRAST)]
    return found


def look(page: Any, folder: Path, name: str, width: int, scheme: str) -> list[str]:
    page.set_viewport_size({"width": width, "height": 800})
    page.emulate_media(color_scheme=scheme)
    page.screenshot(path=str(folder / f"{name}-{width}-{scheme}.png"), full_page=True)
    return [f"{name} at {width} px, {scheme}: {p}" for p in problems(page, width)]


@pytest.mark.usefixtures("world_with_clips")
def test_every_main_page_fits_a_phone_and_reads_in_both_schemes(owner_page: Any, asgi_server: LiveServer, world: World):
    page, folder, found = owner_page, artifacts(), []
    for name, path in layout_pages(world).items():
        page.set_viewport_size({"width": DESKTOP, "height": 800})
        response = page.goto(f"{asgi_server.http}{path}", wait_until="load")
        assert response.status == 200, f"{name}: {path} answered {response.status}"
        for width in (DESKTOP, PHONE):
            for scheme in ("light", "dark"):
                found += look(page, folder, name, width, scheme)
    # The phone's menu, opened: its links fit, read, and are big enough to tap.
    page.goto(f"{asgi_server.http}{reverse('devices:grid')}", wait_until="load")
    page.set_viewport_size({"width": PHONE, "height": 800})
    page.click("label.nav-toggle")
    for scheme in ("light", "dark"):
        found += look(page, folder, "menu-open", PHONE, scheme)
    assert found == [], "\n".join(found)


def test_the_checks_catch_a_wide_box_low_contrast_and_a_small_button(owner_page: Any, asgi_server: LiveServer):
    """The checks above are not vacuous: a page made wide, grey on grey and with a tiny
    button fails each of them, naming the offender."""
    page = owner_page
    page.goto(f"{asgi_server.http}{reverse('accounts:members')}", wait_until="load")
    page.set_viewport_size({"width": PHONE, "height": 800})
    assert problems(page, PHONE) == []
    page.evaluate("""() => {
        const wide = document.createElement("div"); wide.id = "too-wide";
        wide.style.width = "900px"; wide.textContent = "wide";
        const faint = document.createElement("p"); faint.id = "faint"; faint.textContent = "hard to read";
        faint.style.color = "#999"; faint.style.background = "#aaa";
        const tiny = document.createElement("button"); tiny.id = "tiny"; tiny.textContent = "x";
        tiny.style.minHeight = "0"; tiny.style.height = "20px";
        document.querySelector("main").append(wide, faint, tiny);
    }""")
    found = "\n".join(problems(page, PHONE))
    assert "scrolls sideways" in found
    assert "div#too-wide (right edge" in found
    assert "low contrast: #faint" in found
    assert 'small tap target: button "x" is 20 px tall' in found
