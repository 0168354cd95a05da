"""Consent, enforced: every person the access layer hands out passes through `shown` first.

For each person and each data category the reader's recipient kind (a shelter's staff, HQ) gets
a basis from `consent.rules.decide`: the person's consent, a standing legal rule the deployment
enables, or a legal-basis release HQ declared. A category without a basis is removed from the
object before anyone sees it (the name blanked, the phone emptied, support needs dropped) and
`person.withheld` says which categories and why, so pages, CSVs, sockets and the API show
"withheld" instead of the data and counts (access/figures.py) still count the person.

Reads are recorded (access/log.py) with the basis and the categories shown; a person of whom
nothing could be shown is not recorded as read.

A masked evacuee cannot be saved (shelters.models.Evacuee.save refuses), so a blanked name never
overwrites the real one.

Cost per list, whatever its length: two queries in peacetime (the open disaster, the decisions of
the people shown), four during a disaster (and the active releases with their shelters); support
needs and open stays are read only when a release's scope needs them and the list did not
prefetch them.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from access import log
from common.roles import Role, role_of
from consent import rules
from consent.models import ConsentDecision, LegalRelease, subject_of
from consent.rules import Basis, Category, Context, Recipient, Withheld
from shelters.models import Disaster, Evacuee, Sex, Stay, SupportNeed

_RECIPIENT_OF_ROLE = {Role.MANAGER: Recipient.SHELTER_STAFF, Role.HQ: Recipient.HQ, Role.ADMIN: Recipient.HQ}

# What each category removes from an Evacuee: field -> the value shown instead.
_MASKED_FIELDS = {
    Category.BASIC: {"name": "", "name_kana": "", "birth_date": None, "sex": Sex.UNKNOWN, "address": ""},
    Category.CONTACT: {"phone": ""},
    Category.SUPPORT: {"requires_evacuation_support": False},
}
# The categories decided for every person shown (stay history is checked where stays are listed;
# survey answers and location where they are read).
PERSON_CATEGORIES = (Category.BASIC, Category.CONTACT, Category.HOUSEHOLD, Category.SUPPORT, Category.STAYS)


def recipient_of(user) -> str | None:
    return _RECIPIENT_OF_ROLE.get(role_of(user))


def current_context() -> str:
    return Context.DISASTER if Disaster.objects.filter(closed_at__isnull=True).exists() else Context.PEACETIME


def standing_rules() -> list[rules.LegalRule]:
    return [
        rules.LEGAL_RULES[code]
        for code in settings.CONSENT_STANDING_RULES
        if code in rules.LEGAL_RULES and rules.LEGAL_RULES[code].standing
    ]


def active_releases(now=None) -> list[rules.ActiveRelease]:
    """Releases in force now: declared, not revoked, not expired, their disaster open."""
    now = now or timezone.now()
    enabled = set(settings.CONSENT_RELEASE_RULES)
    found = (
        LegalRelease.objects.filter(
            declared_at__lte=now, expires_at__gt=now, revoked_at__isnull=True, disaster__closed_at__isnull=True
        )
        .prefetch_related("shelters")
        .order_by("id")
    )
    return [
        rules.ActiveRelease(
            id=release.pk,
            rule=rules.LEGAL_RULES[release.rule],
            categories=frozenset(release.categories),
            recipients=frozenset(release.recipients),
            scope=release.scope,
            shelter_ids=frozenset(shelter.pk for shelter in release.shelters.all()),
        )
        for release in found
        if release.rule in rules.LEGAL_RULES and release.rule in enabled
    ]


@dataclass
class Verdict:
    """One person's categories for one reader: each with its basis or why it is withheld."""

    bases: dict[str, Basis] = field(default_factory=dict)
    withheld: dict[str, str] = field(default_factory=dict)

    def allows(self, category: str) -> bool:
        return category in self.bases

    def read(self, evacuee_id: int) -> log.Read:
        """The read as recorded: under a release if one was used, else under the name's basis."""
        releases = [basis for basis in self.bases.values() if basis.kind == "release"]
        basis = next(iter(releases), None) or self.bases.get(Category.BASIC) or next(iter(self.bases.values()))
        return log.Read(
            evacuee_id=evacuee_id,
            basis=basis.code,
            release_id=basis.release_id,
            categories=",".join(sorted(self.bases)),
        )


@dataclass
class Reader:
    """What deciding for one reader needs, read once per list."""

    recipient: str | None
    context: str
    releases: list[rules.ActiveRelease]
    standing: list[rules.LegalRule]

    @classmethod
    def of(cls, user) -> "Reader":
        recipient = recipient_of(user)
        context = current_context()
        releases = active_releases() if recipient is not None and context == Context.DISASTER else []
        return cls(recipient=recipient, context=context, releases=releases, standing=standing_rules())


def _decisions(reader: Reader, subjects: set[str]) -> dict[tuple[str, str], str]:
    if not subjects or reader.recipient is None:
        return {}
    rows = ConsentDecision.objects.filter(
        subject__in=subjects, recipient=reader.recipient, context=reader.context
    ).values_list("subject", "category", "decision")
    return {(subject, category): decision for subject, category, decision in rows}


