"""Reading shelter registry files into records, without touching the database.

Columns are found by name, because real files differ: the municipal standard open data
(自治体標準オープンデータセット 指定緊急避難場所一覧: ID, 名称, 災害種別_洪水...), GSI's and the Digital
Agency's lists (共通ID, 施設・場所名, 洪水...), and files compiled from them, such as Nanao's
open-shelter snapshots (地区, 人数, 時点). Writing the records is `shelter_registry_import`'s job.
"""

import csv
import io
import os
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from shelters.models import HAZARD_FIELDS, Shelter, ShelterKind

# The Shelter fields a registry file may carry; status, occupancy and the like are never imported.
REGISTRY_FIELDS = (
    "code",
    "common_id",
    "name",
    "name_kana",
    "name_en",
    "municipality_code",
    "town_id",
    "address",
    "prefecture",
    "city",
    "town",
    "block",
    "building",
    "district",
    "latitude",
    "longitude",
    "elevation",
    "phone",
    *HAZARD_FIELDS,
    "kind",
    "capacity",
    "capacity_text",
    "target_associations",
)


def _hazard(name: str, *more: str) -> tuple[str, ...]:
    names = (name, *more)
    return (*(f"災害種別_{n}" for n in names), *names)


# Accepted headers per field, best first. Matched after `_header_key`, so width, case and spaces
# do not matter (共通ＩＤ is 共通ID, 建物名等（方書） is 建物名等(方書)).
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("ID", "施設ID", "避難所ID", "避難場所ID"),
    "common_id": ("共通ID",),
    "name": ("名称", "施設・場所名", "施設名", "施設名称", "避難所名", "避難所名称", "避難場所名"),
    "name_kana": ("名称_カナ", "名称(カナ)", "名称カナ", "施設名カナ", "フリガナ", "ふりがな"),
    "name_en": ("名称_英字", "名称(英字)", "名称英字", "名称_英語", "英語名称"),
    "municipality_code": (
        "所在地_全国地方公共団体コード",
        "全国地方公共団体コード",
        "地方公共団体コード",
        "市区町村コード",
        "市町村コード",
    ),
    "town_id": ("町字ID",),
    "address": ("所在地_連結表記", "住所", "所在地", "所在地住所"),
    "prefecture": ("所在地_都道府県", "都道府県", "都道府県名"),
    "city": ("所在地_市区町村", "市区町村", "市区町村名"),
    "town": ("所在地_町字", "町字"),
    "block": ("所在地_番地以下", "番地以下"),
    "building": ("建物名等(方書)", "建物名等", "方書"),
    "district": ("地区", "地区名"),
    "latitude": ("緯度", "latitude", "lat"),
    "longitude": ("経度", "longitude", "lon", "lng"),
    "elevation": ("標高", "標高(m)"),
    "phone": ("電話番号", "電話"),
    "hazard_flood": _hazard("洪水"),
    "hazard_landslide": _hazard("崖崩れ、土石流及び地滑り", "崖崩れ・土石流及び地滑り", "土砂災害"),
    "hazard_storm_surge": _hazard("高潮"),
    "hazard_earthquake": _hazard("地震"),
    "hazard_tsunami": _hazard("津波"),
    "hazard_large_fire": _hazard("大規模な火事", "大規模な火災"),
    "hazard_inland_flood": _hazard("内水氾濫"),
    "hazard_volcano": _hazard("火山現象"),
    "capacity": ("想定収容人数", "収容人数", "収容可能人数", "想定収容人員", "収容人員"),
    "target_associations": ("対象となる町会・自治会", "対象町会・自治会", "対象となる町会・自治会等"),
}
# Columns whose value names the kind of shelter (一般 / 福祉避難所).
KIND_COLUMNS = ("避難所種別", "種別", "施設種別", "受入対象者")
WELFARE = "福祉"
WELFARE_SHELTER = "福祉避難所"

TRUE_FLAGS = {"1", "1.0", "○", "◯", "〇", "●", "true", "yes", "y", "有", "可"}
FALSE_FLAGS = {"", "0", "0.0", "×", "✕", "-", "false", "no", "n", "無", "不可"}

