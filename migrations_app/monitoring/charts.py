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


# --- cohorts: the new path against the old path ---------------------------------------------------

NEW_COLOUR, OLD_COLOUR = "#6a3d9a", "#5b6675"
# Colour plus a shape plus the word in the legend and the hover: never colour alone.
VERDICT_STYLE = {
    "fail": ("#b3261e", "x", "Fail: new path worse"),
    "pass": ("#1b7f3b", "circle", "Pass: within tolerance"),
    "inconclusive": ("#8a5a00", "diamond-open", "Inconclusive: not sure yet"),
    "no_data": ("#5b6675", "circle-open", "No data on a path"),
}


def _cohort_line(name: str, points, colour: str, dash: str) -> dict:
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": name,
        "x": [at.isoformat() for at, _ in points],
        "y": [round(value, 3) for _, value in points],
        "line": {"color": colour, "width": 2, "dash": dash},
        "marker": {"size": 4},
        "xaxis": "x",
        "yaxis": "y",
    }


def _verdict_traces(verdicts: list[dict], unit: str) -> list[dict]:
    """The difference new − old at each evaluation with its interval, one trace per verdict."""
    traces = []
    for verdict, (colour, symbol, words) in VERDICT_STYLE.items():
        rows = [v for v in verdicts if v["verdict"] == verdict and v["difference"] is not None]
        if not rows:
            continue
        with_interval = [v for v in rows if v["low"] is not None]
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": words,
                "x": [v["at"].isoformat() for v in rows],
                "y": [round(v["difference"], 3) for v in rows],
                "text": [v["message"] for v in rows],
                "hovertemplate": "%{text}<extra></extra>",
                "marker": {"color": colour, "symbol": symbol, "size": 8},
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        round(v["high"] - v["difference"], 3) if v in with_interval else 0 for v in rows
                    ],
                    "arrayminus": [
                        round(v["difference"] - v["low"], 3) if v in with_interval else 0 for v in rows
                    ],
                    "color": colour,
                    "thickness": 1,
                    "width": 0,
                },
                "xaxis": "x",
                "yaxis": "y2",
            }
        )
    return traces


def cohort_chart(
    *,
    title: str,
    unit: str,
    new: list[tuple[dt.datetime, float]],
    old: list[tuple[dt.datetime, float]],
    verdicts: list[dict],
    tolerance: float | None,
    difference_unit: str,
    markers: list[dict],
) -> dict:
    """One KPI for both paths on the same axis and clock (top), and below it the difference
    new − old at each guardrail evaluation with its interval, coloured and named by its verdict,
    against the tolerance line. `verdicts`: [{"at", "verdict", "difference", "low", "high", "message"}]."""
    if len(new) < MIN_POINTS and len(old) < MIN_POINTS and not verdicts:
        return {
            "empty": f"Not enough data yet for {title}: both paths appear after two intervals of samples."
        }
    layout = _layout(title, unit, markers)
    layout["height"] = 380
    layout["xaxis"]["anchor"] = "y2"
    layout["yaxis"]["domain"] = [0.45, 1]
    layout["yaxis2"] = {
        "domain": [0, 0.32],
        "title": {"text": f"new − old ({difference_unit})"},
        "zeroline": True,
        "zerolinecolor": "#5b6675",
    }
    layout["legend"] = {"orientation": "h", "y": -0.14}
    if tolerance is not None:
        layout["shapes"].append(
            {
                "type": "line",
                "xref": "paper",
                "yref": "y2",
                "x0": 0,
                "x1": 1,
                "y0": tolerance,
                "y1": tolerance,
                "line": {"color": "#b3261e", "width": 1, "dash": "dash"},
            }
        )
        layout["annotations"].append(
            {
                "xref": "paper",
                "yref": "y2",
                "x": 0,
                "y": tolerance,
                "text": f"tolerance {tolerance:+g} {difference_unit}",
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "bottom",
                "font": {"size": 11, "color": "#b3261e"},
            }
        )
    data = [
        _cohort_line("new path", new, NEW_COLOUR, "solid"),
        _cohort_line("old path", old, OLD_COLOUR, "dot"),
        *_verdict_traces(verdicts, difference_unit),
    ]
    return {"data": data, "layout": layout}
