"""The help covers the app: every page of the navigation names a help topic that a section
holds, every importer format of the registry has its section, every entry and code of the
error knowledge base has its section, every refusal code of the gateway is explained, and the
English and French files and sections correspond one to one. The probe proves each check
fails when its entry is taken out."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from lib.help import HELP_ROOT, all_format_names, load_docs, problems
from lib.help.kb import candidate_codes, entries
from lib.importers.formats import FORMATS, REGISTRY
from lib.keys.restrictions import REFUSAL_CODES
from lib.ui.nav import PAGES


def _topics() -> dict[str, str]:
    return {p.path: p.help for p in PAGES}


def test_every_page_format_and_error_code_has_help_in_both_languages():
    assert problems(_topics()) == []


def test_the_checks_see_every_page_format_and_kb_entry():
    # the lists the check walks are the app's own, not a copy: all 10 pages, every --format
    # choice and the unlisted importers, every advice of the knowledge base
    assert len(_topics()) == len(PAGES) == 10
    assert set(FORMATS) <= set(all_format_names())
    assert {"openai_legacy_billing", "litellm_spend_report"} <= set(all_format_names())
    assert set(all_format_names()) == {n for imp in REGISTRY for n in imp.names}
    assert len(entries()) == 43 and len(candidate_codes()) >= 60


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_gateway_refusal_code_is_explained(lang):
    section = load_docs(lang).find("refusals")[1]
    assert [c for c in REFUSAL_CODES if f"`{c}`" not in section.body] == []


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "help"
    shutil.copytree(HELP_ROOT, root)
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_probe_each_gap_fails_the_check(tmp_path):
    """Take each kind of entry out of a copy of the help: the check names it."""
    topics = _topics()
    # a page whose topic no section holds (the Costs page's section renamed in French only)
    root = _copy(tmp_path)
    _edit(root / "fr" / "30_pages.md", "{#page-costs}", "{#page-couts}")
    found = problems(topics, root=root)
    assert (
        "fr: page pages/2_Costs.py links to help topic #page-costs, which no section holds" in found
    )
    assert any(p.startswith("page pages: sections differ") for p in found)

    # a format without its section (Helicone's directive removed in English)
    root = _copy(tmp_path / "b")
    _edit(root / "en" / "20_import.md", "<!-- formats: helicone -->", "")
    found = problems(topics, root=root)
    assert "en: importer format helicone has no help section (<!-- formats: helicone -->)" in found

    # a format the registry gains: no section yet
    found = problems(topics, formats=[*all_format_names(), "new_source"])
    assert found == [
        "en: importer format new_source has no help section (<!-- formats: new_source -->)",
        "fr: importer format new_source has no help section (<!-- formats: new_source -->)",
    ]

    # the knowledge base's sections taken out of the French pages
    root = _copy(tmp_path / "c")
    _edit(root / "fr" / "90_errors.md", "<!-- kb -->", "")
    found = problems(topics, root=root)
    assert "fr: error knowledge base entry 'Rate limit reached' has no help section" in found
    assert "fr: error code rate_limit_exceeded is in no help section" in found
    assert len([p for p in found if p.startswith("fr: error knowledge base entry")]) == 43

    # a file in one language only
    root = _copy(tmp_path / "d")
    (root / "fr" / "92_faq.md").unlink()
    found = problems(topics, root=root)
    assert any(p.startswith("help files differ: en has") and "92_faq.md" in p for p in found)

    # a page topic nobody wrote, in both languages
    found = problems({**topics, "pages/99_New.py": "page-new"})
    assert found == [
        "en: page pages/99_New.py links to help topic #page-new, which no section holds",
        "fr: page pages/99_New.py links to help topic #page-new, which no section holds",
    ]


def test_every_help_link_between_pages_leads_to_a_section():
    for lang in ("en", "fr"):
        docs = load_docs(lang)
        for s in docs.sections():
            for topic in re.findall(r"\]\(\?topic=([a-z0-9-]+)\)", s.body):
                assert docs.find(topic) is not None, (lang, s.id, topic)
