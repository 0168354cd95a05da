"""Residents, consents, disasters and releases for the consent tests, made through the services."""

from datetime import timedelta

from django.utils import timezone

from consent.models import LegalRelease, subject_of
from consent.rules import Method, ReleaseScope
from consent.services import Change, consents_record, release_declare
from shelters import services
from shelters.models import Disaster, Role
from tests.factories import EvacueeFactory, HouseholdFactory, UserFactory

# A name that appears nowhere else in the site: if it shows up in a response, it leaked.
SECRET_NAME = "秘匿 ミツカラナイ"
SECRET_KANA = "ヒトク ミツカラナイ"
SECRET_PHONE = "0242-99-8877"


def resident(shelter, *, name=SECRET_NAME, kana=SECRET_KANA, phone=SECRET_PHONE, on_roster=True, needs=("wheelchair",)):
    """A person on the evacuation-support roster with a support need and a household, staying at `shelter`."""
    household = HouseholdFactory()
    person = EvacueeFactory(
        name=name, name_kana=kana, phone=phone, household=household, requires_evacuation_support=on_roster
    )
    household.representative = person
    household.save(update_fields=["representative"])
    hq = UserFactory(username=f"desk-{person.pk}", role=Role.HQ)
    if needs:
        services.evacuee_update(evacuee_id=person.pk, actor=hq, changes={"support_needs": dict.fromkeys(needs, "")})
    services.stay_check_in(shelter_id=shelter.pk, evacuee_ids=[person.pk], actor=hq)
    person.refresh_from_db()
    return person


def decide(person, category, recipient, context, decision):
    return consents_record(
        subject=subject_of(person),
        changes=[Change(category=category, recipient=recipient, context=context, decision=decision)],
        method=Method.DESK,
    )


def refuse_everything(person, recipients, contexts=("peacetime", "disaster"), categories=None):
    from consent.rules import Category

    changes = [
        Change(category=category, recipient=recipient, context=context, decision="refused")
        for category in (categories or Category.values)
        for recipient in recipients
        for context in contexts
    ]
    return consents_record(subject=subject_of(person), changes=changes, method=Method.DESK)


def open_disaster(actor=None, name="テスト地震") -> Disaster:
    return services.disaster_declare(name=name, actor=actor)


def release(
    hq, disaster, rule, *, categories=None, recipients=None, scope=ReleaseScope.ROSTER, hours=24, **kw
) -> LegalRelease:
    from consent.rules import LEGAL_RULES

    legal = LEGAL_RULES[rule]
    return release_declare(
        disaster_id=disaster.pk,
        rule=rule,
        categories=sorted(categories or legal.categories),
        recipients=sorted(recipients or legal.recipients),
        scope=scope,
        reason="テスト: 安否確認のため",
        hours=hours,
        actor=hq,
        **kw,
    )


def travel(release_row: LegalRelease, *, declared_ago: timedelta, expires_in: timedelta) -> None:
    """Move a release in time without sleeping: declared `declared_ago`, ending `expires_in` from now."""
    now = timezone.now()
    LegalRelease.objects.filter(pk=release_row.pk).update(declared_at=now - declared_ago, expires_at=now + expires_in)