LATITUDE_RANGE = (Decimal(-90), Decimal(90))
LONGITUDE_RANGE = (Decimal(-180), Decimal(180))
# The model's DecimalFields: latitude/longitude (9, 6), elevation (7, 1).
DEGREES_STEP = Decimal("0.000001")
ELEVATION_STEP = Decimal("0.1")
ELEVATION_LIMIT = Decimal(1_000_000)


@dataclass(frozen=True)
class RowError:
    line: int  # physical line where the record starts; the header is line 1
    field: str  # the column as the file names it, or what was wrong ("header", "CSV")
    message: str

    def __str__(self) -> str:
        return f"{self.line}: {self.field}: {self.message}"


@dataclass
class ShelterRecord:
    line: int
    code: str
    name: str
    common_id: str = ""
    name_kana: str = ""
    name_en: str = ""
    municipality_code: str = ""
    town_id: str = ""
    address: str = ""
    prefecture: str = ""
    city: str = ""
    town: str = ""
    block: str = ""
    building: str = ""
    district: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    elevation: Decimal | None = None
    phone: str = ""
    hazard_flood: bool = False
    hazard_landslide: bool = False
    hazard_storm_surge: bool = False
    hazard_earthquake: bool = False
    hazard_tsunami: bool = False
    hazard_large_fire: bool = False
    hazard_inland_flood: bool = False
    hazard_volcano: bool = False
    kind: str = ShelterKind.GENERAL
    capacity: int | None = None
    capacity_text: str = ""
    target_associations: str = ""
    # The registry fields this record's file carries. An import leaves the other fields of an
    # existing shelter alone: a snapshot without 名称_カナ must not blank the kana of the registry.
    present: frozenset[str] = field(default=frozenset(REGISTRY_FIELDS))


