"""Everything this site asks of Aizuwakamatsu's City OS, in one place.

The City OS gives residents a common ID and signs them in (OpenID Connect), keeps what each resident
allowed to be shared with whom (opt-in), their attributes (address, family) and a count of residents
outside the shelters who share their location. Its real interfaces are not public: each endpoint is
a setting (CITYOS_*, docs/city-os.md), and `make run` points them at the sandbox in cityos/sandbox/.

Every call is bounded (CITYOS_TIMEOUT_SECONDS, answers over MAX_RESPONSE_BYTES refused) and fails in
one of two ways: `CityOSUnavailable` (no answer, an error, an answer we cannot read: try later) or
`CityOSRefused` (the City OS answered that it will not: not found, not shared, a bad signature).
Nothing personal is logged: log lines name the endpoint and the status, never an ID or a name.
"""

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote

import jwt
import requests
from django.conf import settings

from consent import rules

logger = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 1024 * 1024
# A QR payload is a short compact JWS; anything longer is not one of ours.
MAX_QR_PAYLOAD_CHARS = 4096
QR_AUDIENCE = "shelter"
# A key the JWKS does not list is looked up again at most this often (the City OS rotated its key).
JWKS_REFRESH_SECONDS = 60

# The City OS keeps opt-in in the consent ledger's own words (consent/rules.py): each cell it sends is
# applied here as it is (cityos/sync.py), so it may send no other.
CATEGORIES = tuple(rules.Category.values)
RECIPIENTS = tuple(rules.Recipient.values)
CONTEXTS = tuple(rules.Context.values)
TIMINGS = tuple(rules.Timing.values)
DECISIONS = tuple(rules.Decision.values)


class CityOSError(Exception):
    """The City OS did not give what was asked; the message names no person."""


class CityOSUnavailable(CityOSError):
    """No answer in time, an error, or an answer that cannot be read: the same call may work later."""


class CityOSRefused(CityOSError):
    """The City OS answered no: not found, not shared with shelters, or a token it did not sign."""


@dataclass(frozen=True)
class FamilyMember:
    city_os_id: str
    name: str
    name_kana: str
    birth_date: date | None
    sex: str
    relationship: str


@dataclass(frozen=True)
class Attributes:
    city_os_id: str
    name: str
    name_kana: str
    birth_date: date | None
    sex: str
    address: str
    phone: str
    family: list[FamilyMember]


@dataclass(frozen=True)
class Decision:
    category: str
    recipient: str
    context: str
    decision: str
    at: datetime


@dataclass(frozen=True)
class OptIn:
    city_os_id: str
    timing: str
    updated_at: datetime | None
    decisions: list[Decision]

    def allows(self, category: str, recipient: str, context: str) -> bool:
        return any(
            (d.category, d.recipient, d.context, d.decision) == (category, recipient, context, "given")
            for d in self.decisions
        )


@dataclass(frozen=True)
class AreaCount:
    code: str
    name: str
    count: int
    as_of: datetime


# --- HTTP ---------------------------------------------------------------------------------------


def _timeout() -> float:
    return float(settings.CITYOS_TIMEOUT_SECONDS)


def http_request(method: str, url: str, *, what: str, headers: dict | None = None, data: dict | None = None) -> bytes:
    """The body of a 200 answer; CityOSRefused for 401/403/404, CityOSUnavailable for anything else.

    `what` names the endpoint in log lines (the URL may hold a resident's ID). The body is read in
    chunks and refused past MAX_RESPONSE_BYTES, so a broken or hostile server cannot fill memory.
    """
    if not url:
        raise CityOSUnavailable(f"The City OS {what} endpoint is not configured.")
    try:
        with requests.request(
            method,
            url,
            headers={"Accept": "application/json", **(headers or {})},
            data=data,
            timeout=_timeout(),
            stream=True,
            allow_redirects=False,
        ) as response:
            body = bytearray()
            deadline = time.monotonic() + _timeout() * 3
            for chunk in response.iter_content(chunk_size=65536):
                body += chunk
                if len(body) > MAX_RESPONSE_BYTES:
                    logger.warning("City OS %s: answer over %d bytes refused", what, MAX_RESPONSE_BYTES)
                    raise CityOSUnavailable(f"The City OS {what} answer is too large.")
                if time.monotonic() > deadline:  # a server trickling bytes slower than the timeout sees
                    raise CityOSUnavailable(f"The City OS {what} answer took too long.")
            status = response.status_code
    except requests.RequestException as error:
        logger.warning("City OS %s: %s", what, type(error).__name__)
        raise CityOSUnavailable(f"The City OS {what} did not answer.") from None
    if status in (401, 403, 404):
        logger.info("City OS %s: refused (%d)", what, status)
        raise CityOSRefused(f"The City OS {what} refused ({status}).")
    if status != 200:
        logger.warning("City OS %s: status %d", what, status)
        raise CityOSUnavailable(f"The City OS {what} answered {status}.")
    return bytes(body)


