"""Plotly figures for the control room, built in one place.

Each function takes data (never a request) and returns a figure as a plain dict that the page
hands to Plotly.react, or {"empty": "<why>"} when there is not enough data to draw."""

from __future__ import annotations

import datetime as dt

COLOURS = ["#1f5fae", "#b3261e", "#1b7f3b", "#8a5a00", "#6a3d9a", "#0f7c8c"]
MIN_POINTS = 2


def _layout(title: str, y_title: str, markers: list[dict], *, y_range=None) -> dict:
    shapes, annotations = [], []
    for marker in markers:
        colour = "#b3261e" if marker["kind"] == "rollback" else "#5b6675"
        at = marker["at"].isoformat()
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": at,
                "x1": at,
                "y0": 0,
                "y1": 1,
                "line": {"color": colour, "width": 2 if marker["kind"] == "rollback" else 1, "dash": "dot"},
            }
        )
        annotations.append(
            {
                "x": at,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "text": marker["label"],
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "top",
                "font": {"size": 11, "color": colour},
                "bgcolor": "#ffffffcc",
            }
        )
    layout = {
        "title": {"text": title, "font": {"size": 14}},
        "margin": {"l": 50, "r": 12, "t": 36, "b": 36},
        "height": 260,
        "xaxis": {"type": "date"},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": -0.2},
        "shapes": shapes,
        "annotations": annotations,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#fafbfc",
    }
    if y_range:
        layout["yaxis"]["range"] = y_range
    return layout


def _traces(series: dict[str, list[tuple[dt.datetime, float]]]) -> list[dict]:
    traces = []
    for index, (name, points) in enumerate(series.items()):
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": [at.isoformat() for at, _ in points],
                "y": [round(value, 3) for _, value in points],
                "line": {"color": COLOURS[index % len(COLOURS)], "width": 2},
                "marker": {"size": 4},
            }
        )
    return traces


def _enough(series: dict) -> bool:
    return any(len(points) >= MIN_POINTS for points in series.values())


def latency_chart(series: dict[str, list[tuple[dt.datetime, float]]], markers: list[dict]) -> dict:
    """Response time per probe over time, traffic steps and rollbacks marked."""
    if not _enough(series):
        return {"empty": "Not enough data yet: response times appear after two probe runs."}
    return {"data": _traces(series), "layout": _layout("Response time (p95 per interval)", "ms", markers)}


def success_chart(series: dict[str, list[tuple[dt.datetime, float]]], markers: list[dict]) -> dict:
    """Success rate per probe or pushed counter over time, traffic steps and rollbacks marked."""
    if not _enough(series):
        return {"empty": "Not enough data yet: success rates appear after two probe runs or pushes."}
    lowest = min((value for points in series.values() for _, value in points), default=0)
    return {
        "data": _traces(series),
        "layout": _layout("Success rate", "%", markers, y_range=[max(0, min(lowest, 99) - 1), 100.5]),
    }


def sparkline(values: list[float], *, width: int = 120, height: int = 28) -> str:
    """SVG polyline points for a KPI tile's small trend ("" when fewer than two values)."""
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = width / (len(values) - 1)
    return " ".join(
        f"{index * step:.1f},{height - 2 - (value - low) / span * (height - 4):.1f}"
        for index, value in enumerate(values)
    )
