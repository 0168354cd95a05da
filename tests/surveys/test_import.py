"""Importing Qualtrics and KoBoToolbox exports: formats, mappings, errors by line, progress, permissions."""

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation

from supply.models import Request
from surveys.imports import jobs as import_jobs
from surveys.imports.formats import KOBO, QUALTRICS, ImportFile
from surveys.models import ImportState, Response, SurveyImport, SurveyImportMapping

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture(autouse=True)
def in_english():
    """Messages are compared in English; the pages are Japanese first."""
    with translation.override("en"):
        yield


@pytest.fixture
def sample_shelters(shelter_a, shelter_b):
    shelter_a.code, shelter_b.code = "SAMPLE-A", "SAMPLE-B"
    shelter_a.save(update_fields=["code"])
    shelter_b.save(update_fields=["code"])
    return shelter_a, shelter_b


@pytest.fixture
def supply_items(db):
    """The supply catalogue the needs answers point at (installed by the supply app's migration)."""
    from supply.models import Item

    return set(Item.objects.values_list("code", flat=True))


def run(content: bytes, *, user=None, shelter=None, mapping=None, skip_invalid=False, name="file.csv", language="en"):
    saved = (
        SurveyImportMapping.objects.create(name=f"m{SurveyImport.objects.count()}", mapping=mapping)
        if mapping
        else None
    )
    job = import_jobs.survey_import_create(
        file_name=name,
        content=content,
        uploaded_by=user,
        shelter=shelter,
        saved_mapping=saved,
        skip_invalid=skip_invalid,
        language=language,
        enqueue=False,
    )
    while job.state not in (ImportState.DONE, ImportState.FAILED):
        import_jobs.survey_import_run(job_id=job.pk)
        job.refresh_from_db()
    return job


def errors_of(job) -> list[str]:
    return [f"line {e['line']}: {e['field']}: {e['message']}" for e in job.errors]


# --- Formats -------------------------------------------------------------------------------------


def test_a_qualtrics_text_export_imports_k6_scores_needs_and_dates(sample_shelters, hq, supply_items):
    shelter_a, shelter_b = sample_shelters
    job = run((DATA / "qualtrics_sample_text.csv").read_bytes(), user=hq)

    assert job.state == ImportState.DONE, errors_of(job)
    assert (job.file_format, job.encoding) == (QUALTRICS, "utf-8-sig")
    assert (job.total_rows, job.imported, job.ignored, job.duplicates) == (3, 2, 1, 0)
    high = Response.objects.get(submission_key="import:qualtrics:R_1aSampleK6High")
    # いつも4 たいてい3 いつも4 ときどき2 たいてい3 少しだけ1
    assert high.k6_score == 17
    assert high.shelter == shelter_a
    assert high.channel == "import"
    assert high.entered_by == hq
    assert high.answered_at == datetime(2026, 11, 20, 10, 3, 10, tzinfo=TOKYO)
    assert high.answers["needs"] == ["water", "blankets"]
    assert high.answers["needs_water_quantity"] == 6
    assert high.answers["issue_toilets"] == 3
    requested = dict(Request.objects.filter(survey_response=high).values_list("item__code", "quantity"))
    assert requested == {code: qty for code, qty in {"water": 6, "blankets": None}.items() if code in supply_items}
    assert "water" in requested
    low = Response.objects.get(submission_key="import:qualtrics:R_2bSampleK6Low")
    assert (low.k6_score, low.shelter) == (1, shelter_b)
    assert not Response.objects.filter(submission_key__endswith="Preview").exists()


def test_a_qualtrics_numeric_export_with_split_needs_imports_with_position_codes(shelter_a, hq):
    mapping = json.loads((DATA / "qualtrics_numeric_mapping.json").read_text())
    job = run((DATA / "qualtrics_sample_numeric.csv").read_bytes(), user=hq, shelter=shelter_a, mapping=mapping)

    assert job.state == ImportState.DONE, errors_of(job)
    assert job.encoding == "utf-8"
    first = Response.objects.get(submission_key="import:qualtrics:R_4dSampleNumeric")
    # codes 1,1,2,1,2,3 are いつも, いつも, たいてい, いつも, たいてい, ときどき
    assert first.k6_score == 4 + 4 + 3 + 4 + 3 + 2
    assert first.answers["needs"] == ["water", "blankets"]
    assert first.answers["needs_water_quantity"] == 12
    second = Response.objects.get(submission_key="import:qualtrics:R_5eSampleNumeric")
    assert second.k6_score == 1  # 5 = まったくない, 4 = 少しだけ
    assert "needs" not in second.answers