@dataclass
class ParseResult:
    records: list[ShelterRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def parse_shelter_file(path_or_bytes: str | os.PathLike | bytes) -> ParseResult:
    """Read a registry CSV (UTF-8 with or without BOM, or Shift_JIS) into valid records and errors.

    A record with any error is left out of `records`; its errors say which line and column.
    """
    if isinstance(path_or_bytes, bytes):
        data = path_or_bytes
    else:
        with open(path_or_bytes, "rb") as file:
            data = file.read()
    try:
        text = _decode(data)
    except UnicodeDecodeError:
        return ParseResult(errors=[RowError(1, "encoding", _("The file is neither UTF-8 nor Shift_JIS."))])
    return _parse_text(text)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # CP932 rather than strict Shift_JIS: Windows exports use its extra characters (①, ㈱, 髙).
        return data.decode("cp932")


def _header_key(header: str) -> str:
    return "".join(unicodedata.normalize("NFKC", header).split()).casefold()


@dataclass
class _Columns:
    index: dict[str, int]  # field -> position
    headers: list[str]
    kind_index: int | None
    welfare_index: int | None

    def header(self, field_name: str) -> str:
        return self.headers[self.index[field_name]].strip()


def _find_columns(headers: list[str]) -> _Columns:
    positions: dict[str, int] = {}
    for position, header in enumerate(headers):
        positions.setdefault(_header_key(header), position)
    index = {}
    for field_name, aliases in COLUMNS.items():
        for alias in aliases:
            if _header_key(alias) in positions:
                index[field_name] = positions[_header_key(alias)]
                break
    kind_index = next((positions[k] for k in map(_header_key, KIND_COLUMNS) if k in positions), None)
    welfare_index = next((position for key, position in positions.items() if _header_key(WELFARE_SHELTER) in key), None)
    return _Columns(index=index, headers=headers, kind_index=kind_index, welfare_index=welfare_index)


def _parse_text(text: str) -> ParseResult:
    result = ParseResult()
    # strict: a stray quote is an error rather than a field that silently swallows the next lines.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        headers = next(reader, None)
    except csv.Error as error:
        result.errors.append(RowError(1, "CSV", str(error)))
        return result
    if not headers or not any(h.strip() for h in headers):
        result.errors.append(RowError(1, "header", _("The file is empty or has no header row.")))
        return result
    columns = _find_columns(headers)
    missing = []
    if "code" not in columns.index and "common_id" not in columns.index:
        missing.append(_("ID (or 共通ID)"))
    if "name" not in columns.index:
        missing.append(_("名称 (or 施設・場所名)"))
    if missing:
        message = _("Missing column(s): %(columns)s. The header has: %(headers)s.") % {
            "columns": ", ".join(missing),
            "headers": ", ".join(h.strip() for h in headers),
        }
        result.errors.append(RowError(1, "header", message))
        return result

    first_line_of: dict[str, int] = {}
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            result.errors.append(RowError(line, "CSV", _("Cannot read the rest of the file: %s") % error))
            break
        if not any(v.strip() for v in values):
            continue
        record, errors = _parse_row(values, line=line, columns=columns)
        if record is not None and record.code in first_line_of:
            errors.append(
                RowError(
                    line,
                    columns.header("code" if "code" in columns.index else "common_id"),
                    _("Duplicate ID %(code)s, already on line %(line)d.")
                    % {"code": record.code, "line": first_line_of[record.code]},
                )
            )
        if errors:
            result.errors.extend(errors)
        elif record is not None:
            first_line_of[record.code] = line
            result.records.append(record)
    return result


def _parse_row(values: list[str], *, line: int, columns: _Columns) -> tuple[ShelterRecord | None, list[RowError]]:
    errors: list[RowError] = []

    def raw(field_name: str) -> str:
        position = columns.index.get(field_name)
        if position is None or position >= len(values):
            return ""
        return values[position].strip()

    def error(field_name: str, message: str) -> None:
        errors.append(RowError(line, columns.header(field_name), message))

    if len(values) > len(columns.headers) and any(v.strip() for v in values[len(columns.headers) :]):
        errors.append(
            RowError(
                line,
                "row",
                _("%(found)d fields where the header has %(expected)d.")
                % {"found": len(values), "expected": len(columns.headers)},
            )
        )

    present = {f for f in REGISTRY_FIELDS if f in columns.index}
    fields: dict = {}
    for field_name in present - {"latitude", "longitude", "elevation", "capacity", *HAZARD_FIELDS}:
        fields[field_name] = _one_line(raw(field_name))
    for field_name in ("code", "common_id", "phone", "town_id"):
        if field_name in fields:
            fields[field_name] = unicodedata.normalize("NFKC", fields[field_name])

    code = fields.get("code") or fields.get("common_id", "")
    fields["code"] = code
    present.add("code")
    if not code:
        error("code" if "code" in columns.index else "common_id", _("A shelter needs an ID."))
    if not fields.get("name"):
        error("name", _("A shelter needs a name."))

    if "municipality_code" in fields:
        municipality_code, problem = _municipality_code(fields["municipality_code"])
        fields["municipality_code"] = municipality_code
        if problem:
            error("municipality_code", problem)

    for field_name, limits in (("latitude", LATITUDE_RANGE), ("longitude", LONGITUDE_RANGE)):
        if field_name in present:
            value, problem = _degrees(raw(field_name), limits)
            fields[field_name] = value
            if problem:
                error(field_name, problem)
    if "elevation" in present:
        value, problem = _elevation(raw("elevation"))
        fields["elevation"] = value
        if problem:
            error("elevation", problem)

    for field_name in HAZARD_FIELDS:
        if field_name in present:
            flag = _flag(raw(field_name))
            if flag is None:
                error(field_name, _("Expected 1, ○ or blank, found “%s”.") % raw(field_name))
            fields[field_name] = bool(flag)

    if "capacity" in present:
        text = _one_line(raw("capacity"))
        fields["capacity"] = parse_capacity(text)
        fields["capacity_text"] = text
        present.add("capacity_text")

    kind = _kind(values, columns, name=fields.get("name", ""))
    if kind is not None:
        fields["kind"] = kind
        present.add("kind")

    for field_name in present:
        limit = getattr(Shelter._meta.get_field(field_name), "max_length", None)
        value = fields.get(field_name)
        if limit and isinstance(value, str) and len(value) > limit:
            error(
                "capacity" if field_name == "capacity_text" else field_name,
                _("Longer than %(limit)d characters.") % {"limit": limit},
            )

    if errors:
        return None, errors
    return ShelterRecord(line=line, present=frozenset(present), **fields), []


def _one_line(value: str) -> str:
    # Registry values are single-line; a quoted line break (CC0000000563's English name) is a space.
    return re.sub(r"\s*[\r\n]+\s*", " ", value.strip())


def _flag(value: str) -> bool | None:
    key = unicodedata.normalize("NFKC", value).strip().casefold()
    if key in TRUE_FLAGS:
        return True
    if key in FALSE_FLAGS:
        return False
    return None


def _kind(values: list[str], columns: _Columns, *, name: str) -> str | None:
    """The shelter's kind, or None when the file says nothing about it."""

    def value_at(position: int) -> str:
        return values[position].strip() if position < len(values) else ""

    if columns.welfare_index is not None:
        value = value_at(columns.welfare_index)
        is_welfare = _flag(value) or WELFARE in value
        return ShelterKind.WELFARE if is_welfare else ShelterKind.GENERAL
    if columns.kind_index is not None:
        return ShelterKind.WELFARE if WELFARE in value_at(columns.kind_index) else ShelterKind.GENERAL
    # Nanao's snapshots mark a shelter run as a welfare shelter only in its name: 白南風（福祉避難所）.
    if WELFARE_SHELTER in name:
        return ShelterKind.WELFARE
    return None


def municipality_code_check_digit(first_five: str) -> int:
    """JIS X 0402 check digit of a local government code's first five digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first_five, (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10


def _is_valid_six_digit_code(code: str) -> bool:
    return len(code) == 6 and code.isdigit() and int(code[5]) == municipality_code_check_digit(code[:5])


def _municipality_code(value: str) -> tuple[str, str | None]:
    """Normalise a local government code that a spreadsheet may have turned into a number.

    72028 is Aizuwakamatsu's 072028 without its leading zero; 13101 is Chiyoda's five-digit code.
    The check digit tells them apart.
    """
    code = unicodedata.normalize("NFKC", value).strip()
    code = re.sub(r"\.0+$", "", code)  # 72028.0 from a spreadsheet
    if not code:
        return "", None
    if not code.isdigit():
        return code, _("Not a local government code: “%s”.") % value
    if len(code) == 6:
        if not _is_valid_six_digit_code(code):
            return code, _("The check digit of %s is wrong.") % code
        return code, None
    if len(code) == 5:
        return (code.zfill(6), None) if _is_valid_six_digit_code(code.zfill(6)) else (code, None)
    if len(code) == 4:
        return code.zfill(5), None
    return code, _("Not a local government code: “%s”.") % value


def _decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(unicodedata.normalize("NFKC", value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _degrees(value: str, limits: tuple[Decimal, Decimal]) -> tuple[Decimal | None, str | None]:
    if not value:
        return None, None
    number = _decimal(value)
    low, high = limits
    if number is None or not low <= number <= high:
        return None, _("Expected a number from %(low)s to %(high)s, found “%(value)s”.") % {
            "low": low,
            "high": high,
            "value": value,
        }
    return number.quantize(DEGREES_STEP, rounding=ROUND_HALF_UP), None


def _elevation(value: str) -> tuple[Decimal | None, str | None]:
    if not value:
        return None, None
    number = _decimal(value)
    if number is None or abs(number) >= ELEVATION_LIMIT:
        return None, _("Expected a height in metres, found “%s”.") % value
    return number.quantize(ELEVATION_STEP, rounding=ROUND_HALF_UP), None


_NUMBER = r"(\d[\d,]*)"


def parse_capacity(text: str) -> int | None:
    """The indoor capacity in a published 想定収容人数, or None when it gives none.

    `屋内480人／屋外3,350人(面積の1/2)` → 480; `350人` → 350; `屋外3,000人` → None (no indoor figure).
    """
    normalised = unicodedata.normalize("NFKC", text)
    normalised = re.sub(r"\([^)]*\)", "", normalised)  # (面積の1/2), (座席数): notes, not counts
    indoor = re.search(r"屋内\D*?" + _NUMBER, normalised)
    if indoor:
        return int(indoor.group(1).replace(",", ""))
    if "屋外" in normalised:
        return None
    plain = re.fullmatch(r"\D*?" + _NUMBER + r"(?:\.0+)?\s*人?\D*", normalised.strip())
    if plain:
        return int(plain.group(1).replace(",", ""))
    return None
