"""Reading survey responses exported from Qualtrics or KoBoToolbox (or a plain CSV), without writing.

The formats, as the tools write them:

- Qualtrics CSV: three header rows. Row 1 holds the column ids (StartDate, EndDate, Status,
  RecordedDate, ResponseId, ... Q1, Q7_1, Q7_4_TEXT), row 2 the question texts ("... - Selected
  Choice - 飲料水" for one column per choice), row 3 JSON such as {"ImportId":"QID1"} or
  {"ImportId":"recordedDate","timeZone":"Asia/Tokyo"}; the answers start on line 4. Choices are
  exported as their text or as numeric recode values; a multiple choice is one column of
  comma-separated values, or (split) one column per choice holding 1 or the choice text. The
  Status column marks preview, test and spam responses, which are not evacuees' answers.
  Dates are "2024-01-15 10:23:45" in the zone the ImportId row names.
- KoBoToolbox CSV: one header row of XML names (`group_k6/k6_1`, `needs`, `needs/water`) or labels,
  ";" by default (or ","), sometimes an HXL row of #tags under it; select_multiple as
  space-separated values and/or one 0/1 column per option; `start`/`end` with their UTC offset
  ("2024-01-15T10:23:45.000+09:00"), `_submission_time` in UTC without one, and `_uuid`.
- A plain CSV with one header row whose columns are named after question codes.

Files are UTF-8 (with or without BOM), UTF-16 with BOM (Qualtrics TSV) or CP932 (Excel in Japan).
`ImportFile` reads one; `automatic_mapping` proposes a mapping for a survey version; `RowReader`
turns each row into raw answers for `surveys.services.submission_clean`, or into errors by line.
"""

import csv
import io
import json
import re
import unicodedata
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys.models import Question, QuestionKind

QUALTRICS = "qualtrics"
KOBO = "kobo"
PLAIN = "csv"
FORMATS = (QUALTRICS, KOBO, PLAIN)

MAX_ERRORS_KEPT = 1000
MAX_RESPONSE_ID_LENGTH = 150  # the submission key `import:<format>:<id>` holds 200 characters

# Qualtrics' Status column: 0 IP Address and 4 Imported are answers; the rest are previews, tests, spam.
QUALTRICS_NOT_ANSWERS = {
    "1",
    "2",
    "8",
    "9",
    "17",
    "survey preview",
    "survey test",
    "spam",
    "preview spam",
    "offline preview",
}
# Columns a tool adds about the response rather than its answers, by the tool's own names.
ANSWERED_AT_COLUMNS = {
    QUALTRICS: ("RecordedDate", "EndDate", "StartDate"),
    KOBO: ("end", "_submission_time", "start"),
    PLAIN: ("answered_at", "回答日時"),
}
RESPONSE_ID_COLUMNS = {
    QUALTRICS: ("ResponseId", "ResponseID", "_recordId"),
    KOBO: ("_uuid", "meta/instanceID", "_id"),
    PLAIN: ("response_id", "回答ID", "id"),
}
SHELTER_COLUMNS = ("shelter", "shelter_code", "shelter_id", "避難所", "避難所名", "避難所コード")

TRUE_MARKS = {"1", "true", "yes", "○", "◯", "〇"}
FALSE_MARKS = {"", "0", "false", "no"}


@dataclass(frozen=True)
class RowError:
    line: int  # the physical line where the record starts; the first line of the file is 1
    field: str  # the question code, or what was wrong ("header", "shelter", a column)
    message: str
    column: str = ""

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "column": self.column, "message": self.message}


class FileProblem(Exception):
    """The file as a whole cannot be imported (encoding, no header, missing columns)."""

    def __init__(self, errors: list[RowError]):
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