def json_answer(body: bytes, what: str):
    """An answer's JSON; CityOSUnavailable when it is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        raise CityOSUnavailable(f"The City OS {what} answer is not JSON.") from None


def _api_get(base: str, path: str, what: str) -> dict:
    if not base:
        raise CityOSUnavailable(f"The City OS {what} endpoint is not configured.")
    body = http_request(
        "GET", base.rstrip("/") + path, what=what, headers={"Authorization": f"Bearer {settings.CITYOS_API_TOKEN}"}
    )
    data = json_answer(body, what)
    if not isinstance(data, dict):
        raise CityOSUnavailable(f"The City OS {what} answer is not an object.")
    return data


def _id_path(city_os_id: str) -> str:
    city_os_id = str(city_os_id).strip()
    if not city_os_id or len(city_os_id) > 64:
        raise CityOSRefused("Not a City OS ID.")
    return quote(city_os_id, safe="")


# --- Reading answers ----------------------------------------------------------------------------


class _Shape(Exception):
    pass


def _text(data: dict, key: str, limit: int = 200, *, required: bool = False) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or len(value) > limit or (required and not value):
        raise _Shape(key)
    return value


def _date(data: dict, key: str) -> date | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise _Shape(key) from None


def _datetime(data: dict, key: str, *, required: bool = True) -> datetime | None:
    value = data.get(key)
    if value in (None, "") and not required:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise _Shape(key) from None
    if parsed.tzinfo is None:
        raise _Shape(key)
    return parsed


def _choice(data: dict, key: str, choices: tuple[str, ...]) -> str:
    value = data.get(key)
    if value not in choices:
        raise _Shape(key)
    return value


def _list(data: dict, key: str, limit: int) -> list:
    value = data.get(key, [])
    if not isinstance(value, list) or len(value) > limit or not all(isinstance(item, dict) for item in value):
        raise _Shape(key)
    return value


def _read(what: str, build):
    try:
        return build()
    except _Shape as error:
        # The field's name only: its value may be personal.
        logger.warning("City OS %s: unexpected field %s", what, error)
        raise CityOSUnavailable(f"The City OS {what} answer has an unexpected {error}.") from None


# --- The calls ----------------------------------------------------------------------------------


def resident_attributes(city_os_id: str) -> Attributes:
    """The resident's name, birth date, address, phone and family, as the City OS holds them.

    The City OS answers only when the resident allowed sharing them with shelters: otherwise, and
    for an ID it does not know, CityOSRefused.
    """
    data = _api_get(settings.CITYOS_ATTRIBUTES_URL, f"/residents/{_id_path(city_os_id)}", "attributes")

    def build() -> Attributes:
        family = [
            FamilyMember(
                city_os_id=_text(member, "city_os_id", 64, required=True),
                name=_text(member, "name"),
                name_kana=_text(member, "name_kana"),
                birth_date=_date(member, "birth_date"),
                sex=_text(member, "sex", 20),
                relationship=_text(member, "relationship", 40),
            )
            for member in _list(data, "family", 50)
        ]
        return Attributes(
            city_os_id=_text(data, "city_os_id", 64, required=True),
            name=_text(data, "name"),
            name_kana=_text(data, "name_kana"),
            birth_date=_date(data, "birth_date"),
            sex=_text(data, "sex", 20),
            address=_text(data, "address", 500),
            phone=_text(data, "phone", 40),
            family=family,
        )

    return _read("attributes", build)


def resident_consents(city_os_id: str) -> OptIn:
    """What the resident allowed: to whom, in which context, and when they want to be asked again."""
    data = _api_get(settings.CITYOS_OPTIN_URL, f"/residents/{_id_path(city_os_id)}/consents", "opt-in")

    def build() -> OptIn:
        decisions = [
            Decision(
                category=_choice(item, "category", CATEGORIES),
                recipient=_choice(item, "recipient", RECIPIENTS),
                context=_choice(item, "context", CONTEXTS),
                decision=_choice(item, "decision", DECISIONS),
                at=_datetime(item, "at"),
            )
            for item in _list(data, "decisions", len(CATEGORIES) * len(RECIPIENTS) * len(CONTEXTS))
        ]
        return OptIn(
            city_os_id=_text(data, "city_os_id", 64, required=True),
            timing=_choice(data, "timing", TIMINGS),
            updated_at=_datetime(data, "updated_at", required=False),
            decisions=decisions,
        )

    return _read("opt-in", build)


def location_counts() -> list[AreaCount]:
    """Per area, how many residents outside the shelters share their location (counts, never a person)."""
    data = _api_get(settings.CITYOS_LOCATION_URL, "/areas", "location")

    def build() -> list[AreaCount]:
        as_of = _datetime(data, "as_of")
        counts = []
        for area in _list(data, "areas", 10_000):
            count = area.get("count")
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise _Shape("count")
            counts.append(
                AreaCount(
                    code=_text(area, "code", 40, required=True), name=_text(area, "name"), count=count, as_of=as_of
                )
            )
        return counts

    return _read("location", build)


# --- Discovery and keys -------------------------------------------------------------------------

_cache_lock = threading.Lock()
_discovery: dict[str, dict] = {}
_jwks: dict[str, tuple[float, dict[str, jwt.PyJWK]]] = {}


def discovery() -> dict:
    """The issuer's OpenID configuration, fetched once per process and kept."""
    issuer = settings.CITYOS_ISSUER.rstrip("/")
    with _cache_lock:
        if issuer in _discovery:
            return _discovery[issuer]
    data = json_answer(http_request("GET", f"{issuer}/.well-known/openid-configuration", what="discovery"), "discovery")
    needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    if not isinstance(data, dict) or not all(isinstance(data.get(key), str) and data[key] for key in needed):
        raise CityOSUnavailable("The City OS discovery document lacks its endpoints.")
    with _cache_lock:
        _discovery[issuer] = data
    return data


