"""Plotly figures, built in Python; the browser only re-styles them with live figures."""

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from common.plotting import as_json, layout
from dashboard.selectors import Series

STATUS_COLOURS = {"standby": "#9aa5b1", "open": "#1e7b34", "full": "#b35c00", "closed": "#b3261e"}


def marker_size(occupancy: int) -> float:
    return 8 + min(occupancy, 1000) ** 0.5 * 1.6


def shelter_map(states: list[dict]) -> dict:
    """Shelters on longitude/latitude axes: no tile server, so it works with no internet at all.

    Plotly validates every element of every array it is given, which for the city's 3,050 shelters
    took about half of /dashboard/ (docs/performance.md, "City scale"): the figure is built by
    Plotly without the per-shelter arrays, and they are put into its JSON afterwards."""
    placed = [s for s in states if s["latitude"] is not None and s["longitude"] is not None]
    figure = go.Figure(
        go.Scatter(
            hoverinfo="text",
            mode="markers",
            marker={"line": {"width": 1, "color": "#fff"}, "opacity": 0.85},
        )
    )
    figure.update_layout(
        **layout(
            xaxis={"title": _("Longitude"), "showgrid": True, "gridcolor": "#eef1f4", "zeroline": False},
            yaxis={
                "title": _("Latitude"),
                "scaleanchor": "x",
                "scaleratio": 1.25,
                "gridcolor": "#eef1f4",
                "zeroline": False,
            },
            height=420,
            showlegend=False,
        )
    )
    data = as_json(figure)
    trace = data["data"][0]
    trace["x"] = [float(s["longitude"]) for s in placed]
    trace["y"] = [float(s["latitude"]) for s in placed]
    trace["customdata"] = [s["id"] for s in placed]
    trace["text"] = [f"{s['name']}<br>{s['status_label']} {s['occupancy']}/{s['capacity'] or '–'}" for s in placed]
    trace["marker"]["size"] = [marker_size(s["occupancy"]) for s in placed]
    trace["marker"]["color"] = [STATUS_COLOURS[s["status"]] for s in placed]
    return data


TIME_AXIS = {"tickformat": "%-m/%-d %H:%M", "hoverformat": "%Y-%m-%d %H:%M"}


def occupancy_over_time(series: Series, *, title: str = "") -> dict:
    figure = go.Figure(
        go.Scatter(
            x=series.times, y=series.occupancy, mode="lines", line={"shape": "hv", "color": "#0b5cad"}, name=_("Inside")
        )
    )
    figure.update_layout(
        **layout(title={"text": title, "x": 0}, height=300, xaxis=TIME_AXIS, yaxis={"rangemode": "tozero"})
    )
    return as_json(figure)


def arrivals_and_departures(series: Series) -> dict:
    figure = go.Figure(
        [
            go.Bar(x=series.times, y=series.arrivals, name=_("Arrivals"), marker_color="#1e7b34"),
            go.Bar(x=series.times, y=[-d for d in series.departures], name=_("Departures"), marker_color="#b3261e"),
        ]
    )
    figure.update_layout(
        **layout(barmode="relative", height=300, xaxis=TIME_AXIS, legend={"orientation": "h", "y": -0.25})
    )
    return as_json(figure)