def normalise(text: str) -> str:
    """Compare headers and answers ignoring width, case and spaces (ＡＢＣ is abc, いつも is いつも)."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).casefold()


# --- Reading the file ---------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was in."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # CP932 rather than strict Shift_JIS: Windows exports use its extra characters (①, 髙).
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError:
        raise FileProblem([RowError(1, "encoding", _("The file is neither UTF-8 nor Shift_JIS (CP932)."))]) from None


def _delimiter(first_line: str) -> str:
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t")}
    return max(counts, key=lambda delimiter: counts[delimiter]) if any(counts.values()) else ","


@dataclass
class ImportFile:
    """A decoded file: its format, columns (and Qualtrics' question texts), and rows by line."""

    file_format: str
    encoding: str
    columns: list[str]
    labels: list[str]  # Qualtrics' second header row; otherwise the columns themselves
    zones: dict[str, str]  # column -> time zone of its naive dates (Qualtrics' ImportId row)
    text: str
    delimiter: str
    header_lines: int

    @classmethod
    def read(cls, data: bytes) -> "ImportFile":
        text, encoding = decode(data)
        first_line = text.split("\n", 1)[0]
        delimiter = _delimiter(first_line)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        try:
            head = [next(reader, None) for _ in range(3)]
        except csv.Error as error:
            raise FileProblem([RowError(reader.line_num or 1, "CSV", str(error))]) from None
        columns = [column.strip() for column in head[0] or []]
        if not any(columns):
            raise FileProblem([RowError(1, "header", _("The file is empty or has no header row."))])
        third = head[2] or []
        keys = {normalise(column) for column in columns}
        if any(cell.strip().startswith('{"ImportId"') for cell in third) or "responseid" in keys:
            has_import_ids = any(cell.strip().startswith('{"ImportId"') for cell in third)
            zones = {}
            if has_import_ids:
                for column, cell in zip(columns, third, strict=False):
                    try:
                        zone = json.loads(cell).get("timeZone")
                    except (ValueError, AttributeError):
                        zone = None
                    if zone:
                        zones[column] = zone
            labels = [label.strip() for label in (head[1] or [])]
            labels += [""] * (len(columns) - len(labels))
            return cls(QUALTRICS, encoding, columns, labels, zones, text, delimiter, 3 if has_import_ids else 2)
        file_format = KOBO if keys & {"_uuid", "_submission_time", "_index"} else PLAIN
        # KoBo puts HXL hashtags (#symmetry) in a second row when the form has any.
        second = head[1] or []
        has_tags = any(cell.strip() for cell in second) and all(
            not cell.strip() or cell.strip().startswith("#") for cell in second
        )
        zones = {"_submission_time": "UTC"} if file_format == KOBO else {}
        return cls(file_format, encoding, columns, list(columns), zones, text, delimiter, 2 if has_tags else 1)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line, values) of every non-empty record; a broken quote ends the file with a FileProblem."""
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter, strict=True)
        for _header in range(self.header_lines):
            next(reader, None)
        while True:
            line = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise FileProblem(
                    [RowError(line, "CSV", _("Cannot read the rest of the file: %(error)s") % {"error": error})]
                ) from None
            if any(value.strip() for value in values):
                yield line, values

    def count_rows(self) -> int:
        return sum(1 for _ in self.rows())


# --- Mappings -----------------------------------------------------------------------------------


def mapping_problems(mapping) -> list[str]:
    """What is wrong with a mapping's shape (not whether it fits a given file)."""
    if not isinstance(mapping, dict):
        return [_("A mapping is a JSON object.")]
    problems = []
    columns = mapping.get("columns", {})
    if not isinstance(columns, dict):
        problems.append(_('“columns” maps column names to {"question": code}.'))
        columns = {}
    for column, target in columns.items():
        if not isinstance(target, dict) or not isinstance(target.get("question"), str):
            problems.append(_('Column %(column)s: give {"question": code}.') % {"column": column})
    values = mapping.get("values", {})
    if not isinstance(values, dict) or not all(
        isinstance(table, dict) and all(isinstance(v, str) for v in table.values()) for table in values.values()
    ):
        problems.append(_('“values” maps question codes to {"value in the file": "option value"}.'))
    if mapping.get("codes", "") not in ("", "position"):
        problems.append(_('“codes” is "position" or empty.'))
    for key in ("shelter_column", "answered_at_column", "response_id_column"):
        if not isinstance(mapping.get(key, ""), str):
            problems.append(_("“%(key)s” is a column name.") % {"key": key})
    return problems


