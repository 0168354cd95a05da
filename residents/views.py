"""The resident's own pages (/me/) and HQ's list of correction requests (/residents/corrections/).

Every read goes through access/residents.py, keyed by the signed-in user's City OS ID; every
write through residents/services.py. A user without a City OS ID gets 404 on /me/, anonymous
users the login page.
"""

import json
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from access import policy, retention
from access import residents as own
from common.errors import ApplicationError
from common.spreadsheets import csv_response
from consent.rules import (
    CATEGORY_PURPOSES,
    LEGAL_RULES,
    NOT_ASKED,
    RECIPIENT_DETAILS,
    Category,
    Context,
    Decision,
    Recipient,
    Timing,
)
from residents import downloads, plain, services
from residents.forms import DECISIONS, consent_changes_from, consent_field
from residents.models import MESSAGE_MAX_LENGTH, CorrectableField, CorrectionState
from residents.receipts import consent_receipt, decision_label

ACCESSES_PER_PAGE = 50
RECORDS_PER_PAGE = 50
CORRECTIONS_PER_PAGE = 50


def resident_page(view):
    """Signed in (else the login page) with a City OS ID (else 404: there is no page for them)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not policy.may_use_own_page(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


@resident_page
def me(request):
    data = own.own_data(request.user)
    people = [
        {
            "person": person,
            "stays": person.all_stays,
            "needs": list(person.support_needs.all()),
            "retention": retention.retention_note(person),
            "responses": [r for r in data.responses if r.respondent_id == person.pk],
            "follow_ups": [f for f in data.follow_ups if f.evacuee_id == person.pk],
        }
        for person in data.people
    ]
    return render(
        request,
        "residents/me.html",
        {
            "people": people,
            "household": data.household,
            "summary": _consent_sections(data.consents),
            "timing": Timing(data.consents.timing).label,
            "timing_set": data.consents.timing_set,
            "records_count": len(data.records),
            "corrections": data.corrections,
            "tab": "me",
        },
    )


def _consent_sections(consents: own.OwnConsents) -> list[dict]:
    """Per recipient: each cell of the consent form, and the counts given, refused and not asked
    (which /me/ shows as its summary)."""
    sections = []
    for recipient in Recipient:
        given = refused = 0
        rows = []
        for category in Category:
            cells = []
            for context in Context:
                found = consents.decisions.get((category, recipient, context))
                current = found.decision if found else NOT_ASKED
                given += current == Decision.GIVEN
                refused += current == Decision.REFUSED
                cells.append(
                    {
                        "name": consent_field(recipient, context, category),
                        "context": context.label,
                        "current": current,
                    }
                )
            rows.append({"label": category.label, "cells": cells})
        sections.append(
            {
                "code": recipient.value,
                "label": recipient.label,
                "detail": RECIPIENT_DETAILS[recipient],
                "rows": rows,
                "given": given,
                "refused": refused,
                "not_asked": len(Category) * len(Context) - given - refused,
            }
        )
    return sections


@resident_page
@require_http_methods(["GET", "POST"])
def consents(request):
    error = None
    if request.method == "POST":
        try:
            changes, timing = consent_changes_from(request.POST)
            record = services.resident_consents_change(user=request.user, changes=changes, timing=timing)
        except ApplicationError as refused:
            error = refused
        else:
            if record is None:
                messages.info(request, _("Nothing changed."))
            else:
                messages.success(request, _("Saved. A consent record was made; you can download it below."))
            return redirect("me:consents")
    current = own.own_consents(request.user)
    response = render(
        request,
        "residents/consents.html",
        {
            "sections": _consent_sections(current),
            "choices": [(code, decision_label(code)) for code in DECISIONS],
            "purposes": [(category.label, CATEGORY_PURPOSES[category]) for category in Category],
            "contexts": list(Context),
            "timings": Timing.choices,
            "timing": current.timing,
            "rules": [
                {
                    "rule": rule,
                    "categories": [Category(c).label for c in Category if c in rule.categories],
                    "recipients": [Recipient(r).label for r in Recipient if r in rule.recipients],
                    "disaster_only": rule.contexts == {Context.DISASTER},
                    "in_force": rule.standing and code in _standing_codes(),
                }
                for code, rule in LEGAL_RULES.items()
            ],
            "error": error,
            "tab": "consents",
        },
        status=400 if error else 200,
    )
    return response


def _standing_codes() -> set[str]:
    return set(settings.CONSENT_STANDING_RULES)


def _record_rows(record) -> list[dict]:
    return [
        {
            "category": Category(change["category"]).label,
            "recipient": Recipient(change["recipient"]).label,
            "context": Context(change["context"]).label,
            "decision": decision_label(change["decision"]),
            "was": decision_label(change["was"]),
        }
        for change in record.changes
    ]


@resident_page
def records(request):
    page = own.own_consent_records(
        request.user, paginate=lambda rows: Paginator(rows, RECORDS_PER_PAGE).get_page(request.GET.get("page"))
    )
    for record in page:
        record.rows = _record_rows(record)
    return render(request, "residents/records.html", {"page": page, "tab": "records"})


def _withdraw_url(request) -> str:
    return request.build_absolute_uri(reverse("me:consents"))


@resident_page
def receipt(request, receipt_id):
    record = own.own_consent_record(request.user, receipt_id)
    body = json.dumps(consent_receipt(record, withdraw_url=_withdraw_url(request)), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="consent-receipt-{record.receipt_id}.json"'
    return response


def _access_rows(accesses) -> list[dict]:
    rows = []
    for access in accesses:
        release = access.release
        rows.append(
            {
                "at": access.at,
                "role": plain.role_phrase(access.role),
                "place": (
                    access.shelter.name
                    if access.shelter_id
                    else _("Their own page")
                    if access.role == own.RESIDENT_ROLE
                    else None
                ),
                "purpose": plain.purpose_phrase(access.purpose),
                "basis": plain.basis_phrase(access),
                "categories": [
                    Category(code).label for code in access.categories.split(",") if code in Category.values
                ],
                "release": release,
                "release_until": (release.revoked_at or release.expires_at) if release else None,
            }
        )
    return rows


@resident_page
def accesses(request):
    page = own.own_accesses(
        request.user, paginate=lambda rows: Paginator(rows, ACCESSES_PER_PAGE).get_page(request.GET.get("page"))
    )
    return render(
        request,
        "residents/accesses.html",
        {"page": page, "rows": _access_rows(page), "tab": "accesses", "releases": own.own_releases(request.user)},
    )


def _download(request) -> dict:
    """All the resident's data as one document, for both downloads."""
    data = own.own_data(request.user, with_answers=True)
    accesses = own.own_accesses(request.user)
    return downloads.as_json(data, _access_rows(accesses), withdraw_url=_withdraw_url(request))


