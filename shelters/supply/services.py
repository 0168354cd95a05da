"""Every write to supply requests. Survey answers, the shelter's page and the API call these."""

from dataclasses import dataclass

from django.db import transaction

from shelters.models import DataSource, Evacuee, Shelter, User
from shelters.services.audit import audit_record
from shelters.supply.models import Item, Request, RequestOrigin, Urgency


@dataclass(frozen=True)
class NeedLine:
    item_code: str
    quantity: int | None = None
    detail: str = ""


@transaction.atomic
def requests_from_survey(
    *, response, shelter: Shelter, evacuee: Evacuee | None, needs: list[NeedLine], source: str = DataSource.REAL
) -> list[Request]:
    """File one open request per item a survey response asked for (once, however often it is re-run)."""
    if not needs:
        return []
    items = {item.code: item for item in Item.objects.filter(code__in=[need.item_code for need in needs])}
    requests = [
        Request(
            shelter=shelter,
            evacuee=evacuee,
            item=items[need.item_code],
            quantity=need.quantity,
            detail=need.detail[:500],
            urgency=Urgency.NORMAL,
            origin=RequestOrigin.SURVEY,
            survey_response=response,
            source=source,
        )
        for need in needs
        if need.item_code in items
    ]
    Request.objects.bulk_create(requests, ignore_conflicts=True)
    return list(Request.objects.filter(survey_response=response))


@transaction.atomic
def request_create(
    *,
    shelter: Shelter,
    item: Item,
    actor: User,
    quantity: int | None,
    urgency: str = Urgency.NORMAL,
    evacuee: Evacuee | None = None,
    detail: str = "",
) -> Request:
    """A request entered by shelter staff, for a person or for the whole shelter."""
    request = Request.objects.create(
        shelter=shelter,
        evacuee=evacuee,
        item=item,
        quantity=quantity,
        urgency=urgency,
        detail=detail,
        origin=RequestOrigin.MANUAL,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="supply_request.create",
        object_type="supply.Request",
        object_id=request.pk,
        details={"shelter": shelter.pk, "item": item.code, "for_person": evacuee is not None},
    )
    return request
