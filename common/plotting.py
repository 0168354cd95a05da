"""What every Plotly figure of the site shares: one layout and one way to hand a figure to a page."""

import json

import plotly.graph_objects as go

FONT = "system-ui, 'Hiragino Sans', 'Noto Sans CJK JP', sans-serif"


def layout(**extra) -> dict:
    return {
        "margin": {"l": 50, "r": 10, "t": 30, "b": 40},
        "font": {"family": FONT, "size": 13},
        "paper_bgcolor": "#fff",
        "plot_bgcolor": "#fff",
        "hovermode": "closest",
        **extra,
    }


def as_json(figure: go.Figure) -> dict:
    return json.loads(figure.to_json())
