"""The survey reports for officials (/reports/): the page, its print version and CSV exports.

Thin: parse the filters, ask `access.policy` who sees what, call `surveys.reports.build.report_build`.
"""

from html import escape  # Django's escape is this behind a lazy wrapper that costs more, 50,000 cells a page

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from access import policy
from common import limits
from common.permissions import role_required
from common.spreadsheets import csv_response
from shelters.models import Shelter
from surveys import builtin
from surveys.reports import figures as report_figures
from surveys.reports.build import Report, ReportFilter, default_filter, report_build
from surveys.reports.release import officials_dates

MAX_DAYS = 366


class ReportFilterForm(forms.Form):
    # Bounded: a year-1 end date overflowed the date arithmetic below (a 500).
    start = forms.DateField(
        label=pgettext_lazy("first day of a report", "From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=limits.date_validators(),
    )
    end = forms.DateField(
        label=pgettext_lazy("last day of a report", "To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=limits.date_validators(),
    )

    def clean(self):
        data = super().clean()
        fallback = default_filter()
        end = data.get("end") or fallback.end
        start = data.get("start") or end - (fallback.end - fallback.start)
        if start > end:
            self.add_error("start", _("The start date must be on or before the end date."))
        elif (end - start).days >= MAX_DAYS:
            self.add_error("start", _("Choose at most %(days)s days.") % {"days": MAX_DAYS})
        data["start"], data["end"] = start, end
        return data


def _filters(request) -> tuple[ReportFilterForm, ReportFilter | None]:
    """The filters asked for, or (form with errors, None). A shelter out of the user's scope is a 403."""
    form = ReportFilterForm(request.GET or None)
    raw_ids = request.GET.getlist("shelter")
    if any(not limits.is_id(value) for value in raw_ids):
        form.is_valid()
        form.add_error(None, _("Unknown shelter."))
        return form, None
    shelter_ids = tuple(sorted({int(value) for value in raw_ids}))
    scope = policy.report_shelter_scope(request.user)
    if scope is not None and not set(shelter_ids) <= scope:
        raise PermissionDenied
    if request.GET and not form.is_valid():
        return form, None
    if request.GET:
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    else:
        fallback = default_filter()
        start, end = fallback.start, fallback.end
        form = ReportFilterForm(initial={"start": start, "end": end})
    if policy.reports_suppressed_for(request.user):
        # Officials choose among whole weeks that have ended (surveys/reports/release.py): the form
        # shows the weeks the report covers.
        start, end = officials_dates(start, end, today=timezone.localdate())
        if start > end:
            form.add_error("end", _("Reports for officials cover whole weeks that have ended: choose an earlier week."))
            return form, None
        form = ReportFilterForm(initial={"start": start, "end": end})
    return form, ReportFilter(start=start, end=end, shelter_ids=shelter_ids)


def _report(request, filters: ReportFilter) -> Report:
    return report_build(
        filters=filters,
        visible_shelter_ids=policy.report_shelter_scope(request.user),
        suppressed=policy.reports_suppressed_for(request.user),
    )


def _english() -> bool:
    return (translation.get_language() or "ja").startswith("en")


def issue_labels() -> dict[str, str]:
    index = 2 if _english() else 1
    return {entry[0]: entry[index] for entry in builtin.LIVING_ISSUES}


def needs_labels() -> dict[str, str]:
    index = 2 if _english() else 1
    return {entry[0]: entry[index] for entry in builtin.NEEDS}


def _shown(value) -> str:
    return "–" if value is None else str(value)


def _rows_html(rows) -> SafeString:
    """Table rows as HTML, joined in Python: 3,000 shelters through the template engine cost ~0.3 s."""
    return mark_safe(  # every value is escaped
        "".join(
            "<tr><td>"
            + escape(name)
            + "</td>"
            + "".join(f'<td class="num">{escape(_shown(v))}</td>' for v in values)
            + "</tr>"
            for name, values in rows
        )
    )


def _options_html(choices, selected: set[int]) -> SafeString:
    return mark_safe(  # every value is escaped
        "".join(
            f'<option value="{pk}"{" selected" if pk in selected else ""}>{escape(name)}</option>'
            for pk, name in choices
        )
    )


def _context(request, form, report: Report | None) -> dict:
    scope = policy.report_shelter_scope(request.user)
    shelters = Shelter.objects.order_by("name")
    if scope is not None:
        shelters = shelters.filter(pk__in=scope)
    selected = set(report.filters.shelter_ids) if report else set()
    context = {
        "form": form,
        "report": report,
        "shelter_options": _options_html(shelters.values_list("pk", "name"), selected),
        "query": request.GET.urlencode(),
        "issue_labels": issue_labels(),
        "needs_labels": needs_labels(),
        "by_weeks": policy.reports_suppressed_for(request.user),
    }
    if report is not None:
        context["issue_names"] = [context["issue_labels"].get(code, code) for code in report.issue_codes]
        context["shelter_rows"] = _rows_html((name, cell.as_list()) for _pk, name, cell in report.shelters)
        context["heatmap_rows"] = _rows_html((name, values) for _pk, name, values in report.heatmap)
        context["needs_rows"] = [
            (context["needs_labels"].get(code, code), count, quantity) for code, count, quantity in report.needs
        ]
    return context


def _render_report(request, *, template: str, heatmap: bool):
    if not policy.can_view_reports(request.user):
        raise PermissionDenied
    form, filters = _filters(request)
    if filters is None:
        return render(request, "surveys/report.html", _context(request, form, None), status=400)
    report = _report(request, filters)
    context = _context(request, form, report)
    context["stress_figure"] = report_figures.stress_over_time(report)
    context["needs_figure"] = report_figures.needs_ranking(report, context["needs_labels"])
    if heatmap:
        context["heatmap_figure"] = report_figures.living_issues_heatmap(report, context["issue_labels"])
    return render(request, template, context)


@role_required
def report_page(request):
    return _render_report(request, template="surveys/report.html", heatmap=True)


@role_required
def report_print(request):
    """The same report on A4, without navigation or charts' controls, for printing and filing."""
    return _render_report(request, template="surveys/report_print.html", heatmap=False)


# --- CSV ----------------------------------------------------------------------------------------


def _stress_header() -> list[str]:
    return [
        _("Responses"),
        _("Responses with a K6 score"),
        _("K6 13 or more (%)"),
        _("K6 10 or more (%)"),
        _("Mean K6"),
    ]


def _cell(value):
    """A number stays a number (spreadsheet_safe leaves numbers alone); nothing is an empty cell."""
    return "" if value is None else value


def _table(report: Report, table: str) -> tuple[list[str], list[list]]:
    if table == "daily":
        return [_("Day"), *_stress_header()], [[day.isoformat(), *cell.as_list()] for day, cell in report.daily]
    if table == "shelters":
        rows = [[pk, name, *cell.as_list()] for pk, name, cell in report.shelters]
        rows.append(["", _("City-wide"), *report.total.as_list()])
        return [_("Shelter ID"), _("Shelter"), *_stress_header()], rows
    if table == "shelter-days":
        rows = [[pk, name, day.isoformat(), *cell.as_list()] for pk, name, day, cell in report.shelter_days]
        # Officials' reports give each shelter's weeks, not its days (surveys/reports/release.py).
        period = _("Week from") if report.suppressed else _("Day")
        return [_("Shelter ID"), _("Shelter"), period, *_stress_header()], rows
    if table == "living-issues":
        labels = issue_labels()
        header = [_("Shelter ID"), _("Shelter"), *[labels.get(code, code) for code in report.issue_codes]]
        rows = [[pk, name, *values] for pk, name, values in report.heatmap]
        rows.append(["", _("City-wide"), *report.heatmap_city])
        return header, rows
    if table == "needs":
        labels = needs_labels()
        rows = [[code, labels.get(code, code), count, quantity] for code, count, quantity in report.needs]
        return [_("Item code"), _("Item"), _("Respondents asking"), _("Total quantity")], rows
    raise Http404


TABLES = ("daily", "shelters", "shelter-days", "living-issues", "needs")


@role_required
def report_csv(request, table: str):
    if not policy.can_view_reports(request.user):
        raise PermissionDenied
    if table not in TABLES:
        raise Http404
    form, filters = _filters(request)
    if filters is None:
        messages = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponse(messages, status=400, content_type="text/plain; charset=utf-8")
    report = _report(request, filters)
    header, rows = _table(report, table)
    filename = f"survey-{table}-{report.filters.start:%Y%m%d}-{report.filters.end:%Y%m%d}.csv"
    return csv_response(filename, header, [[_cell(value) for value in row] for row in rows])
