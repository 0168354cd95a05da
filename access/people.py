"""People, households and stays: the only code that filters them for a reader, and logs the read.

Each function checks and returns, as Zulip's `access_stream_by_id`: the caller gets the objects it
may show, or `NotVisible` (a 404), never a queryset to filter again. Lists take a `paginate`
callable (DRF's `paginate_queryset`, a Paginator page, a slice) so that exactly the people shown are
recorded, in one INSERT.

Who sees whom:
- HQ and administrators: everyone, every stay.
- A manager: the people with an open stay at a shelter they operate (their residents), browsed and
  searched freely. A person who stays nowhere only through an exact lookup (`exact_lookup`): the
  City OS ID, walk-in ID or a scanned QR payload; the exact phone number; or the exact name with
  the birth date. With them come the members of their household who also stay nowhere, because a
  family is checked in together. Never by id, by browsing or by a partial search.
- A manager sees the stays at their own shelters only. A stay that ended in a transfer shows that
  the person went to another shelter, not which one, unless they operate that one too.
- Officials and anonymous users: nobody.
"""

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, urlparse

from django.db.models import Case, Exists, F, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Replace
from django.utils.translation import gettext_lazy as _

from access import consent, policy
from access.errors import NotVisible, object_id
from common.roles import Role, is_headquarters, role_of
from consent.rules import Category
from shelters.models import Evacuee, Household, Shelter, Stay, StayMode, SupportNeed

Paginate = Callable[[QuerySet], Sequence]

_PHONE_DIGITS = re.compile(r"\D")
# A birth date written into the search box beside a name: 1950-04-01, 1950/4/1, 1950.4.1, 1950年4月1日.
_BIRTH_DATE = re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)\s*日?")
_SPACES = re.compile(r"[\s\u3000]+")
# Shorter digit strings are extension numbers or parts of IDs, not a phone number to match exactly.
MIN_PHONE_DIGITS = 6


def _first(paginate: Paginate | None, queryset: QuerySet, limit: int = 200) -> Sequence:
    return paginate(queryset) if paginate is not None else list(queryset[:limit])


# --- The rule ------------------------------------------------------------------------------------


def _open_stays() -> QuerySet[Stay]:
    return Stay.objects.filter(evacuee=OuterRef("pk"), checked_out_at__isnull=True)


def _visible_evacuees(user) -> QuerySet[Evacuee]:
    """Everyone the user may browse: HQ all, a manager their residents, others nobody."""
    if is_headquarters(user):
        return Evacuee.objects.all()
    if role_of(user) != Role.MANAGER:
        return Evacuee.objects.none()
    return Evacuee.objects.filter(Exists(_open_stays().filter(shelter_id__in=policy.managed_shelter_ids(user))))


def _visible_stays(user) -> QuerySet[Stay]:
    return policy.at_operated_shelters(user, Stay.objects.all())


def qr_payload_to_id(payload: str) -> str:
    """The City OS ID inside a scanned QR payload, or the text itself.

    Accepts a bare ID, `CITYOS:<id>`, a URL with `?id=` (or `cityos_id=`), or JSON with `id`.
    """
    text = payload.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return text
        return str(data.get("id") or data.get("city_os_id") or text).strip()
    if text.lower().startswith("cityos:"):
        return text.split(":", 1)[1].strip()
    if text.startswith(("http://", "https://")):
        query = parse_qs(urlparse(text).query)
        for key in ("id", "cityos_id", "city_os_id"):
            if query.get(key):
                return query[key][0].strip()
    return text


def _birth_date(text: str) -> tuple[str, date | None]:
    """(the text without the date, the date) when the text holds a valid birth date."""
    match = _BIRTH_DATE.search(text)
    if match is None:
        return text, None
    try:
        born = date(*(int(part) for part in match.groups()))
    except ValueError:
        return text, None
    return (text[: match.start()] + " " + text[match.end() :]).strip(), born


def _without_spaces(field: str):
    return Replace(Replace(F(field), Value(" "), Value("")), Value("\u3000"), Value(""))


def exact_lookup(text: str) -> Q | None:
    """The exact lookups that find a person who stays nowhere; None when the text is none of them."""
    text = text.strip()
    if not text:
        return None
    identifier = qr_payload_to_id(text)
    condition = Q(city_os_id__iexact=identifier) | Q(walk_in_id__iexact=identifier)
    name, born = _birth_date(text)
    digits = _PHONE_DIGITS.sub("", text)
    if born is None and len(digits) >= MIN_PHONE_DIGITS:
        condition |= Q(phone_digits=digits)
    name = _SPACES.sub("", name)
    if born is not None and name:
        condition |= Q(birth_date=born) & (Q(name_compact=name) | Q(kana_compact=name))
    return condition