def _find(columns: list[str], names) -> str:
    by_key = {normalise(column): column for column in reversed(columns)}
    for name in names:
        if normalise(name) in by_key:
            return by_key[normalise(name)]
    return ""


def automatic_mapping(import_file: ImportFile, questions: list[Question]) -> dict:
    """Map columns named after question codes (also inside KoBo groups) or carrying a question's text.

    Numeric choice codes are never guessed: a wrong guess would silently turn いつも into まったくない.
    """
    by_code = {normalise(q.code): q for q in questions}
    by_text = {}
    for question in questions:
        by_text.setdefault(normalise(question.text), question)
        by_text.setdefault(normalise(question.text_en), question)
    option_keys = {
        q.code: {key: choice.value for choice in q.choices.all() for key in _choice_keys(choice)}
        for q in questions
        if q.kind == QuestionKind.MULTIPLE
    }

    columns: dict[str, dict] = {}
    whole: set[str] = set()  # multiple-choice questions that have a single column with every value
    split: list[tuple[str, dict]] = []
    for column, label in zip(import_file.columns, import_file.labels, strict=False):
        if not column or column.endswith("_TEXT"):
            continue
        path = [part for part in re.split(r"[/:]", column) if part]
        target = None
        if normalise(column) in by_code:
            target = {"question": by_code[normalise(column)].code}
        elif path and normalise(path[-1]) in by_code:
            target = {"question": by_code[normalise(path[-1])].code}
        elif len(path) >= 2 and normalise(path[-2]) in by_code:
            question = by_code[normalise(path[-2])]
            option = option_keys.get(question.code, {}).get(normalise(path[-1]))
            if option:
                target = {"question": question.code, "option": option}
        if target is None:
            # Qualtrics' question text row ("text - Selected Choice - label") or KoBo's label headers.
            separator = " - " if import_file.file_format == QUALTRICS else "/"
            pieces = [piece.strip() for piece in label.split(separator)]
            if normalise(label) in by_text:
                target = {"question": by_text[normalise(label)].code}
            elif pieces and normalise(pieces[0]) in by_text:
                question = by_text[normalise(pieces[0])]
                option = option_keys.get(question.code, {}).get(normalise(pieces[-1]))
                if option and len(pieces) > 1:
                    target = {"question": question.code, "option": option}
                elif len(pieces) > 1 and normalise(pieces[-1]) in ("selectedchoice",):
                    target = {"question": question.code}
        if target is None:
            continue
        if "option" in target:
            split.append((column, target))
        else:
            columns.setdefault(column, target)
            whole.add(target["question"])
    # KoBo's "both": the summary column says it all; per-option columns only when there is none.
    for column, target in split:
        if target["question"] not in whole:
            columns[column] = target

    file_format = import_file.file_format
    return {
        "columns": columns,
        "values": {},
        "codes": "",
        "shelter_column": _find(import_file.columns, SHELTER_COLUMNS),
        "answered_at_column": _find(import_file.columns, ANSWERED_AT_COLUMNS[file_format]),
        "response_id_column": _find(import_file.columns, RESPONSE_ID_COLUMNS[file_format]),
    }


def merged_mapping(automatic: dict, saved: Mapping | None) -> dict:
    """A saved mapping overrides the automatic one key by key; its columns replace the automatic columns."""
    if not saved:
        return automatic
    result = dict(automatic)
    for key, value in saved.items():
        if value not in ("", None, {}):
            result[key] = value
    return result


def _choice_keys(choice) -> set[str]:
    return {normalise(choice.value), normalise(choice.label), normalise(choice.label_en)} - {""}


# --- Rows ---------------------------------------------------------------------------------------


@dataclass
class Row:
    line: int
    response_id: str
    answered_at: datetime | None
    shelter_reference: str
    raw_answers: dict
    errors: list[RowError] = field(default_factory=list)
    ignored: bool = False


