"""Japanese first, with a complete English translation, and both catalogues compiled in the repo."""

import ast
import gettext
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from shelters.models import Role, ShelterStatus
from shelters.services import shelter_status_change
from tests.factories import EvacueeFactory

BASE_DIR = Path(__file__).resolve().parent.parent
LOCALE_DIR = BASE_DIR / "locale"
# The directories whose strings `make messages` extracts (tests, docs and bench have none).
# Every package of ours that settings import, so the copy below runs: each local app, the wiring, the templates.
SOURCE_DIRS = (
    "config",
    "templates",
    *sorted({app.split(".")[0] for app in settings.INSTALLED_APPS if (BASE_DIR / app.split(".")[0]).is_dir()}),
)


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header and obsolete (#~) entries left out.

    Enough of the format for catalogues that `makemessages` writes; polib is not a dependency.
    """
    entries: list[Entry] = []
    entry, key = Entry(), None

    def finish():
        nonlocal entry, key
        if key is not None and entry.msgid:
            entries.append(entry)
        entry, key = Entry(), None

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            finish()
        elif line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if key == "msgstr":
                entry.msgstr[-1] += value
            else:
                setattr(entry, key, getattr(entry, key) + value)
        else:
            keyword, _, quoted = line.partition(" ")
            value = ast.literal_eval(quoted)
            if keyword.startswith("msgstr"):
                key = "msgstr"
                entry.msgstr.append(value)
            else:
                key = keyword
                setattr(entry, key, value)
    finish()
    return entries


def catalogue(language: str) -> list[Entry]:
    return read_po(LOCALE_DIR / language / "LC_MESSAGES" / "django.po")


def describe(entry: Entry) -> str:
    return f"{entry.msgctxt}|{entry.msgid}" if entry.msgctxt else entry.msgid


def test_the_japanese_catalogue_translates_every_message_and_has_no_fuzzy_entries():
    entries = catalogue("ja")

    assert len(entries) > 200
    assert [describe(e) for e in entries if not all(e.msgstr)] == []
    assert [describe(e) for e in entries if "fuzzy" in e.flags] == []
    # Japanese has one plural form: "1人" and "3人" are written alike.
    assert [describe(e) for e in entries if e.msgid_plural and len(e.msgstr) != 1] == []


def test_the_english_catalogue_is_complete_and_says_the_source_text():
    entries = catalogue("en")

    assert [describe(e) for e in entries if "fuzzy" in e.flags] == []
    assert [
        describe(e) for e in entries if e.msgstr != ([e.msgid, e.msgid_plural] if e.msgid_plural else [e.msgid])
    ] == []


def test_both_catalogues_hold_the_same_messages():
    assert {describe(e) for e in catalogue("ja")} == {describe(e) for e in catalogue("en")}


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_committed_mo_file_is_compiled_from_the_current_po_file(language):
    # A fresh machine may lack gettext, so the .mo files are committed and must not lag the .po.
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "django.mo", "rb") as mo_file:
        compiled = gettext.GNUTranslations(mo_file)

    stale = []
    for entry in catalogue(language):
        if entry.msgid_plural:
            got = (
                compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 1)
                if entry.msgctxt
                else (compiled.ngettext(entry.msgid, entry.msgid_plural, 1))
            )
        else:
            got = compiled.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt else compiled.gettext(entry.msgid)
        if got != entry.msgstr[0]:
            stale.append(describe(entry))

    assert stale == []


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="makemessages needs GNU gettext")
def test_every_translatable_string_in_the_source_is_in_the_japanese_catalogue(tmp_path):
    # makemessages writes into LOCALE_PATHS, so it runs on a copy of the sources.
    for name in SOURCE_DIRS:
        shutil.copytree(BASE_DIR / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(BASE_DIR / "manage.py", tmp_path)
    (tmp_path / "locale").mkdir()
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "VAR_DIR": str(tmp_path / "var")}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ja", "--no-location"],
        cwd=tmp_path,
        env=environment,
        check=True,
        capture_output=True,
    )

    extracted = {describe(e) for e in read_po(tmp_path / "locale" / "ja" / "LC_MESSAGES" / "django.po")}
    translated = {describe(e) for e in catalogue("ja") if all(e.msgstr)}
    # When this fails, run `make messages`, translate the new strings in locale/ja and run it again.
    assert sorted(extracted - translated) == []


@pytest.mark.django_db
def test_pages_are_japanese_by_default(client):
    response = client.get("/login/")

    assert response.headers["Content-Language"] == "ja"
    assert '<html lang="ja">' in response.text
    assert "ログイン" in response.text
    assert "ユーザー名" in response.text
    assert "Log in" not in response.text


@pytest.mark.django_db
def test_pages_are_english_once_english_is_chosen_with_the_switcher(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    response = client.get("/login/")

    assert response.headers["Content-Language"] == "en"
    assert "Log in" in response.text
    assert "Username" in response.text
    assert "ログイン" not in response.text


@pytest.mark.django_db
def test_switching_back_to_japanese_makes_pages_japanese_again(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    client.post("/i18n/setlang/", {"language": "ja", "next": "/login/"})

    assert "ログイン" in client.get("/login/").text


def test_the_shelter_statuses_have_the_national_japanese_names():
    with translation.override("ja"):
        assert [str(label) for label in ShelterStatus.labels] == ["未開設", "開設", "満員", "閉鎖"]
    with translation.override("en"):
        assert [str(label) for label in ShelterStatus.labels] == ["Standby", "Open", "Full", "Closed"]


def test_the_staff_roles_have_their_japanese_titles():
    with translation.override("ja"):
        assert dict(Role.choices) == {
            "hq": "災害対策本部",
            "manager": "避難所運営者",
            "official": "市職員",
            "admin": "システム管理者",
        }


def test_the_shelter_list_is_japanese_for_headquarters(hq, shelter_a, as_user):
    response = as_user(hq).get("/shelters/")

    assert response.status_code == 200
    text = response.text
    assert "避難所一覧" in text
    assert "開設状況" in text
    assert 'status-open">開設</span>' in text
    assert "災害対策本部" in text  # the role next to the user name


def test_the_shelter_list_is_english_for_headquarters_who_chose_english(hq, shelter_a, as_user):
    client = as_user(hq)
    client.post("/i18n/setlang/", {"language": "en", "next": "/shelters/"})
    text = client.get("/shelters/").text

    assert 'status-open">Open</span>' in text
    assert "Disaster HQ staff" in text
    assert "開設" not in text


def test_a_refused_check_in_is_explained_in_japanese(manager_a, shelter_a, as_user):
    shelter_status_change(shelter_id=shelter_a.pk, to_status=ShelterStatus.CLOSED, actor=manager_a)
    person = EvacueeFactory()
    response = as_user(manager_a).post(
        f"/shelters/{shelter_a.pk}/desk/check-in/",
        {"evacuees": [person.pk], "mode": "inside", "q": person.walk_in_id},
        follow=True,
    )

    messages = [str(m) for m in response.context["messages"]]
    assert messages == [f"{shelter_a.name}は「閉鎖」のため、受付できません。"]