def _exactly_found_staying_nowhere(lookup: str) -> QuerySet[Evacuee]:
    """People staying nowhere an exact lookup finds, with their household members staying nowhere."""
    condition = exact_lookup(lookup)
    if condition is None:
        return Evacuee.objects.none()
    found = (
        Evacuee.objects.annotate(name_compact=_without_spaces("name"), kana_compact=_without_spaces("name_kana"))
        .filter(condition)
        .filter(~Exists(_open_stays()))
    )
    households = found.filter(household__isnull=False).values("household_id")
    return Evacuee.objects.filter(Q(pk__in=found.values("pk")) | Q(household_id__in=households)).filter(
        ~Exists(_open_stays())
    )


def _or_exactly_found(people: QuerySet[Evacuee], lookup: str) -> QuerySet[Evacuee]:
    """`people`, and the people staying nowhere whom the exact `lookup` finds (a manager's desk)."""
    return Evacuee.objects.filter(
        Q(pk__in=people.values("pk")) | Q(pk__in=_exactly_found_staying_nowhere(lookup).values("pk"))
    )


def _partial_match(text: str) -> Q:
    identifier = qr_payload_to_id(text)
    condition = (
        Q(name__icontains=text)
        | Q(name_kana__icontains=text)
        | Q(city_os_id__iexact=identifier)
        | Q(walk_in_id__iexact=identifier)
    )
    digits = _PHONE_DIGITS.sub("", text)
    if len(digits) >= 4:
        condition |= Q(phone_digits__contains=digits)
    return condition


def with_details(queryset: QuerySet[Evacuee]) -> QuerySet[Evacuee]:
    """Everything a person's row shows (household, support needs, the open stay), in fixed queries."""
    return queryset.select_related("household").prefetch_related(
        Prefetch("support_needs", queryset=SupportNeed.objects.select_related("category")),
        Prefetch(
            "stays",
            queryset=Stay.objects.filter(checked_out_at__isnull=True).select_related("shelter"),
            to_attr="open_stays",
        ),
    )


# --- People ----------------------------------------------------------------------------------------


def evacuee_search(*, user, query: str, purpose: str, limit: int = 30) -> list[Evacuee]:
    """The desk's search. HQ: any part of a name, kana, phone, or an ID. A manager: the same among
    their residents, and people staying nowhere by an exact lookup only. Each person found is logged."""
    text = query.strip()
    if not text or not policy.may_see_personal_data(user):
        return []
    found = _visible_evacuees(user).filter(_partial_match(text))
    if not is_headquarters(user):
        found = _or_exactly_found(found, text)
    people = list(with_details(found).order_by("name_kana", "name", "id")[:limit])
    return _found_by(user, people, text, purpose=purpose)


def _found_by(user, rows: list, text: str, *, purpose: str, shelter_id: int | None = None, person=lambda row: row):
    """The rows (people, or stays with `person`) a search for `text` may show, shown and recorded.

    A name, kana or phone search must not confirm who someone is whose name the reader has no basis
    for: only their ID (the City OS ID, the walk-in ID, a scanned QR) finds them.
    """
    verdicts = consent.shown(user, [person(row) for row in rows], purpose=None)
    found = [row for row in rows if Category.BASIC not in person(row).withheld or _is_their_id(person(row), text)]
    consent.record(
        user, {person(row).pk: verdicts[person(row).pk] for row in found}, purpose=purpose, shelter_id=shelter_id
    )
    return found


def _is_their_id(person: Evacuee, text: str) -> bool:
    identifier = qr_payload_to_id(text).casefold()
    return identifier in {(person.city_os_id or "").casefold(), person.walk_in_id.casefold()}


def evacuees_for_list(*, user, purpose: str, search: str = "", paginate: Paginate | None = None) -> Sequence[Evacuee]:
    """The people list (API): a manager's residents, HQ everyone; with `search`, the desk's search."""
    if search.strip():
        people = evacuee_search(user=user, query=search, purpose=purpose, limit=100)
        return paginate(people) if paginate is not None else people
    page = _first(paginate, with_details(_visible_evacuees(user)).order_by("name_kana", "name", "id"))
    consent.shown(user, page, purpose=purpose)
    return page


def access_evacuee_by_id(user, evacuee_id: int | str, *, purpose: str | None) -> Evacuee:
    """One person with their details, logged; NotVisible unless the user may browse them. `purpose`
    None only for a re-read of a person already recorded in the same request (after an update)."""
    evacuee_id = object_id(evacuee_id, field="evacuee")
    evacuee = with_details(_visible_evacuees(user)).filter(pk=evacuee_id).first()
    if evacuee is None:
        raise NotVisible(field="evacuee")
    consent.shown(user, [evacuee], purpose=purpose)
    return evacuee