def parse_datetime(text: str, zone_name: str | None) -> datetime | None:
    """A date and time as the tools write them; naive ones are in `zone_name` (default: the site's zone)."""
    value = unicodedata.normalize("NFKC", text).strip()
    if not value:
        return None
    iso = value.replace("/", "-") if re.match(r"^\d{4}/\d{1,2}/\d{1,2}", value) else value
    # 2024-1-5 9:03 (Excel in Japan) -> 2024-01-05 09:03
    match = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(.*))?$", iso)
    if not match:
        return None
    year, month, day, hour, minute, rest = match.groups()
    iso = f"{year}-{int(month):02d}-{int(day):02d}"
    if hour is not None:
        iso += f"T{int(hour):02d}:{minute}{rest}"
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        zone: tzinfo = UTC if zone_name == "UTC" else zoneinfo.ZoneInfo(zone_name or settings.TIME_ZONE)
        moment = moment.replace(tzinfo=zone)
    return moment


class RowReader:
    """Turns the rows of one file into raw answers under one mapping, or errors naming line and field."""

    def __init__(self, import_file: ImportFile, mapping: Mapping, questions: list[Question]):
        self.file = import_file
        self.mapping = mapping
        self.questions = {q.code: q for q in questions}
        self.index = {column: position for position, column in reversed(list(enumerate(import_file.columns)))}
        self.lookups: dict[str, dict[str, str]] = {}
        for question in questions:
            table: dict[str, str] = {}
            choices = list(question.choices.all())
            if mapping.get("codes") == "position":
                table.update({str(position): choice.value for position, choice in enumerate(choices, 1)})
            for choice in choices:
                table.update(dict.fromkeys(_choice_keys(choice), choice.value))
            explicit = mapping.get("values", {}).get(question.code, {})
            table.update({normalise(key): value for key, value in explicit.items()})
            self.lookups[question.code] = table
        self.columns: dict[str, list[tuple[str, dict]]] = {}
        for column, target in mapping.get("columns", {}).items():
            self.columns.setdefault(target["question"], []).append((column, target))
        self.status_column = _find(import_file.columns, ["Status"]) if import_file.file_format == QUALTRICS else ""

    def header_errors(self) -> list[RowError]:
        """Columns the mapping names that the file lacks; an import with any stops before its first row."""
        errors = []

        def missing(key: str, what: str) -> None:
            column = self.mapping.get(key, "")
            if not column:
                errors.append(RowError(1, "header", _("No %(what)s column: name one in the mapping.") % {"what": what}))
            elif column not in self.index:
                errors.append(
                    RowError(1, "header", _("The file has no column %(column)s.") % {"column": column}, column)
                )

        missing("response_id_column", _("response id"))
        missing("answered_at_column", _("answered-at"))
        if self.mapping.get("shelter_column") and self.mapping["shelter_column"] not in self.index:
            missing("shelter_column", _("shelter"))
        for column, target in self.mapping.get("columns", {}).items():
            if column not in self.index:
                errors.append(
                    RowError(1, "header", _("The file has no column %(column)s.") % {"column": column}, column)
                )
            question = self.questions.get(target["question"])
            if question is None:
                errors.append(
                    RowError(
                        1,
                        "header",
                        _("Column %(column)s: the survey has no question %(code)s.")
                        % {"column": column, "code": target["question"]},
                        column,
                    )
                )
            elif "option" in target and target["option"] not in {c.value for c in question.choices.all()}:
                errors.append(
                    RowError(
                        1,
                        "header",
                        _("Column %(column)s: %(code)s has no option %(option)s.")
                        % {"column": column, "code": question.code, "option": target["option"]},
                        column,
                    )
                )
        if not self.mapping.get("columns"):
            errors.append(RowError(1, "header", _("No column is mapped to a question of the survey.")))
        for question in self.questions.values():
            if question.required and question.code not in self.columns:
                errors.append(
                    RowError(1, "header", _("No column for the required question %(code)s.") % {"code": question.code})
                )
        return errors

    def column_of(self, code: str) -> str:
        return ", ".join(column for column, _target in self.columns.get(code, []))

    def read(self, line: int, values: list[str]) -> Row:
        errors: list[RowError] = []

        def cell(column: str) -> str:
            position = self.index.get(column)
            if position is None or position >= len(values):
                return ""
            return values[position].strip()

        if len(values) < len(self.file.columns):
            errors.append(
                RowError(
                    line,
                    "row",
                    _("%(found)d fields where the header has %(expected)d.")
                    % {"found": len(values), "expected": len(self.file.columns)},
                )
            )
        response_column = self.mapping["response_id_column"]
        response_id = cell(response_column)
        if not response_id:
            errors.append(RowError(line, response_column, _("The response id is empty."), response_column))
        elif len(response_id) > MAX_RESPONSE_ID_LENGTH:
            errors.append(RowError(line, response_column, _("The response id is too long."), response_column))

        answered_column = self.mapping["answered_at_column"]
        answered_text = cell(answered_column)
        answered_at = parse_datetime(answered_text, self.file.zones.get(answered_column))
        if answered_at is None:
            message = (
                _("The date and time is empty.")
                if not answered_text
                else _("Not a date and time: “%(value)s” (write 2024-01-15 10:30).") % {"value": answered_text[:40]}
            )
            errors.append(RowError(line, answered_column, message, answered_column))
        elif answered_at > timezone.now() + timedelta(days=1):
            errors.append(RowError(line, answered_column, _("The date is in the future."), answered_column))

        raw: dict = {}
        for code, targets in self.columns.items():
            question = self.questions.get(code)
            if question is None:
                continue
            answer, problem = self._answer(question, targets, cell)
            if problem:
                errors.append(RowError(line, code, problem, self.column_of(code)))
            elif answer not in (None, "", []):
                raw[code] = answer

        ignored = bool(self.status_column) and normalise(cell(self.status_column)) in {
            normalise(status) for status in QUALTRICS_NOT_ANSWERS
        }
        shelter_column = self.mapping.get("shelter_column", "")
        return Row(
            line=line,
            response_id=response_id,
            answered_at=answered_at,
            shelter_reference=cell(shelter_column) if shelter_column else "",
            raw_answers=raw,
            errors=errors,
            ignored=ignored,
        )

    def _answer(self, question: Question, targets, cell) -> tuple[object, str | None]:
        lookup = self.lookups[question.code]
        if question.kind == QuestionKind.MULTIPLE:
            chosen: list[str] = []
            for column, target in targets:
                text = cell(column)
                if "option" in target:
                    # One column per option: 1/0 (KoBo, Qualtrics numeric) or the option's text (Qualtrics).
                    key = normalise(text)
                    if key in TRUE_MARKS or lookup.get(key) == target["option"]:
                        chosen.append(target["option"])
                    elif key not in FALSE_MARKS:
                        return None, _("Expected 1, 0 or blank in %(column)s, found “%(value)s”.") % {
                            "column": column,
                            "value": text[:40],
                        }
                elif text:
                    separator = "," if self.file.file_format == QUALTRICS else " "
                    chosen.extend(_split_options(text, separator, lookup))
            return chosen, None
        text = " ".join(cell(column) for column, _target in targets).strip()
        if not text:
            return None, None
        if question.kind == QuestionKind.SINGLE:
            return lookup.get(normalise(text), text), None
        if question.kind in (QuestionKind.SCALE, QuestionKind.NUMBER):
            number = unicodedata.normalize("NFKC", text).strip()
            return re.sub(r"^(-?\d+)\.0+$", r"\1", number), None
        return text, None


def _split_options(text: str, separator: str, lookup: Mapping[str, str]) -> list[str]:
    """Values of a multiple choice in one cell; labels may themselves hold the separator, so the
    longest run of pieces that names an option wins ("Drinking water Food" is two options)."""
    pieces = [piece.strip() for piece in (text.split(separator) if separator != " " else text.split())]
    pieces = [piece for piece in pieces if piece]
    result = []
    start = 0
    while start < len(pieces):
        for end in range(len(pieces), start, -1):
            key = normalise((separator if separator != " " else " ").join(pieces[start:end]))
            if key in lookup:
                result.append(lookup[key])
                start = end
                break
        else:
            result.append(pieces[start])  # unknown: submission_clean names it
            start += 1
    return result