@resident_page
def data_json(request):
    body = _download(request)
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


@resident_page
def data_csv(request):
    body = _download(request)
    return csv_response("my-data.csv", [_("section"), _("item"), _("field"), _("value")], downloads.as_rows(body))


@resident_page
@require_http_methods(["GET", "POST"])
def correction(request):
    people = own.own_people(request.user)
    error = None
    values = {"field": "", "message": "", "evacuee": ""}
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in values}
        try:
            services.correction_request_create(
                user=request.user,
                evacuee_id=values["evacuee"] or (people[0].pk if len(people) == 1 else ""),
                field=values["field"],
                message=values["message"],
            )
        except ApplicationError as refused:
            if refused.status_code == 404:
                raise  # someone else's record: not found, as any other
            error = refused
        else:
            messages.success(request, _("Sent. The city will look at your request; its state shows on your page."))
            return redirect("me:index")
    return render(
        request,
        "residents/correction.html",
        {
            "people": people,
            "fields": CorrectableField.choices,
            "values": values,
            "max_length": MESSAGE_MAX_LENGTH,
            "error": error,
            "tab": "me",
        },
        status=400 if error else 200,
    )


# --- HQ -------------------------------------------------------------------------------------------


@login_required
def corrections(request):
    if not policy.may_handle_corrections(request.user):
        raise Http404
    state = request.GET.get("state", CorrectionState.OPEN)
    if state not in CorrectionState.values and state != "all":
        state = CorrectionState.OPEN
    page = own.correction_requests_for_list(
        user=request.user,
        state="" if state == "all" else state,
        purpose="page.corrections",
        paginate=lambda rows: Paginator(rows, CORRECTIONS_PER_PAGE).get_page(request.GET.get("page")),
    )
    return render(
        request,
        "residents/corrections.html",
        {"page": page, "state": state, "states": CorrectionState.choices},
    )


@login_required
@require_POST
def correction_handle(request, request_id):
    if not policy.may_handle_corrections(request.user):
        raise Http404
    try:
        services.correction_request_handle(
            user=request.user, request_id=request_id, state=request.POST.get("state", "")
        )
    except ApplicationError as refused:
        if refused.status_code == 404:
            raise
        messages.error(request, f"{refused.field}: {refused.message}")
    else:
        messages.success(request, _("Marked as handled."))
    return redirect("residents:corrections")