def test_numeric_codes_are_not_guessed_without_a_mapping(shelter_a, hq):
    job = run((DATA / "qualtrics_sample_numeric.csv").read_bytes(), user=hq, shelter=shelter_a)

    assert job.state == ImportState.FAILED
    assert "line 4: k6_1: Choose one of the options." in errors_of(job)
    assert Response.objects.count() == 0


def test_a_kobo_export_imports_groups_select_multiple_and_offsets(sample_shelters, manager_a):
    shelter_a, _ = sample_shelters
    job = run((DATA / "kobo_sample.csv").read_bytes(), user=manager_a)

    assert job.state == ImportState.DONE, errors_of(job)
    assert job.file_format == KOBO
    assert job.mapping["response_id_column"] == "_uuid"
    assert job.mapping["answered_at_column"] == "end"
    first = Response.objects.get(submission_key="import:kobo:6f1c0b7e-8d5c-4a63-9a51-0c3c2f7d1a01")
    assert first.k6_score == 4 + 4 + 3 + 4 + 3 + 2
    assert first.answers["needs"] == ["water", "diapers"]
    assert (first.answers["needs_water_quantity"], first.answers["needs_diapers_quantity"]) == (4, 20)
    assert first.answered_at == datetime(2026, 11, 22, 10, 6, 40, tzinfo=TOKYO)
    assert first.shelter == shelter_a
    assert set(Request.objects.filter(survey_response=first).values_list("item__code", flat=True)) <= {
        "water",
        "diapers",
    }
    assert Request.objects.filter(survey_response=first, item__code="water", quantity=4).exists()
    second = Response.objects.get(submission_key="import:kobo:2a9d3e55-71f0-4a1e-b1c7-5d0f6c0e9b02")
    assert second.k6_score == 2


def test_kobo_per_option_columns_are_used_when_there_is_no_summary_column(shelter_a, hq):
    content = (
        b"_uuid,_submission_time,k6_1,needs/water,needs/food,needs/blankets\nu-1,2026-11-22T01:00:00,always,1,0,1\n"
    )
    job = run(content, user=hq, shelter=shelter_a)

    assert job.state == ImportState.DONE, errors_of(job)
    response = Response.objects.get()
    assert response.answers["needs"] == ["water", "blankets"]
    # _submission_time is UTC in KoBo's exports
    assert response.answered_at == datetime(2026, 11, 22, 10, 0, tzinfo=TOKYO)


def test_cp932_and_bom_files_are_read(shelter_a, hq):
    text = "response_id,answered_at,k6_1,comment\r\nr-1,2026/11/23 9:05,いつも,髙橋さんの①番の毛布\r\n"
    cp932 = run(text.encode("cp932"), user=hq, shelter=shelter_a, name="cp932.csv")
    assert (cp932.state, cp932.encoding) == (ImportState.DONE, "cp932"), errors_of(cp932)
    response = Response.objects.get(submission_key="import:csv:r-1")
    assert response.answers == {"k6_1": "always", "comment": "髙橋さんの①番の毛布"}
    assert response.answered_at == datetime(2026, 11, 23, 9, 5, tzinfo=TOKYO)

    bom = run(("\ufeff" + text.replace("r-1", "r-2")).encode("utf-8"), user=hq, shelter=shelter_a)
    assert (bom.state, bom.encoding) == (ImportState.DONE, "utf-8-sig"), errors_of(bom)
    assert ImportFile.read(("\ufeff" + text).encode()).columns[0] == "response_id"


