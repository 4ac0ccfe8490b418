"""The chart renderer and the specs it draws from: gaps stay gaps, breaks are marked, the
SVG is accessible and deterministic. Pure: no database."""

from __future__ import annotations

import datetime as dt
import re

from kpis import periods, rating
from kpis.models import Flag
from reports import charts
from reports.series import TargetSpan, chart_spec, segments, sparkline_values
from tests.reports.helpers import monthly, point, series

APRIL = periods.month(2018, 4)


def with_target(s, target="95", low="85"):
    spec = rating.TargetSpec(target=rating.Decimal(target), tolerance_low=rating.Decimal(low))
    span = TargetSpan(
        dt.date(2017, 4, 1), None, spec, rating.resolve_bounds(s.definition, spec),
        rating.target_words(s.definition, spec), "",
    )
    return s.__class__(**{**s.__dict__, "targets": (span,)})


def test_missing_months_split_the_line():
    s = series(monthly("2017-11", ["90", "91", None, None, "93", "94"]))
    runs = segments(s)
    assert [[p.period.label for p in run] for run in runs] == [
        ["2017-11", "2017-12"], ["2018-03", "2018-04"]
    ]
    spec = chart_spec(s, APRIL, chart_id="chart-kpi-1")
    assert [len(seg) for seg in spec["segments"]] == [2, 2]


def test_a_data_gap_and_a_series_break_split_the_line_and_are_drawn():
    s = series(
        monthly("2018-01", ["90", "91", "92", "93"]),
        breaks=(("2018-03", "New method"),),
        gaps=((dt.date(2018, 2, 10), dt.date(2018, 2, 20), "System down"),),
    )
    spec = chart_spec(s, APRIL, chart_id="c")
    assert [len(seg) for seg in spec["segments"]] == [2, 2]
    assert spec["breaks"] == [{"x": "2018-03-01", "label": "Series break from 2018-03"}]
    assert spec["gaps"] == [{"from": "2018-02-10", "to": "2018-02-20"}]
    assert "Series break from 2018-03." in spec["desc"]
    assert "No data from 10 February 2018 to 20 February 2018." in spec["desc"]


def test_the_target_and_tolerance_band_are_in_the_spec():
    s = with_target(series(monthly("2018-03", ["96", "92.1"])))
    spec = chart_spec(s, APRIL, chart_id="c")
    assert spec["targets"] == [
        {"from": "2017-05-01", "to": "2018-04-30", "band_low": 85.0, "band_high": 95.0, "target_lines": [95.0]}
    ]
    assert "Target: 95%, tolerance from 85%." in spec["desc"]
    assert spec["latest"]["shown"] == "92.1%"


def test_a_lagged_latest_figure_is_labelled_as_at():
    s = series([point("2017-08", "402", as_at=dt.date(2017, 8, 31), flags=[Flag.LAG])])
    spec = chart_spec(s, APRIL, chart_id="c")
    assert spec["latest"]["as_at"] == "as at 31 August 2017"


def test_the_svg_is_accessible_and_its_ids_are_its_own():
    s = with_target(series(monthly("2018-01", ["96", "94", "92.1"])))
    svg = charts.history_svg(chart_spec(s, APRIL, chart_id="chart-kpi-1"))
    assert svg.startswith('<svg role="img" aria-labelledby="chart-kpi-1-title chart-kpi-1-desc"')
    assert '<title id="chart-kpi-1-title">KPI 1: Referrals decided within 24 hours</title>' in svg
    assert '<desc id="chart-kpi-1-desc">Line chart of 3 figures from January 2018 to March 2018.' in svg
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert ids and all(i.startswith("chart-kpi-1-") for i in ids)
    for ref in re.findall(r"url\(#([^)]+)\)|href=\"#([^\"]+)\"", svg):
        assert (ref[0] or ref[1]) in ids


def test_the_svg_is_deterministic():
    s = with_target(series(monthly("2018-01", ["96", "94", "92.1"])))
    spec = chart_spec(s, APRIL, chart_id="c")
    first = charts.history_svg(spec)
    charts._svg_cached.cache_clear()
    assert charts.history_svg(spec) == first


