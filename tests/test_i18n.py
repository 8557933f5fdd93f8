"""The Chinese catalogue is complete: every string the code marks for translation has a
reviewed zh-hans translation, compiled, with the same placeholders."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "jiayuan"
PO = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]*\}|%[sd]")


def catalogue():
    return polib.pofile(str(PO))


def test_every_entry_is_translated_and_reviewed():
    po = catalogue()
    assert po.untranslated_entries() == []
    assert [e.msgid for e in po.fuzzy_entries()] == []


def test_translations_keep_their_placeholders():
    for entry in catalogue().translated_entries():
        if not entry.msgid_plural:
            assert sorted(PLACEHOLDER.findall(entry.msgid)) == sorted(
                PLACEHOLDER.findall(entry.msgstr)
            ), entry.msgid
            continue
        # Chinese has one plural form, the one used for every count.
        for form, translated in entry.msgstr_plural.items():
            assert sorted(PLACEHOLDER.findall(entry.msgid_plural)) == sorted(
                PLACEHOLDER.findall(translated)
            ), (entry.msgid, form)


def test_compiled_catalogue_matches_the_source():
    compiled = {(e.msgctxt, e.msgid): e.msgstr for e in polib.mofile(str(MO))}
    for entry in catalogue().translated_entries():
        if entry.msgid_plural:
            continue
        assert compiled.get((entry.msgctxt, entry.msgid)) == entry.msgstr, entry.msgid


def test_catalogue_covers_every_marked_string(tmp_path):
    if shutil.which("xgettext") is None:
        pytest.fail("gettext is missing: apt-get install -y gettext (scripts/test installs it)")
    copy = tmp_path / "jiayuan"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-obsolete",
            "--no-location",
            "-i",
            "tests",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
        env={"DJANGO_SETTINGS_MODULE": "", "PATH": "/usr/bin:/bin"},
    )
    fresh = polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    missing = sorted(
        e.msgid for e in fresh if e.msgid and not catalogue().find(e.msgid, msgctxt=e.msgctxt)
    )
    assert missing == [], f"run scripts/messages: {len(missing)} new strings lack a translation"