def test_qualtrics_dates_are_read_in_the_zone_of_the_import_id_row_and_tsv_exports_are_utf16(shelter_a, hq):
    text = (DATA / "qualtrics_sample_text.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    rows[2] = [cell.replace("Asia/Tokyo", "America/Denver") for cell in rows[2]]
    tsv = io.StringIO()
    csv.writer(tsv, delimiter="\t").writerows(rows)
    job = run(tsv.getvalue().encode("utf-16"), user=hq, shelter=shelter_a, name="export.tsv")

    assert (job.state, job.encoding) == (ImportState.DONE, "utf-16"), errors_of(job)
    response = Response.objects.get(submission_key="import:qualtrics:R_1aSampleK6High")
    assert response.answered_at == datetime(2026, 11, 20, 10, 3, 10, tzinfo=ZoneInfo("America/Denver"))
    assert response.shelter == shelter_a  # one shelter for the whole file wins over the file's column


def test_a_kobo_export_with_an_hxl_row_and_label_headers_is_read(shelter_a, hq):
    content = (
        '"start";"end";"神経過敏に感じましたか";"いま必要な物資はありますか（いくつでも）";"_id";"_uuid";"_submission_time"\n'
        '"";"";"#k6";"#needs";"";"";""\n'
        '"2026-11-22T10:01:12.000+09:00";"2026-11-22T10:06:40.000+09:00";"いつも";"飲料水 毛布";"7";"u-7";"2026-11-22T01:06:45"\n'
    ).encode()
    job = run(content, user=hq, shelter=shelter_a)

    assert job.state == ImportState.DONE, errors_of(job)
    assert job.total_rows == 1
    response = Response.objects.get(submission_key="import:kobo:u-7")
    assert response.answers == {"k6_1": "always", "needs": ["water", "blankets"]}


# --- Errors by line, nothing half-written --------------------------------------------------------

GOOD_HEADER = "response_id,answered_at,shelter,k6_1,k6_2,k6_3,issue_toilets\n"


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(sample_shelters, hq):
    content = (
        GOOD_HEADER
        + "r-1,2026-11-20 10:00,SAMPLE-A,always,never,never,1\n"  # line 2: fine
        + "r-2,2026-11-20 10:00,SAMPLE-A,always,never,sometimes-ish,1\n"  # 3: unknown choice
        + "r-3,2026-11-20 10:00,SAMPLE-A,always,never,never,7\n"  # 4: out of range
        + "r-4,20/11/2026,SAMPLE-A,always,never,never,1\n"  # 5: bad date
        + "r-5,2026-11-20 10:00,NOWHERE,always,never,never,1\n"  # 6: unknown shelter
        + "r-6,2026-11-20 10:00,SAMPLE-A\n"  # 7: short row
        + "r-1,2026-11-20 10:00,SAMPLE-A,always,never,never,1\n"  # 8: the same response id again
    ).encode()
    job = run(content, user=hq)

    assert job.state == ImportState.FAILED
    found = errors_of(job)
    assert "line 3: k6_3: Choose one of the options." in found
    assert "line 4: issue_toilets: Answer with a number from 0 to 4." in found
    assert any(e.startswith("line 5: answered_at: Not a date and time") for e in found)
    assert "line 6: shelter: Unknown shelter “NOWHERE”." in found
    assert "line 7: row: 3 fields where the header has 7." in found
    assert "line 8: response_id: The response id r-1 is already on line 2." in found
    assert job.invalid_rows == 6
    assert Response.objects.count() == 0
    assert Request.objects.count() == 0


def test_messages_by_line_are_in_the_uploaders_language(sample_shelters, hq):
    content = (GOOD_HEADER + "r-1,2026-11-20 10:00,SAMPLE-A,always,never,bogus,1\n").encode()

    assert errors_of(run(content, user=hq, language="ja")) == ["line 2: k6_3: 選択肢から1つ選んでください。"]
    assert errors_of(run(content, user=hq, language="en")) == ["line 2: k6_3: Choose one of the options."]


def test_with_skip_invalid_the_valid_rows_are_imported_and_the_rest_reported(sample_shelters, hq):
    content = (
        GOOD_HEADER
        + "r-1,2026-11-20 10:00,SAMPLE-A,always,never,never,1\n"
        + "r-2,2026-11-20 10:00,SAMPLE-A,always,never,sometimes-ish,1\n"
        + "r-3,2026-11-20 10:00,SAMPLE-B,never,never,never,0\n"
    ).encode()
    job = run(content, user=hq, skip_invalid=True)

    assert job.state == ImportState.DONE
    assert (job.imported, job.invalid_rows) == (2, 1)
    assert errors_of(job) == ["line 3: k6_3: Choose one of the options."]
    assert set(Response.objects.values_list("submission_key", flat=True)) == {"import:csv:r-1", "import:csv:r-3"}


def test_a_missing_required_column_refuses_the_file_at_upload(shelter_a, hq):
    content = b"answered_at,k6_1\n2026-11-20 10:00,always\n"
    with pytest.raises(import_jobs.ApplicationError, match="No response id column"):
        run(content, user=hq, shelter=shelter_a)
    mapping = {"columns": {"K6-1": {"question": "k6_1"}}}
    with pytest.raises(import_jobs.ApplicationError, match="The file has no column K6-1"):
        run(b"response_id,answered_at,k6_1\nr,2026-11-20 10:00,always\n", user=hq, shelter=shelter_a, mapping=mapping)
    assert SurveyImport.objects.count() == 0


def test_qualtrics_multiple_row_headers_number_lines_from_the_top_of_the_file(sample_shelters, hq):
    data = (DATA / "qualtrics_sample_text.csv").read_bytes().decode("utf-8-sig")
    data = data.replace("たいてい,いつも,ときどき", "たいてい,時々かな,ときどき", 1)
    job = run(data.encode(), user=hq)

    assert job.state == ImportState.FAILED
    assert errors_of(job) == ["line 4: k6_3: Choose one of the options."]
    assert job.ignored == 1  # the Survey Preview row on line 6 is not an answer, so not an error either
    assert job.errors[0]["column"] == "Q3"


def test_a_manager_cannot_import_into_another_shelter(sample_shelters, manager_b):
    job = run((DATA / "kobo_sample.csv").read_bytes(), user=manager_b)

    assert job.state == ImportState.FAILED
    assert errors_of(job)[0] == "line 2: shelter: You do not operate the shelter “SAMPLE-A”."
    assert Response.objects.count() == 0


# --- Twice, progress, resuming ---------------------------------------------------------------------


def test_importing_the_same_file_twice_stores_each_response_once(sample_shelters, hq):
    content = (DATA / "kobo_sample.csv").read_bytes()
    first = run(content, user=hq)
    requests = Request.objects.count()
    second = run(content, user=hq)

    assert (first.imported, first.duplicates) == (2, 0)
    assert (second.imported, second.duplicates) == (0, 2)
    assert Response.objects.count() == 2
    assert Request.objects.count() == requests
    # A job run again after it finished does nothing.
    assert import_jobs.survey_import_run(job_id=second.pk) is None


def test_progress_advances_chunk_by_chunk_and_a_slice_resumes_where_the_last_stopped(shelter_a, hq, monkeypatch):
    monkeypatch.setattr(import_jobs, "CHUNK_ROWS", 10)
    lines = ["response_id,answered_at,k6_1,k6_2,k6_3,k6_4,k6_5,k6_6"]
    lines += [f"r-{n},2026-11-20 10:00,always,never,never,never,never,mostly" for n in range(35)]
    job = import_jobs.survey_import_create(
        file_name="big.csv", content="\n".join(lines).encode(), uploaded_by=hq, shelter=shelter_a, enqueue=False
    )
    assert import_jobs.import_progress(job)["percent"] == 0

    # A zero time budget stops after each chunk, as a slow worker would hit its budget.
    seen = []
    while job.state != ImportState.DONE:
        import_jobs.survey_import_run(job_id=job.pk, time_budget=0)
        job.refresh_from_db()
        seen.append((job.rows_processed, job.imported, import_jobs.import_progress(job)["percent"]))
    assert seen == [(10, 10, 36), (20, 20, 61), (30, 30, 87), (35, 35, 100)]
    assert job.total_rows == job.rows_checked == 35
    assert Response.objects.filter(k6_score=7).count() == 35


# --- The management command ------------------------------------------------------------------------


def test_the_command_imports_a_file_for_one_shelter(shelter_a, capsys):
    call_command(
        "import_survey_responses",
        str(DATA / "qualtrics_sample_numeric.csv"),
        "--shelter",
        str(shelter_a.pk),
        "--mapping",
        str(DATA / "qualtrics_numeric_mapping.json"),
    )
    assert "imported 2" in capsys.readouterr().out
    assert Response.objects.filter(shelter=shelter_a).count() == 2


def test_the_command_prints_file_line_field_errors_and_imports_nothing(sample_shelters, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(GOOD_HEADER + "r-1,2026-11-20 10:00,SAMPLE-A,always,never,bogus,1\n", encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_survey_responses", str(path), "--shelter-column", "shelter")
    assert f"{path}:2: k6_3: Choose one of the options." in capsys.readouterr().err
    assert Response.objects.count() == 0


# --- Pages, per persona ----------------------------------------------------------------------------

PERSONAS = ["hq", "manager_a", "manager_b", "official", "anonymous"]


@pytest.fixture
def people(hq, manager_a, manager_b, official):
    return {"hq": hq, "manager_a": manager_a, "manager_b": manager_b, "official": official, "anonymous": None}


def status_of(response):
    if response.status_code == 302 and "/login/" in response["Location"]:
        return "login"
    return response.status_code


@pytest.fixture
def job_of_manager_a(shelter_a, manager_a):
    content = b"response_id,answered_at,k6_1\nr-1,2026-11-20 10:00,always\n"
    return import_jobs.survey_import_create(
        file_name="a.csv", content=content, uploaded_by=manager_a, shelter=shelter_a, enqueue=False
    )


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("hq", 200), ("manager_a", 200), ("manager_b", 200), ("official", 403), ("anonymous", "login")],
)
def test_who_may_open_the_import_page(persona, expected, people, as_user):
    assert status_of(as_user(people[persona]).get(reverse("survey_imports:list"))) == expected


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("hq", 200), ("manager_a", 200), ("manager_b", 404), ("official", 403), ("anonymous", "login")],
)
def test_who_may_follow_a_job_and_its_progress(persona, expected, people, as_user, job_of_manager_a):
    client = as_user(people[persona])
    assert status_of(client.get(reverse("survey_imports:detail", args=[job_of_manager_a.pk]))) == expected
    progress = client.get(reverse("survey_imports:progress", args=[job_of_manager_a.pk]))
    assert status_of(progress) == expected
    if expected == 200:
        assert progress.json()["state"] == "queued"
        assert "answers" not in progress.json()


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("hq", 302), ("manager_a", 302), ("manager_b", 400), ("official", 403), ("anonymous", "login")],
)
def test_who_may_upload_into_shelter_a(
    persona, expected, people, as_user, shelter_a, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("a.csv", b"response_id,answered_at,k6_1\nr-1,2026-11-20 10:00,always\n")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = as_user(people[persona]).post(
            reverse("survey_imports:list"), {"file": upload, "shelter": shelter_a.pk}
        )
    assert status_of(response) == expected
    if expected == 302:
        job = SurveyImport.objects.get()
        assert response["Location"] == reverse("survey_imports:detail", args=[job.pk])
        assert (job.state, job.shelter, job.uploaded_by) == (ImportState.QUEUED, shelter_a, people[persona])
        assert len(callbacks) == 1  # the task is enqueued only after the job row commits
    else:
        assert SurveyImport.objects.count() == 0


def test_the_job_page_lists_errors_by_line_once_finished(sample_shelters, hq, as_user):
    content = (GOOD_HEADER + "r-1,2026-11-20 10:00,SAMPLE-A,always,never,bogus,1\n").encode()
    job = run(content, user=hq)
    page = as_user(hq).get(reverse("survey_imports:detail", args=[job.pk])).content.decode()
    assert '<td class="num line">2</td>' in page and "Choose one of the options." in page  # run() imports in English
    assert 'data-url="' + reverse("survey_imports:progress", args=[job.pk]) in page


def test_a_saved_mapping_names_columns_and_value_maps_the_automatic_one_cannot_guess(shelter_a, hq):
    mapping = {
        "columns": {"K6その1": {"question": "k6_1"}, "水": {"question": "needs", "option": "water"}},
        "values": {"k6_1": {"はい、いつも": "always"}},
        "response_id_column": "回答番号",
        "answered_at_column": "日時",
    }
    content = "回答番号,日時,K6その1,水\nA-1,2026-11-20T10:00:00+09:00,はい、いつも,○\n".encode()
    job = run(content, user=hq, shelter=shelter_a, mapping=mapping)

    assert job.state == ImportState.DONE, errors_of(job)
    response = Response.objects.get(submission_key="import:csv:A-1")
    assert response.answers == {"k6_1": "always", "needs": ["water"]}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("hq", 302), ("manager_a", 403), ("manager_b", 403), ("official", 403), ("anonymous", "login")],
)
def test_who_may_save_a_mapping_from_a_jobs_page(persona, expected, people, as_user, job_of_manager_a):
    mapping = {"columns": {"Q1": {"question": "k6_1"}}, "codes": "position"}
    response = as_user(people[persona]).post(
        reverse("survey_imports:save_mapping", args=[job_of_manager_a.pk]),
        {"name": "Qualtrics 2026", "mapping": json.dumps(mapping)},
    )
    assert status_of(response) == expected
    if expected == 302:
        assert SurveyImportMapping.objects.get(name="Qualtrics 2026").mapping == mapping
    else:
        assert not SurveyImportMapping.objects.exists()


