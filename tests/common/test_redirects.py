"""Every `next` a form sends leads back to this site only."""

import pytest
from django.test import Client

OUTSIDE = [
    "http://evil.example/",
    "https://evil.example/x",
    "//evil.example/",
    "javascript:alert(1)",
    "http://testserver:8443/",
]


@pytest.mark.parametrize("target", OUTSIDE)
def test_the_shelter_status_form_does_not_redirect_off_site(as_user, hq, shelter_a, target):
    response = as_user(hq).post(f"/shelters/{shelter_a.pk}/", {"status": "full", "reason": "", "next": target})

    assert response.status_code == 302
    assert response["Location"] == f"/shelters/{shelter_a.pk}/"


def test_the_shelter_status_form_returns_to_a_page_of_this_site(as_user, hq, shelter_a):
    response = as_user(hq).post(f"/shelters/{shelter_a.pk}/", {"status": "full", "next": "/shelters/?status=open"})

    assert response["Location"] == "/shelters/?status=open"


@pytest.mark.parametrize("target", OUTSIDE)
def test_logging_in_does_not_redirect_off_site(hq, target):
    response = Client().post("/login/", {"username": hq.username, "password": "pass-for-tests", "next": target})

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize("target", OUTSIDE)
def test_choosing_a_language_does_not_redirect_off_site(db, target):
    response = Client().post("/i18n/setlang/", {"language": "en", "next": target})

    assert response["Location"] == "/"