def check_in_candidates(user, *, lookup: str = "") -> QuerySet[Evacuee]:
    """The people a check-in by `user` may name, unevaluated (the check-in locks them through it):
    anyone for HQ; for a manager, their own residents (the service then says they are already in)
    and people who stay nowhere only when `lookup` is the exact lookup that found them at the desk.
    Nothing is read or shown here, so nothing is recorded; the managed shelters are a subquery, so
    the check-in's one locking statement is the only one."""
    if is_headquarters(user):
        return Evacuee.objects.all()
    if role_of(user) != Role.MANAGER:
        return Evacuee.objects.none()
    residents = Evacuee.objects.filter(
        Exists(_open_stays().filter(shelter_id__in=policy.managed_shelters_subquery(user)))
    )
    return _or_exactly_found(residents, lookup)


def stays_to_move(user) -> QuerySet[Stay]:
    """The stays `user` may check out or transfer, unevaluated (the service reads the one named
    through it): at the shelters they operate. Nothing is shown, so nothing is recorded."""
    if is_headquarters(user):
        return Stay.objects.all()
    if role_of(user) != Role.MANAGER:
        return Stay.objects.none()
    return Stay.objects.filter(shelter_id__in=policy.managed_shelters_subquery(user))


def evacuees_for_check_in(
    user, *, evacuee_ids: Iterable[int], household_id: int | None = None, lookup: str = ""
) -> list[int]:
    """The people a check-in may name, in order: NotVisible if any is unknown or hidden.

    A manager names their own residents (the service then says they are already in), and people
    who stay nowhere only when `lookup` is the exact lookup that found them at the desk.
    """
    ids = list(evacuee_ids)
    if household_id is not None:
        household = _visible_households(user, lookup=lookup).filter(pk=household_id).first()
        if household is None:
            raise NotVisible(field="household")
        ids += list(Evacuee.objects.filter(household=household).order_by("id").values_list("id", flat=True))
    ids = list(dict.fromkeys(ids))
    if is_headquarters(user):
        return ids  # HQ may name anyone; the check-in service refuses ids that are nobody
    allowed = _or_exactly_found(_visible_evacuees(user), lookup).filter(pk__in=ids)
    if len(set(allowed.order_by().values_list("pk", flat=True))) != len(ids):
        raise NotVisible(_("Unknown person."), field="evacuees")
    return ids


def evacuee_names(user, *, evacuee_ids: Iterable[int], purpose: str) -> dict[int, str]:
    """Names of people the user may browse and has a basis for (the desk's message after a
    check-in), logged."""
    people = list(
        _visible_evacuees(user)
        .filter(pk__in=list(evacuee_ids))
        .only("pk", "name", "city_os_id", "requires_evacuation_support")
    )
    verdicts = consent.shown(user, people, purpose=purpose, categories=[Category.BASIC])
    return {person.pk: person.name for person in people if verdicts[person.pk].allows(Category.BASIC)}


# The desk asks at most a household at a time (the walk-in form takes 20 members).
MAX_PEOPLE_TO_ASK = 20


def people_to_ask(user, *, shelter_id: int, evacuee_ids: Iterable[int], purpose: str | None) -> list[Evacuee]:
    """People staying at the shelter now, of those named: whom the desk asks after a check-in.

    Only the name is shown (withheld where the person refused it); the read is logged. People who
    are not there, or whom the user may not browse, are left out. `purpose` None when nothing is
    shown: recording their answers is not a read of their data.
    """
    ids = list(dict.fromkeys(int(pk) for pk in evacuee_ids))[:MAX_PEOPLE_TO_ASK]
    if not ids:
        return []
    people = list(
        _visible_evacuees(user)
        .filter(pk__in=ids)
        .filter(Exists(_open_stays().filter(shelter_id=shelter_id)))
        .only("pk", "name", "city_os_id", "requires_evacuation_support")
        .order_by("id")
    )
    consent.shown(user, people, purpose=purpose, categories=[Category.BASIC], shelter_id=shelter_id)
    return people


# --- Stays -----------------------------------------------------------------------------------------