def test_a_mapping_of_the_wrong_shape_is_not_saved(hq, as_user, job_of_manager_a):
    response = as_user(hq).post(
        reverse("survey_imports:save_mapping", args=[job_of_manager_a.pk]),
        {"name": "broken", "mapping": json.dumps({"columns": {"Q1": "k6_1"}, "codes": "guess"})},
        follow=True,
    )
    assert not SurveyImportMapping.objects.exists()
    assert "Q1" in response.content.decode()


def test_the_admin_refuses_a_saved_mapping_of_the_wrong_shape(db, admin_user, client):
    client.force_login(admin_user)
    add = reverse("admin:surveys_surveyimportmapping_add")

    refused = client.post(add, {"name": "broken", "mapping": json.dumps({"columns": {"Q1": "k6_1"}}), "notes": ""})
    saved = client.post(
        add,
        {
            "name": "fine",
            "mapping": json.dumps({"columns": {"Q1": {"question": "k6_1"}}, "codes": "position"}),
            "notes": "",
        },
    )

    assert refused.status_code == 200  # the form again, with the problem beside the field
    assert "Q1" in refused.context["adminform"].form.errors["mapping"][0]
    assert saved.status_code == 302
    assert list(SurveyImportMapping.objects.values_list("name", flat=True)) == ["fine"]


