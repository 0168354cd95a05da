"""Pages for people: the check-in desk, the resident list, HQ's shelter list."""

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from access import people, policy, retention
from cityos import client as city_os
from cityos import sync as city_os_sync
from common import limits
from common.errors import ApplicationError
from common.permissions import role_required
from common.qr import qr_svg
from common.redirects import redirect_to_next
from common.roles import is_headquarters, is_staff_member
from consent import asking, links
from consent import services as consent_services
from consent.models import subject_of
from consent.rules import Category, Method
from shelters import selectors, services
from shelters.forms import (
    CheckInForm,
    CheckOutForm,
    CityOSCheckInForm,
    MemberFormSet,
    StatusChangeForm,
    TransferForm,
    WalkInHouseholdForm,
)
from shelters.models import Sex, Shelter, StayMode
from shelters.services import retention as retention_services


def _operated_shelter(request, shelter_id: int) -> Shelter:
    shelter = get_object_or_404(Shelter, pk=shelter_id)
    if not policy.can_operate_shelter(request.user, shelter):
        raise PermissionDenied
    return shelter


def _report(request, error: ApplicationError) -> None:
    messages.error(request, str(error.message))


# --- Asking the resident (consent/asking.py) -------------------------------------------------------

# What the desk says when a resident refused something, plainly: at registration it was not saved;
# for someone already registered it is no longer shown to the shelter's staff.
_NOT_SAVED = {
    Category.BASIC: gettext_lazy(
        "Name and other basic details were not saved: the person is counted only (氏名非公開)."
    ),
    Category.CONTACT: gettext_lazy("The phone number was not saved."),
    Category.HOUSEHOLD: gettext_lazy("The household was not linked: each person was registered on their own."),
    Category.SUPPORT: gettext_lazy("The support needs were not saved."),
}
_NOT_SHOWN = {
    Category.BASIC: gettext_lazy("Their name will not be shown: they are counted only."),
    Category.CONTACT: gettext_lazy("Their phone number will not be shown."),
    Category.HOUSEHOLD: gettext_lazy("Their household will not be shown."),
    Category.SUPPORT: gettext_lazy("Their support needs will not be shown."),
}


def _ids(values, limit: int = people.MAX_PEOPLE_TO_ASK) -> list[int]:
    return [int(v) for v in list(values)[:limit] if limits.is_id(v)]


def _ask_url(shelter: Shelter, evacuee_ids) -> str:
    """The desk showing its questions to these people (`?ask=`, read back by `_ids`)."""
    return f"{reverse('shelters:desk', args=[shelter.pk])}?ask={','.join(str(pk) for pk in evacuee_ids)}"


def _ask_panel(request, shelter: Shelter, evacuee_ids: list[int], *, purpose: str) -> list[dict]:
    """For each person just checked in whose timing says ask: the questions and their own-phone link."""
    panel = []
    for found in selectors.desk_questions(
        user=request.user, shelter_id=shelter.pk, evacuee_ids=evacuee_ids, purpose=purpose
    ):
        url = request.build_absolute_uri(links.own_device_path(found.subject))
        panel.append(
            {
                "person": found.person,
                "questions": found.questions,
                "prefix": f"ask-{found.person.pk}-",
                "own_device_url": url,
                "qr": qr_svg(url),
            }
        )
    return panel


def _desk_context(request, shelter: Shelter, **extra) -> dict:
    context = {
        "shelter": shelter,
        "query": "",
        "all_people": is_headquarters(request.user),
        "groups": [],
        "result_count": 0,
        "idempotency_key": uuid.uuid4().hex,
        "modes": StayMode.choices,
        "walk_in_form": WalkInHouseholdForm(initial={"idempotency_key": uuid.uuid4().hex}),
        "member_formset": MemberFormSet(prefix="member"),
        # A walk-in is new to the ledger: every question of the desk, unless a City OS ID says otherwise.
        "walk_in_questions": asking.questions_for_someone_new(asking.DESK_CATEGORIES, asking.DESK_RECIPIENTS),
        "ask_given": [],
        "ask_refused": [],
    }
    context.update(extra)
    return context


