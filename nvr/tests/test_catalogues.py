"""The French catalogues are complete, compile cleanly and keep every placeholder; pages
name dates only by their locale's formats (nvr/formats), never by a pattern of their own."""

import re
import shutil
import subprocess

import pytest

from nvr.testing import ROOT

CATALOGUES = sorted((ROOT / "locale").glob("*/LC_MESSAGES/*.po"))
# What a template may still spell out: machine formats for attributes and form fields.
MACHINE_DATE_FORMATS = {"c", "Y-m-d", "U", "H:i"}
NAMED_FORMATS = {"DATE_FORMAT", "DATETIME_FORMAT", "SHORT_DATETIME_FORMAT", "TIME_FORMAT", "MONTH_DAY_FORMAT"}


def test_there_is_a_french_catalogue_for_pages_and_for_scripts():
    assert {p.relative_to(ROOT).as_posix() for p in CATALOGUES} >= {"locale/fr/LC_MESSAGES/django.po"}


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_entry_is_translated_and_checks_out(po):
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "gettext's msgfmt is missing: bin/messages installs it"
    # --check: placeholders (python-format, javascript-format) and the header; --statistics
    # counts what is left untranslated or fuzzy (a fuzzy entry is never used).
    result = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", "/dev/null", str(po)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr, result.stderr
    assert "fuzzy" not in result.stderr, result.stderr


def test_templates_show_dates_only_in_their_locales_formats():
    found = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        for number, line in enumerate(template.read_text().splitlines(), 1):
            for pattern in re.findall(r"\|date:['\"]([^'\"]*)['\"]", line):
                if pattern not in NAMED_FORMATS | MACHINE_DATE_FORMATS:
                    found.append(f"{template.relative_to(ROOT)}:{number}: |date:{pattern!r}")
    assert found == [], "\n".join(found)
