"""A resident's OWN data, by the City OS ID they signed in with: the only reads /me/ makes.

Everything here is keyed by `user.city_os_id`, never by an id from a URL: a resident who changes
an id in the address finds nothing that is not theirs (the receipt and correction functions match
the id AND the resident). Someone without a City OS ID gets nothing (`NotVisible`).

What is recorded as read (access/log.py):
- a resident reading their own record is not: the record of reads tells a resident who *else*
  looked at their data, and their own page would otherwise fill it with themselves;
- the names of the other members of their household are: a household member's name shown on
  someone else's page is a read of that member's data, which they see on their own page
  (role "resident", purpose `page.me_household`).

HQ's list of correction requests names people: it goes through `consent.shown` like every staff read.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

from access import consent, log, policy
from access.errors import NotVisible, object_id
from access.models import PersonalDataAccess
from access.releases import ReleaseTouching, releases_touching
from consent.models import ConsentDecision, ConsentRecord, ConsentSubject, subject_of_city_os_id
from consent.rules import Timing
from residents.models import CorrectionRequest
from shelters.models import Evacuee, Stay, SupportNeed
from surveys.models import FollowUp, Response

Paginate = Callable[[QuerySet], Sequence]

# A download carries at most this many reads of a person: years of a busy shelter's lists.
MAX_ACCESSES_IN_DOWNLOAD = 10_000
MAX_RECORDS_IN_DOWNLOAD = 1_000
HOUSEHOLD_PURPOSE = "page.me_household"
# The role a household member's read of a name on their own page is recorded with.
RESIDENT_ROLE = "resident"


def _city_os_id(user) -> str:
    if not policy.may_use_own_page(user):
        raise NotVisible(field="resident")
    return user.city_os_id


def own_subject(user) -> str:
    """The resident's key in the consent ledger."""
    return subject_of_city_os_id(_city_os_id(user))


def own_people(user) -> list[Evacuee]:
    """The person record(s) the city holds under the resident's City OS ID, with household,
    support needs and every stay (shelter included). Not recorded: they are the resident's own."""
    city_os_id = _city_os_id(user)
    return list(
        Evacuee.objects.filter(city_os_id=city_os_id)
        .select_related("household")
        .prefetch_related(
            Prefetch("support_needs", queryset=SupportNeed.objects.select_related("category").order_by("category")),
            Prefetch(
                "stays",
                queryset=Stay.objects.select_related("shelter", "destination_shelter").order_by(
                    "-checked_in_at", "-id"
                ),
                to_attr="all_stays",
            ),
        )
        .order_by("id")
    )


def own_household_members(user, people: Sequence[Evacuee]) -> list[Evacuee]:
    """The other members of the resident's household(s) as the city holds them: names only,
    recorded as read by a household member (see the module's docstring)."""
    household_ids = {person.household_id for person in people if person.household_id}
    if not household_ids:
        return []
    own_ids = {person.pk for person in people}
    members = list(
        Evacuee.objects.filter(household_id__in=household_ids)
        .exclude(pk__in=own_ids)
        .only("pk", "name", "name_kana", "household_id", "source")
        .order_by("household_id", "name_kana", "id")
    )
    # Recorded on each member's record, role "resident", basis "household": they are registered together.
    log.record_reads(
        viewer=user,
        reads=[log.Read(member.pk, basis="household", categories="basic") for member in members],
        purpose=HOUSEHOLD_PURPOSE,
        role=RESIDENT_ROLE,
    )
    return members


@dataclass
class OwnConsents:
    subject: str
    timing: str
    timing_set: bool
    decisions: dict[tuple[str, str, str], ConsentDecision] = field(default_factory=dict)


def own_consents(user) -> OwnConsents:
    """The resident's current decisions, keyed (category, recipient, context), and their timing."""
    subject = own_subject(user)
    holder = ConsentSubject.objects.filter(key=subject).first()
    decisions = {
        (d.category, d.recipient, d.context): d for d in ConsentDecision.objects.filter(subject=subject).order_by()
    }
    return OwnConsents(
        subject=subject,
        timing=holder.timing if holder else Timing.NEW_DATA,
        timing_set=bool(holder and holder.timing_set),
        decisions=decisions,
    )


