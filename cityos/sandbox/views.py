"""The sandbox's pages (sign-in, a resident's QR code and opt-in choices) and its APIs (attributes,
opt-in, location), in the shapes cityos/client.py reads."""

import hmac
from functools import wraps

import segno
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from cityos.client import CATEGORIES, CONTEXTS, DECISIONS, RECIPIENTS, TIMINGS
from cityos.sandbox import instance
from cityos.sandbox.models import ConsentDecision, SampleResident
from cityos.sandbox.signing import qr_payload

# Shared with the shelters: the resident's attributes, and their family's.
SHARE_ATTRIBUTES = ("basic", "shelter_staff", "disaster")
SHARE_FAMILY = ("household", "shelter_staff", "disaster")
# Counted among the residents outside the shelters by area.
SHARE_LOCATION = ("location", "hq", "disaster")


TIMING_LABELS = {
    "every_time": _("Ask me every time"),
    "once": _("Ask me once"),
    "new_data": _("Ask me when there is new data"),
}
CATEGORY_LABELS = {
    "basic": _("Name and birth date"),
    "contact": _("Address and phone"),
    "household": _("Family"),
    "support": _("Support needs"),
    "location": _("Location"),
    "survey": _("Survey answers"),
    "stays": _("Where I stay"),
}
RECIPIENT_LABELS = {
    "shelter_staff": _("Shelter staff"),
    "hq": _("Disaster HQ"),
    "health": _("Health staff"),
    "supporters": _("Supporters"),
    "family": _("Family"),
}
CONTEXT_LABELS = {"peacetime": _("Peacetime"), "disaster": _("Disaster")}


def _samples() -> dict[str, dict]:
    return {resident["city_os_id"]: resident for resident in instance.sample_residents()}


def _given(resident: SampleResident, cell: tuple[str, str, str]) -> bool:
    category, recipient, context = cell
    return resident.decisions.filter(category=category, recipient=recipient, context=context, decision="given").exists()


class LoginView(auth_views.LoginView):
    template_name = "sandbox/login.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "residents": instance.sample_residents()}


@login_required
def resident(request):
    """A signed-in sample resident: their QR code for the shelter's desk, and their opt-in choices."""
    me = request.user.sample_resident
    if request.method == "POST":
        _save_choices(me, request.POST)
        return redirect("resident")
    payload = qr_payload(me.city_os_id)
    decided = {(d.category, d.recipient, d.context): d.decision for d in me.decisions.all()}
    rows = [
        {
            "category": category,
            "label": CATEGORY_LABELS[category],
            "cells": [
                {
                    "name": f"{category}.{recipient}.{context}",
                    "recipient": recipient,
                    "context": context,
                    "value": decided.get((category, recipient, context), ""),
                }
                for recipient in RECIPIENTS
                for context in CONTEXTS
            ],
        }
        for category in CATEGORIES
    ]
    return render(
        request,
        "sandbox/resident.html",
        {
            "me": me,
            "sample": _samples().get(me.city_os_id, {}),
            "payload": payload,
            "qr_svg": segno.make(payload, error="m").svg_inline(scale=3, title="QR"),
            "rows": rows,
            "recipients": [RECIPIENT_LABELS[r] for r in RECIPIENTS],
            "contexts": [CONTEXT_LABELS[c] for c in CONTEXTS],
            "timings": list(TIMING_LABELS.items()),
        },
    )


@transaction.atomic
def _save_choices(me: SampleResident, data) -> None:
    now = timezone.now()
    timing = data.get("timing")
    if timing in TIMINGS:
        me.timing = timing
    for category in CATEGORIES:
        for recipient in RECIPIENTS:
            for context in CONTEXTS:
                value = data.get(f"{category}.{recipient}.{context}", "")
                cell = {"resident": me, "category": category, "recipient": recipient, "context": context}
                if value in DECISIONS:
                    current = ConsentDecision.objects.filter(**cell).first()
                    if current is None or current.decision != value:
                        ConsentDecision.objects.update_or_create(**cell, defaults={"decision": value, "at": now})
                elif value == "":
                    ConsentDecision.objects.filter(**cell).delete()
    me.updated_at = now
    me.save(update_fields=["timing", "updated_at"])


# --- APIs ---------------------------------------------------------------------------------------


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)


def api(view):
    """Bearer CITYOS_API_TOKEN (instance.api_token) or 401."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        expected = f"Bearer {instance.api_token(settings.SANDBOX_DIR)}"
        if not hmac.compare_digest(request.headers.get("Authorization", ""), expected):
            return _error(401, "unauthorized", "A valid bearer token is required.")
        return view(request, *args, **kwargs)

    return require_GET(wrapped)


def _resident_or_none(city_os_id: str) -> SampleResident | None:
    return SampleResident.objects.filter(city_os_id=city_os_id).first()


def _person(sample: dict) -> dict:
    return {key: sample.get(key, "") for key in ("city_os_id", "name", "name_kana", "birth_date", "sex")}


@api
def attributes(request, city_os_id: str):
    me = _resident_or_none(city_os_id)
    if me is None:
        return _error(404, "not_found", "No such resident.")
    if not _given(me, SHARE_ATTRIBUTES):
        return _error(403, "not_shared", "The resident does not share their attributes with shelters.")
    samples = _samples()
    sample = samples[city_os_id]
    family = []
    if _given(me, SHARE_FAMILY):
        family = [
            {**_person(other), "relationship": other.get("relationship", "")}
            for other in samples.values()
            if other["household"] == sample["household"] and other["city_os_id"] != city_os_id
        ]
    return JsonResponse(
        {**_person(sample), "address": sample.get("address", ""), "phone": sample.get("phone", ""), "family": family}
    )


@api
def consents(request, city_os_id: str):
    me = _resident_or_none(city_os_id)
    if me is None:
        return _error(404, "not_found", "No such resident.")
    return JsonResponse(
        {
            "city_os_id": me.city_os_id,
            "timing": me.timing,
            "updated_at": me.updated_at.isoformat() if me.updated_at else None,
            "decisions": [
                {
                    "category": d.category,
                    "recipient": d.recipient,
                    "context": d.context,
                    "decision": d.decision,
                    "at": d.at.isoformat(),
                }
                for d in me.decisions.order_by("category", "recipient", "context")
            ],
        }
    )


@api
def areas(request):
    """Residents who share their location with HQ, counted per area (all of the sandbox's residents
    are outside the shelters as far as it knows)."""
    category, recipient, context = SHARE_LOCATION
    sharing = set(
        ConsentDecision.objects.filter(
            category=category, recipient=recipient, context=context, decision="given"
        ).values_list("resident__city_os_id", flat=True)
    )
    counts: dict[str, int] = {}
    for sample in instance.sample_residents():
        if sample["city_os_id"] in sharing:
            counts[sample["area"]] = counts.get(sample["area"], 0) + 1
    return JsonResponse(
        {
            "as_of": timezone.now().isoformat(),
            "areas": [
                {"code": area["code"], "name": area["name"], "count": counts.get(area["code"], 0)}
                for area in instance.sample_areas()
            ],
        }
    )
