"""Every error in the one shape: JSON ({"error": {code, message, fields}}) on /api/, a translated page
with the site's navigation elsewhere; 404, 405, 413, 429 and 500 included (issue 10, part 5)."""

import pytest
from django.test import Client, RequestFactory, override_settings
from django.urls import path
from rest_framework.exceptions import Throttled

from common import error_pages
from common.errors import api_exception_handler
from config.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401

pytestmark = pytest.mark.django_db


def broken(request):
    raise RuntimeError("a bug")


# This module is also a URLconf: the site's, plus a view that fails, on the API and on a page.
urlpatterns = [path("api/broken/", broken), path("broken/", broken), *urlpatterns]


def assert_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"} and error["code"] == code and error["message"]
    return error


def assert_page(response, status: int, text: str) -> None:
    assert response.status_code == status
    page = response.content.decode()
    assert 'class="topbar"' in page  # the site's layout and navigation
    assert text in page


def test_an_unknown_api_address_is_a_404_in_the_json_shape(api_as, hq):
    assert_shape(api_as(hq).get("/api/no-such-thing/"), 404, "not_found")


def test_a_method_the_api_does_not_take_is_a_405_in_the_json_shape(api_as, hq):
    assert_shape(api_as(hq).delete("/api/shelters/"), 405, "method_not_allowed")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_request_too_large_is_a_413_in_the_json_shape(api_as, hq):
    response = api_as(hq).post("/api/evacuees/", {"name": "x" * 2000}, format="json")

    assert_shape(response, 413, "request_too_large")


def test_a_throttled_api_request_is_a_429_in_the_json_shape_with_retry_after():
    response = api_exception_handler(Throttled(wait=30), {})

    assert response.status_code == 429
    assert response.data["error"]["code"] == "throttled" and response.data["error"]["fields"] == {}
    assert response["Retry-After"] == "30"


@override_settings(ROOT_URLCONF=__name__)
def test_a_failure_on_the_api_is_a_500_in_the_json_shape(hq):
    client = Client(raise_request_exception=False)
    client.force_login(hq)

    assert_shape(client.get("/api/broken/"), 500, "server_error")


def test_an_unknown_page_is_a_translated_404_page_with_the_navigation(as_user, hq):
    assert_page(as_user(hq).get("/no-such-page/"), 404, "見つかりません")


def test_the_404_page_is_english_for_an_english_reader(as_user, hq):
    client = as_user(hq)
    client.cookies["django_language"] = "en"

    assert_page(client.get("/no-such-page/"), 404, "Not found.")


def test_a_method_a_page_does_not_take_is_a_405_page(as_user, hq, shelter_a):
    response = as_user(hq).get(f"/shelters/{shelter_a.pk}/desk/check-in/")

    assert_page(response, 405, "405")
    assert response["Allow"] == "POST"


def test_a_form_without_its_csrf_token_is_a_403_page_in_the_layout(hq):
    client = Client(enforce_csrf_checks=True)
    client.force_login(hq)

    assert_page(client.post("/shelters/", {"q": "x"}), 403, "403")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_form_too_large_is_a_413_page(as_user, hq):
    assert_page(as_user(hq).post("/shelters/", {"q": "x" * 2000}), 413, "413")


@override_settings(ROOT_URLCONF=__name__)
def test_a_failure_on_a_page_is_a_500_page_with_the_navigation(hq):
    client = Client(raise_request_exception=False)
    client.force_login(hq)

    assert_page(client.get("/broken/"), 500, "500")


def test_the_500_page_needs_neither_the_database_nor_a_user(django_assert_num_queries):
    request = RequestFactory().get("/somewhere/")  # no session, no user: the middleware may have failed

    with django_assert_num_queries(0):
        response = error_pages.server_error(request)

    assert_page(response, 500, "500")