def _with_visible_destination(user, stays: QuerySet[Stay]) -> QuerySet[Stay]:
    """`shown_destination_shelter_id` and `_name`: where a transferred person went, if the user may know."""
    if is_headquarters(user):
        shown = Q(destination_shelter__isnull=False)
    else:
        shown = Q(destination_shelter_id__in=policy.managed_shelter_ids(user))
    return stays.annotate(
        shown_destination_shelter_id=Case(When(shown, then=F("destination_shelter_id")), default=None),
        shown_destination_shelter_name=Case(When(shown, then=F("destination_shelter__name")), default=None),
    )


def evacuee_stay_history(user, evacuee: Evacuee) -> list[Stay]:
    """The stays of a person the caller got from `access_evacuee_by_id`: all for HQ, a manager's
    own shelters' only, each with the destination shelter only when the user may know it. Without
    a basis for the person's stay history, only their open stays."""
    stays = _visible_stays(user).filter(evacuee_id=evacuee.pk).select_related("shelter")
    if Category.STAYS in getattr(evacuee, "withheld", {}):
        stays = stays.filter(checked_out_at__isnull=True)
    return list(_with_visible_destination(user, stays).order_by("-checked_in_at", "-id"))


@dataclass(frozen=True)
class StayFilters:
    shelter_id: int | None = None
    evacuee_id: int | None = None
    mode: str = ""
    source: str = ""
    open: bool | None = None


def stays_for_list(*, user, purpose: str, filters: StayFilters = StayFilters(), paginate: Paginate | None = None):
    """Stays at the user's shelters (HQ: all), newest first, logged per person shown."""
    stays = _visible_stays(user)
    if filters.shelter_id is not None:
        stays = stays.filter(shelter_id=filters.shelter_id)
    if filters.evacuee_id is not None:
        stays = stays.filter(evacuee_id=filters.evacuee_id)
    if filters.mode:
        stays = stays.filter(mode=filters.mode)
    if filters.source:
        stays = stays.filter(source=filters.source)
    if filters.open is not None:
        stays = stays.filter(checked_out_at__isnull=filters.open)
    stays = _with_visible_destination(user, stays.select_related("evacuee")).order_by("-checked_in_at", "-id")
    page = _first(paginate, stays)
    consent.shown(user, [s.evacuee for s in page], purpose=purpose)
    return page


def access_stay_by_id(user, stay_id: int | str, *, purpose: str, shelter_id: int | None = None) -> Stay:
    """One stay at a shelter the user operates (and at `shelter_id`, when given), logged."""
    stay_id = object_id(stay_id, field="stay")
    stays = _visible_stays(user).select_related("evacuee")
    if shelter_id is not None:
        stays = stays.filter(shelter_id=shelter_id)
    stay = _with_visible_destination(user, stays).filter(pk=stay_id).first()
    if stay is None:
        raise NotVisible(field="stay")
    consent.shown(user, [stay.evacuee], purpose=purpose)
    return stay


def stays_shown(user, stays: Sequence[Stay], *, purpose: str | None) -> list[Stay]:
    """Stays a service just wrote for this user (a check-in, a check-out, a transfer), re-read for
    showing. Recorded as read for `purpose`; None when `access_stay_by_id` already recorded the same
    person in this request (a check-out or transfer shows the person it was asked about)."""
    ids = [stay.pk for stay in stays]
    shown = {
        stay.pk: stay
        for stay in _with_visible_destination(user, Stay.objects.filter(pk__in=ids).select_related("evacuee"))
    }
    consent.shown(user, [stay.evacuee for stay in shown.values()], purpose=purpose)
    return [shown[pk] for pk in ids if pk in shown]


@dataclass(frozen=True)
class ResidentFilters:
    query: str = ""
    support_category: str = ""
    mode: str = ""
    needs_support_only: bool = False


def shelter_residents(
    *,
    user,
    shelter: Shelter,
    purpose: str,
    filters: ResidentFilters = ResidentFilters(),
    paginate: Paginate | None = None,
) -> Sequence[Stay]:
    """Open stays at a shelter the user operates, with each person's badges, logged per person."""
    if not (policy.may_see_personal_data(user) and policy.can_operate_shelter(user, shelter)):
        raise NotVisible(field="shelter")
    stays = _visible_stays(user).filter(shelter=shelter, checked_out_at__isnull=True)
    if filters.mode in StayMode.values:
        stays = stays.filter(mode=filters.mode)
    if filters.support_category:
        stays = stays.filter(evacuee__support_needs__category__code=filters.support_category)
    if filters.needs_support_only:
        stays = stays.filter(
            Q(evacuee__support_needs__isnull=False) | Q(evacuee__requires_evacuation_support=True)
        ).distinct()
    if filters.query:
        stays = stays.filter(
            Q(evacuee__name__icontains=filters.query)
            | Q(evacuee__name_kana__icontains=filters.query)
            | Q(evacuee__city_os_id__iexact=filters.query)
            | Q(evacuee__walk_in_id__iexact=filters.query)
        )
    stays = (
        stays.select_related("evacuee", "evacuee__household")
        .prefetch_related(Prefetch("evacuee__support_needs", queryset=SupportNeed.objects.select_related("category")))
        .order_by("evacuee__household_id", "evacuee__name_kana", "id")
    )
    page = paginate(stays) if paginate is not None else list(stays)
    if not filters.query:
        consent.shown(user, [s.evacuee for s in page], purpose=purpose, shelter_id=shelter.pk)
        return page
    # As the desk's search: a name search does not find someone whose name is withheld.
    found = _found_by(
        user, list(page), filters.query, purpose=purpose, shelter_id=shelter.pk, person=lambda stay: stay.evacuee
    )
    if isinstance(page, list):
        return found
    page.object_list = found
    return page


