"""All of a resident's data as one document: JSON as it is, CSV as (section, item, field, value)
rows, so one flat file holds people, stays, answers and records of every shape."""

from django.utils import timezone

from access.residents import OwnData
from consent.rules import NOT_ASKED, Category, Context, Recipient
from residents.receipts import consent_receipt


def _time(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def _person(person) -> dict:
    return {
        "id": person.pk,
        "city_os_id": person.city_os_id,
        "walk_in_id": person.walk_in_id,
        "name": person.name,
        "name_kana": person.name_kana,
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        "sex": person.sex,
        "address": person.address,
        "phone": person.phone,
        "household_id": person.household_id,
        "requires_evacuation_support": person.requires_evacuation_support,
        "source": person.source,
        "created_at": _time(person.created_at),
        "updated_at": _time(person.updated_at),
        "support_needs": [
            {"category": need.category.code, "category_name": need.category.name, "notes": need.notes}
            for need in person.support_needs.all()
        ],
        "stays": [
            {
                "shelter": stay.shelter.name,
                "mode": stay.mode,
                "checked_in_at": _time(stay.checked_in_at),
                "checked_out_at": _time(stay.checked_out_at),
                "destination": stay.destination,
                "destination_shelter": stay.destination_shelter.name if stay.destination_shelter_id else None,
            }
            for stay in person.all_stays
        ],
    }


def as_json(data: OwnData, access_rows: list[dict], *, withdraw_url: str) -> dict:
    decisions = []
    for recipient in Recipient:
        for context in Context:
            for category in Category:
                found = data.consents.decisions.get((category, recipient, context))
                decisions.append(
                    {
                        "recipient": recipient.value,
                        "context": context.value,
                        "category": category.value,
                        "decision": found.decision if found else NOT_ASKED,
                        "decided_at": _time(found.decided_at) if found else None,
                    }
                )
    return {
        "generated_at": _time(timezone.now()),
        "subject": data.consents.subject,
        "people": [_person(person) for person in data.people],
        "household": [
            {"id": member.pk, "household_id": member.household_id, "name": member.name, "name_kana": member.name_kana}
            for member in data.household
        ],
        "survey_answers": [
            {
                "survey": response.version.survey.title,
                "version": response.version.number,
                "shelter": response.shelter.name,
                "channel": response.channel,
                "answered_at": _time(response.answered_at),
                "k6_score": response.k6_score,
                "answers": response.answers,
            }
            for response in data.responses
        ],
        "follow_ups": [
            {
                "shelter": follow_up.shelter.name,
                "k6_score": follow_up.k6_score,
                "state": follow_up.state,
                "created_at": _time(follow_up.created_at),
                "updated_at": _time(follow_up.updated_at),
                "changes": [
                    {"from": change.from_state, "to": change.to_state, "at": _time(change.changed_at)}
                    for change in follow_up.changes.all()
                ],
            }
            for follow_up in data.follow_ups
        ],
        "consents": {"timing": data.consents.timing, "decisions": decisions},
        "consent_records": [consent_receipt(record, withdraw_url=withdraw_url) for record in data.records],
        "correction_requests": [
            {
                "field": request.field,
                "message": request.message,
                "state": request.state,
                "created_at": _time(request.created_at),
                "handled_at": _time(request.handled_at),
            }
            for request in data.corrections
        ],
        "accesses": [
            {
                "at": _time(row["at"]),
                "role": row["role"],
                "place": row["place"],
                "purpose": row["purpose"],
                "basis": row["basis"],
                "categories": [str(label) for label in row["categories"]],
            }
            for row in access_rows
        ],
    }


def _flat(prefix: str, value, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flat(f"{prefix}.{key}" if prefix else str(key), inner, out)
    elif isinstance(value, list) and any(isinstance(inner, dict | list) for inner in value):
        for index, inner in enumerate(value):
            _flat(f"{prefix}[{index}]", inner, out)
    elif isinstance(value, list):
        out.append((prefix, ", ".join(str(inner) for inner in value)))
    else:
        out.append((prefix, "" if value is None else value))


def as_rows(body: dict) -> list[list]:
    """(section, item number, field, value) for every leaf of the JSON download."""
    rows = []
    for section, value in body.items():
        items = value if isinstance(value, list) else [value]
        for number, item in enumerate(items, start=1):
            leaves: list[tuple[str, str]] = []
            _flat("", item, leaves)
            rows += [[section, number, name, leaf] for name, leaf in leaves]
    return rows
