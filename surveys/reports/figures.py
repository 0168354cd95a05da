"""Plotly figures of the survey report, built from the report's (already suppressed) figures."""

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from common import plotting
from common.plotting import as_json
from surveys.reports.build import Report, shelter_lines


def _number(value):
    """A chart point: numbers as they are; "<5", "x" and no data as a gap."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _label(value) -> str:
    return "–" if value is None else str(value)


def stress_over_time(report: Report) -> dict:
    days = [day.isoformat() for day in report.days]
    traces = []
    for name, attribute, colour in (
        (_("City: K6 13 or more (%)"), "share_13", "#b3261e"),
        (_("City: K6 10 or more (%)"), "share_10", "#b35c00"),
    ):
        values = [getattr(cell, attribute) for _day, cell in report.daily]
        traces.append(
            go.Scatter(
                x=days,
                y=[_number(value) for value in values],
                text=[_label(value) for value in values],
                hovertemplate="%{x}: %{text}<extra>" + name + "</extra>",
                mode="lines+markers",
                name=name,
                line={"color": colour, "width": 3},
            )
        )
    for _pk, shelter_name, values in shelter_lines(report):
        traces.append(
            go.Scatter(
                x=days,
                y=[_number(value) for value in values],
                text=[_label(value) for value in values],
                hovertemplate="%{x}: %{text}<extra>" + shelter_name + "</extra>",
                mode="lines+markers",
                name=f"{shelter_name}: {_('K6 13 or more (%)')}",
                line={"dash": "dot"},
            )
        )
    figure = go.Figure(traces)
    figure.update_layout(
        **plotting.layout(
            height=340,
            xaxis={"type": "date", "tickformat": "%-m/%-d"},
            yaxis={"title": "%", "rangemode": "tozero"},
            legend={"orientation": "h", "y": -0.2},
        )
    )
    return as_json(figure)


def needs_ranking(report: Report, labels: dict[str, str]) -> dict:
    shown = [(code, count, quantity) for code, count, quantity in report.needs if _number(count) is not None]
    shown.reverse()  # the largest at the top of a horizontal bar chart
    figure = go.Figure(
        go.Bar(
            x=[count for _code, count, _quantity in shown],
            y=[labels.get(code, code) for code, _count, _quantity in shown],
            orientation="h",
            marker_color="#0b5cad",
            name=_("Respondents asking"),
        )
    )
    figure.update_layout(
        **plotting.layout(height=max(200, 28 * len(shown) + 80), margin={"l": 160, "r": 10, "t": 10, "b": 40})
    )
    return as_json(figure)


def living_issues_heatmap(report: Report, labels: dict[str, str]) -> dict:
    """A plain dict, not a go.Figure: plotly validates every one of 3,000 × 11 cells (~0.3 s a page)."""
    rows = [("city", _("City-wide"), report.heatmap_city), *report.heatmap]
    rows.reverse()  # the city row on top
    trace = {
        "type": "heatmap",
        "z": [[_number(value) for value in values] for _pk, _name, values in rows],
        "text": [[_label(value) for value in values] for _pk, _name, values in rows],
        "x": [labels.get(code, code) for code in report.issue_codes],
        "y": [name for _pk, name, _values in rows],
        "zmin": 0,
        "zmax": 4,
        "colorscale": "YlOrRd",
        "hovertemplate": "%{y} · %{x}: %{text}<extra></extra>",
        "colorbar": {"title": {"text": "0–4"}},
    }
    layout = plotting.layout(
        height=min(3000, max(260, 22 * len(rows) + 120)),
        margin={"l": 200, "r": 10, "t": 10, "b": 80},
        yaxis={"type": "category", "automargin": True},
    )
    return {"data": [trace], "layout": layout}