def support_list(*, user, shelter_id: int, purpose: str) -> list[dict] | None:
    """Residents of a shelter needing support, with names, for those who may see them; else None.

    Someone whose support needs the reader has no basis for is not listed (their needs are counted
    in the shelter's figures); someone whose name they have no basis for is listed without it, and
    `withheld` says which categories are missing and why.
    """
    if not policy.may_see_names_at(user, shelter_id):
        return None
    stays = (
        _visible_stays(user)
        .filter(shelter_id=shelter_id, checked_out_at__isnull=True)
        .filter(Q(evacuee__support_needs__isnull=False) | Q(evacuee__requires_evacuation_support=True))
        .select_related("evacuee")
        .prefetch_related("evacuee__support_needs__category")
        .distinct()
        .order_by("evacuee__name_kana", "evacuee_id")
    )
    stays = list(stays)
    verdicts = consent.shown(user, [stay.evacuee for stay in stays], purpose=purpose, shelter_id=shelter_id)
    return [
        {
            "id": stay.evacuee_id,
            "name": stay.evacuee.name,
            "name_kana": stay.evacuee.name_kana,
            "mode": stay.mode,
            "requires_evacuation_support": stay.evacuee.requires_evacuation_support,
            "needs": [need.category.code for need in stay.evacuee.support_needs.all()],
            # Categories withheld from this reader, with why: the page shows a marker, not "".
            "withheld": dict(stay.evacuee.withheld),
        }
        for stay in stays
        if verdicts[stay.evacuee_id].allows(Category.SUPPORT)
    ]


# --- Households ------------------------------------------------------------------------------------


def _visible_households(user, *, lookup: str = "") -> QuerySet[Household]:
    if is_headquarters(user):
        return Household.objects.all()
    if role_of(user) != Role.MANAGER:
        return Household.objects.none()
    members = _or_exactly_found(_visible_evacuees(user), lookup) if lookup else _visible_evacuees(user)
    return Household.objects.filter(Exists(members.filter(household=OuterRef("pk"))))


def households_for_list(*, user, purpose: str, paginate: Paginate | None = None) -> Sequence[Household]:
    """Households with a member the user may browse; each with `visible_members`, logged."""
    households = (
        _visible_households(user)
        .prefetch_related(
            Prefetch("members", queryset=_visible_evacuees(user).order_by("id"), to_attr="visible_members")
        )
        .order_by("id")
    )
    page = _first(paginate, households)
    _members_shown(user, page, purpose=purpose)
    return page


def access_household_by_id(user, household_id: int | str, *, purpose: str) -> Household:
    """One household with a member the user may browse, with `visible_members`, logged."""
    household_id = object_id(household_id, field="household")
    household = (
        _visible_households(user)
        .prefetch_related(
            Prefetch("members", queryset=_visible_evacuees(user).order_by("id"), to_attr="visible_members")
        )
        .filter(pk=household_id)
        .first()
    )
    if household is None:
        raise NotVisible(field="household")
    _members_shown(user, [household], purpose=purpose)
    return household


def household_registered(user, household: Household, *, purpose: str) -> Household:
    """A household the user has just registered, with every member: they typed them in themselves."""
    household.visible_members = list(Evacuee.objects.filter(household=household).order_by("id"))
    _members_shown(user, [household], purpose=purpose)
    return household


def _members_shown(user, households: Sequence[Household], *, purpose: str) -> None:
    """Each household's `visible_members`, without those the reader has no basis to know are in it."""
    members = [member for household in households for member in household.visible_members]
    verdicts = consent.shown(user, members, purpose=purpose)
    for household in households:
        household.visible_members = [m for m in household.visible_members if verdicts[m.pk].allows(Category.HOUSEHOLD)]
