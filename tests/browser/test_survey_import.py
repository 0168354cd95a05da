import pytest
from playwright.sync_api import expect

from surveys.imports import jobs as import_jobs
from surveys.models import ImportState, Response, SurveyImport
from tests.surveys.test_import import DATA

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_manager_uploads_a_kobo_file_and_watches_the_progress_bar_reach_the_summary(
    page, live_server, log_in, manager_a, shelter_a, monkeypatch, tmp_path
):
    # No Celery worker here: the test runs the job itself while the page polls.
    monkeypatch.setattr(import_jobs, "_enqueue", lambda job_id: None)
    shelter_a.code = "SAMPLE-A"
    shelter_a.save(update_fields=["code"])
    text = (DATA / "kobo_sample.csv").read_text(encoding="utf-8")
    bad = text.splitlines()[2].replace('"never";"a_little"', '"never";"maybe"', 1).replace("2a9d3e55", "2a9d3e56")
    upload = tmp_path / "kobo_export.csv"
    upload.write_text(text + bad + "\n", encoding="utf-8")

    log_in(page, "manager_a")
    page.goto(f"{live_server.url}/surveys/imports/")
    page.set_input_files("input[name=file]", str(upload))
    page.check("input[name=skip_invalid]")
    page.click("form.import-form button[type=submit]")

    expect(page.locator("[data-field=state_label]")).to_have_text("待機中")
    expect(page.locator("[data-field=bar]")).to_have_attribute("value", "0")
    job = SurveyImport.objects.get()
    import_jobs.survey_import_run(job_id=job.pk)

    expect(page.locator("[data-field=state_label]")).to_have_text("完了")
    expect(page.locator("[data-field=imported]")).to_have_text("2")
    expect(page.locator("[data-field=invalid_rows]")).to_have_text("1")
    # Finished while watched: the page reloads once to list the bad line (slow on a loaded machine).
    expect(page.locator("table.errors td.line")).to_have_text(["4"], timeout=20_000)
    expect(page.locator("table.errors")).to_contain_text("k6_2")
    assert Response.objects.filter(shelter=shelter_a).count() == 2
    assert SurveyImport.objects.get().state == ImportState.DONE


def test_a_job_that_ends_before_the_pages_first_poll_answers_still_shows_its_errors(
    page, live_server, log_in, manager_a, shelter_a, monkeypatch, tmp_path
):
    monkeypatch.setattr(import_jobs, "_enqueue", lambda job_id: None)
    shelter_a.code = "SAMPLE-A"
    shelter_a.save(update_fields=["code"])
    text = (DATA / "kobo_sample.csv").read_text(encoding="utf-8")
    bad = text.splitlines()[2].replace('"never";"a_little"', '"never";"maybe"', 1).replace("2a9d3e55", "2a9d3e56")
    upload = tmp_path / "kobo_export.csv"
    upload.write_text(text + bad + "\n", encoding="utf-8")
    # The progress endpoint does not answer at first (a slow network), so the job ends unseen.
    page.route("**/progress/", lambda route: route.abort())

    log_in(page, "manager_a")
    page.goto(f"{live_server.url}/surveys/imports/")
    page.set_input_files("input[name=file]", str(upload))
    page.check("input[name=skip_invalid]")
    page.click("form.import-form button[type=submit]")
    expect(page.locator("[data-field=state_label]")).to_have_text("待機中")
    import_jobs.survey_import_run(job_id=SurveyImport.objects.get().pk)
    page.unroute("**/progress/")

    expect(page.locator("table.errors td.line")).to_have_text(["4"], timeout=20_000)