def own_consent_records(user, paginate: Paginate | None = None, limit: int = MAX_RECORDS_IN_DOWNLOAD):
    """The resident's consent records, newest first."""
    records = ConsentRecord.objects.filter(subject=own_subject(user)).order_by("-at", "-id")
    return paginate(records) if paginate is not None else list(records[:limit])


def own_consent_record(user, receipt_id) -> ConsentRecord:
    """One of the resident's consent records by its receipt id; NotVisible for anyone else's."""
    record = ConsentRecord.objects.filter(subject=own_subject(user), receipt_id=receipt_id).first()
    if record is None:
        raise NotVisible(field="receipt")
    return record


def _own_accesses(user) -> QuerySet[PersonalDataAccess]:
    return (
        PersonalDataAccess.objects.filter(evacuee__city_os_id=_city_os_id(user))
        .select_related("shelter", "release", "release__disaster")
        .order_by("-at", "-id")
    )


def own_releases(user) -> list[ReleaseTouching]:
    """The legal-basis releases under which the resident's data was read (access.releases)."""
    ids = Evacuee.objects.filter(city_os_id=_city_os_id(user)).values_list("pk", flat=True)
    return releases_touching(list(ids))


def own_accesses(user, paginate: Paginate | None = None, limit: int = MAX_ACCESSES_IN_DOWNLOAD):
    """Every recorded read of the resident's person record(s), newest first: when, the reader's role
    and shelter, purpose, basis and release. Never the reader's account."""
    accesses = _own_accesses(user)
    return paginate(accesses) if paginate is not None else list(accesses[:limit])


@dataclass
class OwnData:
    people: list[Evacuee]
    household: list[Evacuee]
    responses: list[Response]
    follow_ups: list[FollowUp]
    consents: OwnConsents
    records: list[ConsentRecord]
    corrections: list[CorrectionRequest]


def own_data(user, *, with_answers: bool = False) -> OwnData:
    """Everything the city holds about the resident, for their page and their download.

    `with_answers` also reads each survey answer's content (the download); the page shows counts
    and dates only.
    """
    people = own_people(user)
    ids = [person.pk for person in people]
    responses = Response.objects.filter(respondent_id__in=ids).select_related("shelter", "version__survey")
    if not with_answers:
        responses = responses.defer("answers")
    return OwnData(
        people=people,
        household=own_household_members(user, people),
        responses=list(responses.order_by("-answered_at", "-id")[:MAX_RECORDS_IN_DOWNLOAD]),
        follow_ups=list(
            FollowUp.objects.filter(evacuee_id__in=ids)
            .select_related("shelter")
            .prefetch_related("changes")
            .order_by("-created_at", "-id")
        ),
        consents=own_consents(user),
        records=own_consent_records(user),
        corrections=own_correction_requests(user),
    )


# --- Corrections -----------------------------------------------------------------------------------


def own_correction_requests(user) -> list[CorrectionRequest]:
    return list(CorrectionRequest.objects.filter(requester=user, evacuee__city_os_id=_city_os_id(user))[:100])


def own_person_by_id(user, evacuee_id) -> Evacuee:
    """One of the resident's own person records (a correction names which); NotVisible otherwise."""
    evacuee_id = object_id(evacuee_id, field="evacuee")
    person = Evacuee.objects.filter(pk=evacuee_id, city_os_id=_city_os_id(user)).first()
    if person is None:
        raise NotVisible(field="evacuee")
    return person


def correction_requests_for_list(*, user, state: str = "", paginate: Paginate | None = None, purpose: str):
    """Residents' correction requests for HQ, newest first, each person masked and recorded."""
    if not policy.may_handle_corrections(user):
        raise NotVisible(field="correction")
    requests = CorrectionRequest.objects.select_related("evacuee").order_by("-created_at", "-id")
    if state:
        requests = requests.filter(state=state)
    page = paginate(requests) if paginate is not None else list(requests[:200])
    consent.shown(user, [request.evacuee for request in page], purpose=purpose)
    return page


def access_correction_request_by_id(user, request_id) -> CorrectionRequest:
    """One correction request for HQ to handle (the person is not shown)."""
    if not policy.may_handle_corrections(user):
        raise NotVisible(field="correction")
    request_id = object_id(request_id, field="correction")
    found = CorrectionRequest.objects.filter(pk=request_id).first()
    if found is None:
        raise NotVisible(field="correction")
    return found