def _scope_facts(reader: Reader, people: Sequence[Evacuee]) -> dict[int, rules.Person]:
    """What releases' scopes need of each person, read only when some release needs it."""
    needs_support: set[int] = set()
    if any(r.scope == rules.ReleaseScope.SUPPORT_NEEDS for r in reader.releases):
        unknown = []
        for person in people:
            cached = getattr(person, "_prefetched_objects_cache", {}).get("support_needs")
            if cached is None:
                unknown.append(person.pk)
            elif list(cached):
                needs_support.add(person.pk)
        if unknown:
            needs_support |= set(
                SupportNeed.objects.filter(evacuee_id__in=unknown).values_list("evacuee_id", flat=True)
            )
    shelters: dict[int, int] = {}
    if any(r.shelter_ids for r in reader.releases):
        shelters = dict(
            Stay.objects.filter(evacuee_id__in=[p.pk for p in people], checked_out_at__isnull=True).values_list(
                "evacuee_id", "shelter_id"
            )
        )
    return {
        person.pk: rules.Person(
            on_roster=person.requires_evacuation_support,
            needs_support=person.pk in needs_support,
            shelter_id=shelters.get(person.pk),
        )
        for person in people
    }


def verdicts(
    reader: Reader, people: Sequence[Evacuee], categories: Iterable[str] = PERSON_CATEGORIES
) -> dict[int, Verdict]:
    """Each person's verdict for the reader, over `categories`."""
    categories = tuple(categories)
    if reader.recipient is None:
        return {person.pk: Verdict(withheld=dict.fromkeys(categories, rules.NOT_ASKED)) for person in people}
    subjects = {person.pk: subject_of(person) for person in people}
    decisions = _decisions(reader, set(subjects.values()))
    facts = _scope_facts(reader, people) if reader.releases else {}
    no_facts = rules.Person(on_roster=False, needs_support=False, shelter_id=None)
    found = {}
    for person in people:
        verdict = Verdict()
        for category in categories:
            outcome = rules.decide(
                category=category,
                recipient=reader.recipient,
                context=reader.context,
                decision=decisions.get((subjects[person.pk], category)),
                person=facts.get(person.pk, no_facts),
                releases=reader.releases,
                standing=reader.standing,
            )
            if isinstance(outcome, Withheld):
                verdict.withheld[category] = outcome.reason
            else:
                verdict.bases[category] = outcome
        found[person.pk] = verdict
    return found


def _mask(person: Evacuee, verdict: Verdict) -> None:
    person.withheld = dict(verdict.withheld)
    if not verdict.withheld:
        return
    person._masked = True
    for category in verdict.withheld:
        for name, value in _MASKED_FIELDS.get(category, {}).items():
            setattr(person, name, value)
    if Category.HOUSEHOLD in verdict.withheld:
        person.household_id = None
        person._state.fields_cache.pop("household", None)
    if Category.SUPPORT in verdict.withheld:
        empty = SupportNeed.objects.none()
        empty._result_cache = []
        empty._prefetch_done = True
        cache = getattr(person, "_prefetched_objects_cache", None)
        if cache is None:
            person._prefetched_objects_cache = cache = {}
        cache["support_needs"] = empty


def withhold_all(person: Evacuee, *, reason: str) -> None:
    """Withhold every category of a person shown for data the reader has no basis for."""
    _mask(person, Verdict(withheld=dict.fromkeys(PERSON_CATEGORIES, reason)))


def shown(
    user,
    people: Iterable[Evacuee | None],
    *,
    purpose: str | None,
    categories: Iterable[str] = PERSON_CATEGORIES,
    shelter_id: int | None = None,
) -> dict[int, Verdict]:
    """Withhold what has no basis from each person (in place), then record the reads.

    `purpose` None: only masking, for a person already recorded in the same request.
    """
    # One person may come as several objects (two stays of theirs in one list, two cases): each
    # object is masked, the person decided and recorded once.
    objects = [person for person in people if person is not None]
    people = list({person.pk: person for person in objects}.values())
    if not people:
        return {}
    found = verdicts(Reader.of(user), people, categories)
    for person in objects:
        _mask(person, found[person.pk])
    if purpose is not None:
        record(user, found, purpose=purpose, shelter_id=shelter_id)
    return found


def record(user, verdicts: dict[int, Verdict], *, purpose: str, shelter_id: int | None = None) -> None:
    """Record the reads of the people in `verdicts` something was shown of, each under its basis:
    what `shown` does itself, or its caller after choosing which of the people to show."""
    reads = [verdict.read(pk) for pk, verdict in verdicts.items() if verdict.bases]
    log.record_reads(viewer=user, reads=reads, purpose=purpose, shelter_id=shelter_id)


def allows(user, person: Evacuee, category: str) -> bool:
    """Whether the user has a basis for one category of one person (a write, or data kept elsewhere)."""
    return verdicts(Reader.of(user), [person], [category])[person.pk].allows(category)


# Which category each writable field of a person belongs to (their update's fields).
FIELD_CATEGORIES = {
    "name": Category.BASIC,
    "name_kana": Category.BASIC,
    "birth_date": Category.BASIC,
    "sex": Category.BASIC,
    "address": Category.BASIC,
    "phone": Category.CONTACT,
    "household": Category.HOUSEHOLD,
    "requires_evacuation_support": Category.SUPPORT,
    "support_needs": Category.SUPPORT,
}


def withheld_fields(person: Evacuee, fields: Iterable[str]) -> list[str]:
    """The fields among `fields` of a person (as `shown` returned them) in a category withheld from
    the reader: a write of those would change data they have no basis to see, so it is refused."""
    withheld = getattr(person, "withheld", {}) or {}
    return [name for name in fields if FIELD_CATEGORIES.get(name) in withheld]
