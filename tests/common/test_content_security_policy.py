"""A Content-Security-Policy without inline script, and templates that need none.

tests/browser/test_content_security_policy.py loads every page in Chromium under it.
"""

import re
from pathlib import Path

from django.conf import settings
from django.test import Client

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def _directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_every_page_is_served_with_a_policy_that_refuses_inline_script(db):
    response = Client().get("/login/")

    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["default-src"]


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = template.read_text()
        offenders += [
            f"{template}: {m.group(0)}" for m in (*INLINE_SCRIPT.finditer(text), *INLINE_HANDLER.finditer(text))
        ]

    assert not offenders