@login_required
def home(request):
    if policy.is_resident_only(request.user):
        return redirect("me:index")
    if not is_staff_member(request.user):
        raise PermissionDenied
    managed = policy.operated_shelters(request.user)
    if not is_headquarters(request.user) and managed.count() == 1:
        return redirect("shelters:desk", shelter_id=managed.get().pk)
    return redirect("shelters:list")


@role_required
def shelter_list(request):
    status = request.GET.get("status", "")
    query = request.GET.get("q", "").strip()
    shelters = list(selectors.shelter_list(user=request.user, status=status or None, query=query))
    for shelter in shelters:
        shelter.can_operate = policy.can_operate_shelter(request.user, shelter)
    return render(
        request,
        "shelters/shelter_list.html",
        {
            "shelters": shelters,
            "totals": selectors.shelter_totals(shelters),
            "status": status,
            "query": query,
            "status_form": StatusChangeForm(),
        },
    )


@role_required
def shelter_detail(request, shelter_id: int):
    shelter = get_object_or_404(policy.shelters_visible_to(request.user).prefetch_related("facilities"), pk=shelter_id)
    can_operate = policy.can_operate_shelter(request.user, shelter)
    form = StatusChangeForm(request.POST or None, initial={"status": shelter.status})
    if request.method == "POST":
        if not can_operate:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.shelter_status_change(
                    shelter_id=shelter.pk,
                    to_status=form.cleaned_data["status"],
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except ApplicationError as error:
                _report(request, error)
            else:
                messages.success(request, _("Status changed."))
            return redirect_to_next(request, reverse("shelters:detail", args=[shelter.pk]))
    counts = {code: people for code, people in shelter.support_counts.items() if people}
    return render(
        request,
        "shelters/shelter_detail.html",
        {
            "shelter": shelter,
            "can_operate": can_operate,
            "form": form,
            "history": selectors.shelter_status_history(shelter=shelter),
            "support_counts": [
                (c, counts.get(c.code, 0)) for c in selectors.support_categories() if counts.get(c.code)
            ],
        },
    )


# --- The City OS at the desk -------------------------------------------------------------------

CITY_OS_TICKET_SALT = "shelters.desk.city_os"
# From the scan to the tap: long enough for a family to gather, short enough not to be reused later.
CITY_OS_TICKET_SECONDS = 15 * 60

CITY_OS_BAD_CODE = gettext_lazy(
    "This QR code could not be verified or has expired. Ask the resident to show the code in their "
    "City OS app again, or search by name."
)
CITY_OS_NOT_SHARED = gettext_lazy(
    "This resident does not share their details with shelters at the City OS. Register them with the "
    "walk-in form below."
)
CITY_OS_UNAVAILABLE = gettext_lazy(
    "The City OS cannot be reached just now. Search by name, or register them with the walk-in form below."
)
CITY_OS_EXPIRED = gettext_lazy("This scan has expired. Scan the resident's QR code again.")


def _city_os_ticket(request, shelter: Shelter, subject: str) -> str:
    """The scan's subject, signed for this user and shelter: the tap re-asks the City OS with it."""
    return signing.dumps({"sub": subject, "shelter": shelter.pk, "user": request.user.pk}, salt=CITY_OS_TICKET_SALT)


def _city_os_ticket_subject(request, shelter: Shelter, ticket: str) -> str | None:
    try:
        data = signing.loads(ticket, salt=CITY_OS_TICKET_SALT, max_age=CITY_OS_TICKET_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("shelter") != shelter.pk or data.get("user") != request.user.pk:
        return None
    subject = data.get("sub")
    return subject if isinstance(subject, str) and subject else None


def _city_os_people(attributes: city_os.Attributes) -> list:
    """The resident first, then the family the City OS shares, as the desk shows and registers them
    (at the resident's address: the City OS shares a household's address once)."""
    return [
        services.PersonData(
            name=person.name,
            name_kana=person.name_kana,
            birth_date=person.birth_date,
            sex=person.sex if person.sex in Sex.values else Sex.UNKNOWN,
            address=attributes.address,
            city_os_id=person.city_os_id,
        )
        for person in (attributes, *attributes.family)
    ]


RELATIONSHIPS = {
    "self": gettext_lazy("Showed the code"),
    "head": gettext_lazy("Head of household"),
    "spouse": gettext_lazy("Spouse"),
    "child": gettext_lazy("Child"),
    "parent": gettext_lazy("Parent"),
    "grandparent": gettext_lazy("Grandparent"),
    "grandchild": gettext_lazy("Grandchild"),
    "sibling": gettext_lazy("Sibling"),
}


def _relationship_label(value: str):
    return RELATIONSHIPS.get(value, value)


def _city_os_scan(request, shelter: Shelter, query: str) -> tuple[str, dict | None]:
    """A scanned QR code the City OS signed: (what to search by, the confirmation or the notice).

    (query, None) for anything that is not a signed code: typed text and bare IDs are searched as
    before. A signed code is verified; the City OS is asked for the resident's basic items and the
    family they share (it refuses unless they share them with shelters), and their opt-in is applied.
    """
    try:
        subject = city_os.qr_subject(query)
    except city_os.CityOSRefused:
        services.city_os_scan_record(shelter_id=shelter.pk, actor=request.user, outcome=services.ScanOutcome.BAD_CODE)
        return "", {"notice": CITY_OS_BAD_CODE, "level": "error"}
    except city_os.CityOSUnavailable:
        services.city_os_scan_record(
            shelter_id=shelter.pk, actor=request.user, outcome=services.ScanOutcome.UNAVAILABLE
        )
        return "", {"notice": CITY_OS_UNAVAILABLE, "level": "warning", "walk_in": True}
    if subject is None:
        return query, None
    try:
        attributes = city_os.resident_attributes(subject)
    except city_os.CityOSError as error:
        refused = isinstance(error, city_os.CityOSRefused)
        outcome = services.ScanOutcome.NOT_SHARED if refused else services.ScanOutcome.UNAVAILABLE
        services.city_os_scan_record(shelter_id=shelter.pk, actor=request.user, outcome=outcome)
        notice = CITY_OS_NOT_SHARED if refused else CITY_OS_UNAVAILABLE
        return subject, {"notice": notice, "level": "warning", "walk_in": True}
    city_os_sync.consents_sync_quietly(city_os_id=subject)
    found = _city_os_people(attributes)
    services.city_os_scan_record(
        shelter_id=shelter.pk, actor=request.user, outcome=services.ScanOutcome.SHARED, people=len(found)
    )
    relationships = {member.city_os_id: member.relationship for member in attributes.family}
    return subject, {
        "people": [
            {
                "person": person,
                "relationship": _relationship_label(relationships.get(person.city_os_id, "self")),
                "sex": Sex(person.sex).label,
            }
            for person in found
        ],
        "address": attributes.address,
        "ticket": _city_os_ticket(request, shelter, subject),
        "idempotency_key": uuid.uuid4().hex,
    }


@role_required
def desk(request, shelter_id: int):
    """The check-in desk: find people (name, kana, phone, ID or QR) and check them in. A QR code the
    City OS signed shows what the City OS shares of the resident and their family, to check in with
    one tap (desk_city_os_check_in)."""
    shelter = _operated_shelter(request, shelter_id)
    query = request.GET.get("q", "").strip()
    scan = None
    if query:
        query, scan = _city_os_scan(request, shelter, query)
    results = people.evacuee_search(user=request.user, query=query, purpose="page.desk_search") if query else []
    households: dict = {}
    for person in results:
        households.setdefault(person.household_id or f"p{person.pk}", []).append(person)
    ask_ids = _ids(request.GET.get("ask", "").split(","))
    return render(
        request,
        "shelters/desk.html",
        _desk_context(
            request,
            shelter,
            query=query,
            groups=list(households.values()),
            result_count=len(results),
            ask_panel=_ask_panel(request, shelter, ask_ids, purpose="page.desk_ask") if ask_ids else [],
            city_os=scan,
            walk_in_open=bool(scan and scan.get("walk_in")),
        ),
    )


@require_POST
@role_required
def desk_city_os_check_in(request, shelter_id: int):
    """The one tap after a City OS scan: the people the City OS shares (those the desk left ticked)
    registered or updated by their City OS ID and checked in together. The City OS is asked again,
    so what is registered is what it shares now; a second tap returns the first check-in."""
    shelter = _operated_shelter(request, shelter_id)
    back = reverse("shelters:desk", args=[shelter.pk])
    subject = _city_os_ticket_subject(request, shelter, request.POST.get("ticket", "")[:2000])
    if subject is None:
        messages.error(request, CITY_OS_EXPIRED)
        return redirect(back)
    try:
        attributes = city_os.resident_attributes(subject)
    except city_os.CityOSError as error:
        messages.error(request, CITY_OS_NOT_SHARED if isinstance(error, city_os.CityOSRefused) else CITY_OS_UNAVAILABLE)
        return redirect(back)
    if attributes.city_os_id != subject:
        messages.error(request, CITY_OS_UNAVAILABLE)
        return redirect(back)
    found = {person.city_os_id: person for person in _city_os_people(attributes)}
    form = CityOSCheckInForm(request.POST, city_os_ids=list(found))
    if not form.is_valid() or not form.cleaned_data["members"]:
        messages.error(request, _("Choose at least one person to check in."))
        return redirect(_searching(back, subject))
    ticked = set(form.cleaned_data["members"])
    chosen = [person for city_os_id, person in found.items() if city_os_id in ticked]
    try:
        outcome = services.city_os_check_in(
            shelter_id=shelter.pk,
            members=chosen,
            actor=request.user,
            mode=form.cleaned_data["mode"],
            idempotency_key=form.cleaned_data["idempotency_key"] or None,
        )
    except ApplicationError as error:
        _report(request, error)
        return redirect(_searching(back, subject))
    if outcome.result is not None:
        # The resident's opt-in was applied at the scan; their family's is applied by beat's sync of
        # everyone staying (cityos.tasks.consents_sync_staying) within CITYOS_SYNC_SECONDS.
        count = len(outcome.result.stays)
        messages.success(
            request, ngettext("Checked in %(count)d person.", "Checked in %(count)d people.", count) % {"count": count}
        )
    if outcome.already_staying:
        messages.warning(
            request,
            ngettext(
                "%(count)d person is already checked in at a shelter and was not checked in again.",
                "%(count)d people are already checked in at a shelter and were not checked in again.",
                outcome.already_staying,
            )
            % {"count": outcome.already_staying},
        )
    if outcome.result is not None and not outcome.result.replayed:
        # As after any check-in: the desk asks what the residents' timing says to ask (skippable).
        return redirect(_ask_url(shelter, [stay.evacuee_id for stay in outcome.result.stays]))
    return redirect(back)


def _searching(desk_url: str, text: str) -> str:
    """The desk with `text` in its search box again, whatever the text holds (`+`, `&`, spaces)."""
    return f"{desk_url}?{urlencode({'q': text})}"


@require_POST
@role_required
def desk_check_in(request, shelter_id: int):
    shelter = _operated_shelter(request, shelter_id)
    requested = [int(v) for v in request.POST.getlist("evacuees") if limits.is_id(v)]
    back = reverse("shelters:desk", args=[shelter.pk])
    try:
        # The desk's search travels with the form: people who stay nowhere were found by it.
        allowed = people.evacuees_for_check_in(request.user, evacuee_ids=requested, lookup=request.POST.get("q", ""))
    except ApplicationError:
        allowed = []
    form = CheckInForm(request.POST, evacuee_ids=set(allowed))
    if not form.is_valid():
        messages.error(request, _("Choose at least one person to check in."))
        return redirect(_searching(back, request.POST.get("q", "")))
    try:
        result = services.stay_check_in(
            shelter_id=shelter.pk,
            evacuee_ids=form.cleaned_data["evacuees"],
            actor=request.user,
            mode=form.cleaned_data["mode"],
            idempotency_key=form.cleaned_data["idempotency_key"] or None,
        )
    except ApplicationError as error:
        _report(request, error)
        return redirect(_searching(back, request.POST.get("q", "")))
    count = len(result.stays)
    # Each person checked in can take a survey slip home: one link per person, names in one query.
    names = people.evacuee_names(
        request.user, evacuee_ids=[stay.evacuee_id for stay in result.stays], purpose="page.desk_check_in"
    )
    slips = format_html_join(
        " ",
        '<a class="slip-link" href="{}">{}: {}</a>',
        (
            (reverse("surveys:slip", args=[stay.evacuee_id]), names[stay.evacuee_id], _("Print survey slip"))
            for stay in result.stays
            if stay.evacuee_id in names
        ),
    )
    messages.success(
        request,
        format_html(
            "{} {}",
            ngettext("Checked in %(count)d person.", "Checked in %(count)d people.", count) % {"count": count},
            slips,
        ),
    )
    # The check-in is done; now the desk asks what the residents' timing says to ask (skippable).
    return redirect(_ask_url(shelter, [stay.evacuee_id for stay in result.stays]))


@require_POST
@role_required
def desk_walk_in(request, shelter_id: int):
    """Register a new household that walked in and check it in, in one submit, with the resident's
    answers to the desk's questions (what they refuse is not saved)."""
    shelter = _operated_shelter(request, shelter_id)
    form = WalkInHouseholdForm(request.POST)
    formset = MemberFormSet(request.POST, prefix="member")
    answers: dict[str, str] = {}
    answer_error = ""
    try:
        answers = asking.answers_from(request.POST, prefix="ask-")
    except ApplicationError as error:
        answer_error = str(error.message)
    if form.is_valid() and formset.is_valid() and not answer_error:
        members = [f.to_person(address=form.cleaned_data["address"]) for f in formset.forms if f.has_changed()]
        try:
            result = services.walk_in_register_and_check_in(
                shelter_id=shelter.pk,
                members=members,
                actor=request.user,
                mode=form.cleaned_data["mode"],
                idempotency_key=form.cleaned_data["idempotency_key"] or None,
                consent_answers=answers,
            )
        except ApplicationError as error:
            _report(request, error)
        else:
            count = len(result.stays)
            messages.success(
                request,
                format_html(
                    "{} {} {}",
                    ngettext(
                        "Registered and checked in %(count)d person.",
                        "Registered and checked in %(count)d people.",
                        count,
                    )
                    % {"count": count},
                    " ".join(str(_NOT_SAVED[c]) for c in asking.DESK_CATEGORIES if c in result.not_recorded),
                    ""
                    if answers
                    else format_html(
                        '<a class="ask-link" href="{}">{}</a>',
                        _ask_url(shelter, [stay.evacuee_id for stay in result.stays]),
                        _("Ask the questions now (or on their own phone)"),
                    ),
                ),
            )
            return redirect("shelters:desk", shelter_id=shelter.pk)
    return render(
        request,
        "shelters/desk.html",
        _desk_context(
            request,
            shelter,
            walk_in_form=form,
            member_formset=formset,
            walk_in_open=True,
            answer_error=answer_error,
            ask_given=[c for c, d in answers.items() if d == "given"],
            ask_refused=[c for c, d in answers.items() if d == "refused"],
        ),
        status=400,
    )


@require_POST
@role_required
def desk_consent(request, shelter_id: int):
    """The residents' answers to the desk's questions after a check-in; "later" records nothing."""
    shelter = _operated_shelter(request, shelter_id)
    requested = _ids(request.POST.getlist("evacuees"))
    back = reverse("shelters:desk", args=[shelter.pk])
    if request.POST.get("later"):
        messages.success(request, _("Nothing was recorded. They will be asked again next time."))
        return redirect(back)
    asked = people.people_to_ask(request.user, shelter_id=shelter.pk, evacuee_ids=requested, purpose=None)
    try:
        answers = {subject_of(p): asking.answers_from(request.POST, prefix=f"ask-{p.pk}-") for p in asked}
        consent_services.desk_answers_record(answers=answers, method=Method.DESK, collected_by=request.user)
    except ApplicationError as error:
        _report(request, error)
        return redirect(_ask_url(shelter, requested))
    refused = {c for given in answers.values() for c, d in given.items() if d == "refused"}
    messages.success(
        request,
        " ".join(
            [
                str(
                    _("Thank you. The answers were recorded.") if any(answers.values()) else _("Nothing was recorded.")
                ),
                *(str(_NOT_SHOWN[c]) for c in asking.DESK_CATEGORIES if c in refused),
            ]
        ),
    )
    return redirect(back)


@role_required
def residents(request, shelter_id: int):
    shelter = _operated_shelter(request, shelter_id)
    filters = {
        "query": request.GET.get("q", "").strip(),
        "support_category": request.GET.get("support", ""),
        "mode": request.GET.get("mode", ""),
        "needs_support_only": request.GET.get("needs_support") == "1",
    }
    stays = people.shelter_residents(
        user=request.user, shelter=shelter, filters=people.ResidentFilters(**filters), purpose="page.residents"
    )
    return render(
        request,
        "shelters/residents.html",
        {
            "shelter": shelter,
            "stays": stays,
            "filters": filters,
            "categories": selectors.support_categories(),
            "modes": StayMode.choices,
            "checkout_form": CheckOutForm(),
            "transfer_form": TransferForm(targets=selectors.transfer_targets(exclude_shelter_id=shelter.pk)),
        },
    )


@require_POST
@role_required
def stay_check_out(request, shelter_id: int, stay_id: int):
    shelter = _operated_shelter(request, shelter_id)
    stay = people.access_stay_by_id(request.user, stay_id, shelter_id=shelter.pk, purpose="page.check_out")
    form = CheckOutForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose where the person is going."))
    else:
        try:
            services.stay_check_out(stay_id=stay.pk, actor=request.user, destination=form.cleaned_data["destination"])
        except ApplicationError as error:
            _report(request, error)
        else:
            messages.success(request, _("Checked out."))
    return redirect("shelters:residents", shelter_id=shelter.pk)


@require_POST
@role_required
def stay_transfer(request, shelter_id: int, stay_id: int):
    shelter = _operated_shelter(request, shelter_id)
    stay = people.access_stay_by_id(request.user, stay_id, shelter_id=shelter.pk, purpose="page.transfer")
    form = TransferForm(request.POST, targets=selectors.transfer_targets(exclude_shelter_id=shelter.pk))
    if not form.is_valid():
        messages.error(request, _("Choose a shelter that is open."))
    else:
        try:
            services.stay_transfer(stay_id=stay.pk, to_shelter_id=form.cleaned_data["to_shelter"], actor=request.user)
        except ApplicationError as error:
            _report(request, error)
        else:
            messages.success(request, _("Transferred."))
    return redirect("shelters:residents", shelter_id=shelter.pk)


@role_required
def evacuee_detail(request, evacuee_id: int):
    if not policy.may_see_personal_data(request.user):
        raise PermissionDenied
    evacuee = people.access_evacuee_by_id(request.user, evacuee_id, purpose="page.evacuee_detail")
    return render(
        request,
        "shelters/evacuee_detail.html",
        {
            "evacuee": evacuee,
            "stays": people.evacuee_stay_history(request.user, evacuee),
            "perms_all_shelters": is_headquarters(request.user),
            # Whether the person stays anywhere is HQ's to know: a manager never sees it for someone
            # who may be at another shelter.
            "retention": retention.retention_summary(evacuee) if is_headquarters(request.user) else None,
            "may_hold": policy.can_hold_personal_data(request.user) and not evacuee.is_anonymised,
            "reason_max_length": retention_services.REASON_MAX_LENGTH,
        },
    )


@require_POST
@role_required
def evacuee_legal_hold(request, evacuee_id: int):
    """HQ puts a person's data under a legal hold against anonymisation, or lifts it."""
    if not policy.can_hold_personal_data(request.user):
        raise PermissionDenied
    evacuee = people.access_evacuee_by_id(request.user, evacuee_id, purpose="page.legal_hold")
    action = request.POST.get("action")
    try:
        if action == "set":
            # The service bounds the reason and names the field when it is empty or too long.
            reason = request.POST.get("reason", "")
            retention_services.legal_hold_set(evacuee_id=evacuee.pk, actor=request.user, reason=reason)
            messages.success(request, _("The data is now kept under a legal hold."))
        elif action == "lift":
            retention_services.legal_hold_lift(evacuee_id=evacuee.pk, actor=request.user)
            messages.success(request, _("The legal hold was lifted."))
        else:
            messages.error(request, _("Choose whether to set or lift the hold."))
    except ApplicationError as error:
        _report(request, error)
    return redirect("shelters:evacuee", evacuee_id=evacuee.pk)