@pytest.mark.parametrize(("persona", "shown"), [("hq", True), ("manager_a", True), ("official", False)])
def test_the_navigation_offers_survey_imports_to_those_who_may_import(persona, shown, hq, manager_a, official, as_user):
    user = {"hq": hq, "manager_a": manager_a, "official": official}[persona]
    html = as_user(user).get(reverse("shelters:list")).content.decode()

    assert (f'href="{reverse("survey_imports:list")}"' in html) is shown


def test_beats_sweep_queues_again_a_job_whose_message_was_lost_and_leaves_live_ones_alone(
    sample_shelters, hq, monkeypatch
):
    queued_now = []
    monkeypatch.setattr(import_jobs, "_enqueue", queued_now.append)
    content = (GOOD_HEADER + "r-1,2026-11-20 10:00,SAMPLE-A,always,never,never,1\n").encode()
    lost, fresh, abandoned, running = (
        import_jobs.survey_import_create(
            file_name=f"{name}.csv", content=content, uploaded_by=hq, shelter=None, saved_mapping=None,
            skip_invalid=False, language="en", enqueue=False,
        )
        for name in ("lost", "fresh", "abandoned", "running")
    )  # fmt: skip
    now = timezone.now()
    SurveyImport.objects.filter(pk=lost.pk).update(updated_at=now - timedelta(minutes=5))
    SurveyImport.objects.filter(pk=abandoned.pk).update(state=ImportState.RUNNING, updated_at=now - timedelta(hours=1))
    SurveyImport.objects.filter(pk=running.pk).update(state=ImportState.RUNNING, updated_at=now - timedelta(minutes=2))

    resumed = import_jobs.survey_imports_resume(now=now)

    assert resumed == queued_now == [lost.pk, abandoned.pk]
    assert fresh.pk not in resumed and running.pk not in resumed
    # The resumed job then runs to the end, once.
    import_jobs.survey_import_run(job_id=lost.pk)
    assert SurveyImport.objects.get(pk=lost.pk).state == ImportState.DONE
    assert import_jobs.survey_import_run(job_id=lost.pk) is None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_dashboards_hear_of_an_import_once_per_chunk_not_once_per_row(shelter_a, hq, monkeypatch):
    from surveys import events

    monkeypatch.setattr(import_jobs, "CHUNK_ROWS", 10)
    summaries = []
    monkeypatch.setattr(events, "_send", summaries.append)
    lines = ["response_id,answered_at,k6_1,k6_2,k6_3,k6_4,k6_5,k6_6"]
    lines += [f"r-{n},2026-11-20 10:00,always,never,never,never,never,mostly" for n in range(25)]
    job = import_jobs.survey_import_create(
        file_name="big.csv", content="\n".join(lines).encode(), uploaded_by=hq, shelter=shelter_a, enqueue=False
    )

    import_jobs.survey_import_run(job_id=job.pk)

    assert SurveyImport.objects.get(pk=job.pk).imported == 25
    assert len(summaries) == 3 and all(pending.summary for pending in summaries)
