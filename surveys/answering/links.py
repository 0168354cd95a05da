"""The unguessable public address of a shelter's survey, printed as a QR code on its poster.

The key is the shelter's id signed with the site's secret, so nobody can post answers to a shelter
whose poster they have not seen. Changing SECRET_KEY invalidates every printed poster.
"""

from django.core import signing
from django.urls import reverse

from shelters.models import Shelter

_signer = signing.Signer(salt="surveys.shelter-poster", sep=".")


def shelter_key(shelter: Shelter | int) -> str:
    shelter_id = shelter if isinstance(shelter, int) else shelter.pk
    return _signer.sign(str(shelter_id))


def shelter_id_from_key(key: str) -> int | None:
    try:
        value = _signer.unsign(key)
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None


def survey_path(shelter: Shelter | int, token: str = "") -> str:
    path = reverse("surveys_public:answer", args=[shelter_key(shelter)])
    return f"{path}?t={token}" if token else path