def _fetch_keys(uri: str) -> dict[str, jwt.PyJWK]:
    data = json_answer(http_request("GET", uri, what="keys"), "keys")
    keys = {}
    for entry in data.get("keys", []) if isinstance(data, dict) else []:
        if isinstance(entry, dict) and entry.get("kty") == "RSA" and entry.get("use", "sig") == "sig":
            try:
                keys[str(entry.get("kid", ""))] = jwt.PyJWK(entry, algorithm="RS256")
            except jwt.PyJWTError:
                continue
    return keys


def signing_key(token: str) -> jwt.PyJWK:
    """The issuer's key that signed `token` (RS256), from its JWKS, fetched once and cached; fetched
    again (at most every JWKS_REFRESH_SECONDS) when the token names a key we do not know."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise CityOSRefused("Not a signed token.") from None
    if header.get("alg") != "RS256":
        raise CityOSRefused("The token is not signed with RS256.")
    kid = str(header.get("kid", ""))
    uri = discovery()["jwks_uri"]
    with _cache_lock:
        fetched_at, keys = _jwks.get(uri, (0.0, {}))
    if (kid not in keys and time.monotonic() - fetched_at >= JWKS_REFRESH_SECONDS) or not fetched_at:
        keys = _fetch_keys(uri)
        with _cache_lock:
            _jwks[uri] = (time.monotonic(), keys)
    if kid in keys:
        return keys[kid]
    if not kid and len(keys) == 1:
        return next(iter(keys.values()))
    raise CityOSRefused("The token is signed with a key the City OS does not publish.")


def verify(token: str, *, audience: str) -> dict:
    """The claims of a JWS the City OS signed for `audience`; CityOSRefused when it did not, or it expired."""
    key = signing_key(token)
    try:
        return jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=audience,
            issuer=discovery()["issuer"],
            options={"require": ["exp", "sub", "aud"]},
            leeway=30,
        )
    except jwt.PyJWTError as error:
        raise CityOSRefused(f"The token was refused: {type(error).__name__}.") from None


def qr_subject(payload: str) -> str | None:
    """The common ID in a QR code the City OS signed (a compact JWS for audience "shelter").

    None when the payload is not a JWS at all (the desk reads it as a plain ID, as before);
    CityOSRefused for one with a bad signature, another audience, or past its expiry.
    """
    payload = (payload or "").strip()
    if len(payload) > MAX_QR_PAYLOAD_CHARS or payload.count(".") != 2:
        return None
    try:
        header = jwt.get_unverified_header(payload)
    except jwt.PyJWTError:
        return None
    if not isinstance(header, dict) or "alg" not in header:
        return None
    claims = verify(payload, audience=QR_AUDIENCE)
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 64:
        raise CityOSRefused("The token names no resident.")
    return subject


def forget_cached() -> None:
    """Drop the cached discovery document and keys (tests point the settings at another issuer)."""
    with _cache_lock:
        _discovery.clear()
        _jwks.clear()