def test_the_same_chart_as_png():
    s = series(monthly("2018-03", ["96", "92.1"]))
    assert charts.history_png(chart_spec(s, APRIL, chart_id="c")).startswith(b"\x89PNG")


def test_the_sparkline_keeps_gaps_and_has_a_title():
    s = series(monthly("2018-01", ["90", None, "92", "93"]))
    assert sparkline_values(s) == [[90.0], [92.0, 93.0]]
    svg = charts.sparkline_svg("spark-kpi-1", sparkline_values(s), title="Trend of KPI 1", target=95.0)
    assert 'role="img" aria-labelledby="spark-kpi-1-title"' in svg
    assert '<title id="spark-kpi-1-title">Trend of KPI 1</title>' in svg
    assert svg.count("<polyline") == 1  # January alone is a dot, not joined to March
    assert 'stroke-dasharray="3 2"' in svg  # the target


def test_no_figures_no_sparkline():
    assert charts.sparkline_svg("s", [], title="Nothing") == ""


# --- statistical process control on the chart ------------------------------------------

# Twenty steady figures, then a fall: the last seven lie below the mean (a shift), fall
# each month (a trend) and end below the lower limit (mean 90.5, limits 84.5 to 96.5).
STEADY = ["90", "92", "89", "91", "90", "93", "88", "91", "90", "92",
          "89", "91", "90", "92", "89", "91", "90", "92", "89", "91"]
FALL = ["86", "85", "84", "83", "82", "81", "80"]


def test_the_xmr_chart_draws_the_mean_the_limits_and_marks_signals_by_shape():
    s = with_target(series(monthly("2016-02", STEADY + FALL)), target="83", low="78")
    spec = chart_spec(s, APRIL, chart_id="c")
    (line,) = spec["spc"]["lines"]
    assert (line["role"], line["provisional"], line["mean"]) == ("own", False, 90.5)
    assert {p["variation"] for p in spec["spc"]["signals"]} == {"special_cause_concerning"}
    # 91 starts the fall: eight figures each lower than the one before are a trend too.
    assert [p["y"] for p in spec["spc"]["signals"]] == [91.0, 86.0, 85.0, 84.0, 83.0, 82.0, 81.0, 80.0]
    svg = charts.history_svg(spec)
    for legend in ("Mean", "Process limits", "Special cause: concerning"):
        assert f">{legend}<" in svg
    assert "Variation: Special cause concerning." in spec["desc"]
    # Shape, not only colour: each reading has its own marker, none a comparator's.
    shapes = [marker for marker, _, _ in charts.SIGNAL_MARKS.values()]
    assert len(set(shapes)) == 3
    assert not set(shapes) & ({"o"} | set(charts.COMPARATOR_MARKERS))


def test_provisional_limits_are_dashed_and_say_so():
    s = series(monthly("2017-02", STEADY[:15]))
    spec = chart_spec(s, APRIL, chart_id="c")
    assert spec["spc"]["lines"][0]["provisional"] is True
    assert ">Process limits (provisional)<" in charts.history_svg(spec)
    assert "(provisional, from 15 figures)" in spec["desc"]


def test_a_rebase_is_labelled_and_the_limits_it_replaced_stay_visible():
    from reports.series import Break

    s = series(monthly("2016-01", STEADY + ["84", "86", "83", "85", "84", "86", "83", "85", "84", "86", "83", "85"]))
    s = s.__class__(**{**s.__dict__, "rebases": (Break(dt.date(2017, 9, 1), "2017-09", "New triage model"),)})
    spec = chart_spec(s, periods.month(2018, 8), chart_id="c")
    assert [line["role"] for line in spec["spc"]["lines"]] == ["own", "own", "replaced"]
    assert spec["spc"]["rebases"] == [{"x": "2017-09-01", "label": "Rebase: New triage model"}]
    svg = charts.history_svg(spec)
    assert ">Rebase: New triage model<" in svg and ">Limits before the rebase<" in svg
    assert "Rebase from 2017-09: New triage model." in spec["desc"]


def test_a_cumulative_measure_has_no_xmr_chart():
    s = series(monthly("2017-04", [str(10 * i) for i in range(1, 13)]), unit="count", cumulative=True, decimals=0)
    assert chart_spec(s, periods.month(2018, 3), chart_id="c")["spc"] is None
