"""No module outside `access` queries personal data by hand: an import-linter-like check on the AST.

Personal data is people, households, stays, check-ins, support needs, follow-up cases, survey
answers and tokens, supply requests (they may name a person) and the record of reads. Outside the
access layer nobody writes `Evacuee.objects…`, `FollowUp.objects…` or follows a relation into them
(`evacuee.stays…`, `household.members…`); `X.objects.none()` (reads nothing, for the API schema) is
fine. Templates read only what an access function returned.
"""

import ast
from pathlib import Path

from django.conf import settings

PERSONAL_MODELS = {
    "Evacuee",
    "Household",
    "Stay",
    "CheckIn",
    "SupportNeed",
    "FollowUp",
    "FollowUpChange",
    "SurveyToken",
    "Response",
    "Request",
    "PersonalDataAccess",
    "CorrectionRequest",
}
PERSONAL_RELATIONS = {
    "stays",
    "members",
    "support_needs",
    "follow_ups",
    "survey_tokens",
    "survey_responses",
    "supply_requests",
    "accesses",
    "changes",
    "correction_requests",
}
# A relation counts when a query is built on it. `.all()` is left out on purpose: it is how code reads
# what an access function prefetched (`follow_up.changes.all()`), which costs no query.
QUERY_METHODS = {
    "filter",
    "exclude",
    "get",
    "order_by",
    "select_related",
    "prefetch_related",
    "values",
    "values_list",
    "count",
    "exists",
    "first",
    "last",
    "create",
    "update",
    "delete",
    "annotate",
    "aggregate",
    "select_for_update",
    "in_bulk",
    "iterator",
}
APPS = [
    "access",
    "common",
    "config",
    "dashboard",
    "notifications",
    "realtime",
    "residents",
    "shelters",
    "supply",
    "surveys",
]

# Who else may touch these tables, and why. Keep it short.
ALLOWED = {
    "access/": "the access layer itself",
    "/migrations/": "schema and data migrations",
    "services.py": "services write (HackSoft): a write is not a read for someone",
    "shelters/services/": "services write",
    "sources.py": "removes the rows of a source (sample data, a replay): common/sources.py's removers (writers)",
    "shelters/demo.py": "writes and removes the sample data",
    "shelters/replay.py": "writes and removes the Nanao replay",
    "shelters/importers.py": "imports the shelter registry (a writer)",
    "surveys/demo.py": "writes and removes the sample answers",
    "surveys/reports/build.py": "rebuilds the anonymous day totals from the answers (a writer)",
    "shelters/management/": "commands that load, replay or remove data (writers)",
    "surveys/management/": "commands that load or rebuild data (writers)",
    "admin.py": "the Django admin, for superusers; routed through services by its own change",
}


def _allowed(relative: str) -> bool:
    return any(marker in relative for marker in ALLOWED)


def _reaches_personal_data(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        if node.attr == "objects" and isinstance(node.value, ast.Name) and node.value.id in PERSONAL_MODELS:
            found.append((node.lineno, node.col_offset, f"{node.value.id}.objects"))
        elif (
            node.attr in QUERY_METHODS
            and isinstance(node.value, ast.Attribute)
            and node.value.attr in PERSONAL_RELATIONS
        ):
            found.append((node.value.lineno, node.value.col_offset, f".{node.value.attr}"))
    return [(line, what) for line, _column, what in sorted(found)]


def _schema_only(source_lines: list[str], line: int) -> bool:
    return ".objects.none()" in source_lines[line - 1]


def test_no_module_outside_access_queries_personal_data_by_hand():
    base = Path(settings.BASE_DIR)
    offences = []
    for app in APPS:
        for path in sorted((base / app).rglob("*.py")):
            relative = path.relative_to(base).as_posix()
            if _allowed(relative):
                continue
            source = path.read_text()
            lines = source.splitlines()
            for line, what in _reaches_personal_data(ast.parse(source)):
                if not _schema_only(lines, line):
                    offences.append(f"{relative}:{line} {what}")

    assert offences == []


def test_the_check_catches_a_view_that_reads_stays_itself():
    source = "def view(request, evacuee):\n    return evacuee.stays.filter(shelter=1), Evacuee.objects.filter(pk=1)\n"

    assert [what for _line, what in _reaches_personal_data(ast.parse(source))] == [".stays", "Evacuee.objects"]
