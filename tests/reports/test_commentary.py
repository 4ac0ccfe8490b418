"""Drafted commentary: every statement it makes is checked against the figures it is
drafted from. Pure: no database."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from kpis import periods
from reports import commentary
from reports.commentary import draft, ordinal, paragraph
from tests.reports.helpers import monthly, point, series

APRIL = periods.month(2018, 4)


def kinds(statements) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s in statements:
        out.setdefault(s.kind, []).append(s.text)
    return out


def test_the_latest_figure_is_stated_with_its_counts():
    s = series([point("2018-04", "84.6", numerator=Decimal(242), denominator=Decimal(286))])
    assert kinds(draft(s, APRIL))["latest"] == ["In April 2018 the figure was 84.6% (242 out of 286)."]


def test_change_on_the_previous_figure_in_percentage_points():
    s = series(monthly("2018-03", ["95.3", "92.1"]))
    said = kinds(draft(s, APRIL))
    assert said["previous"] == [
        "This is down 3.2 percentage points on the previous figure, 95.3% in March 2018."
    ]
    assert Decimal("95.3") - Decimal("92.1") == Decimal("3.2")


def test_an_unchanged_figure_is_unchanged_at_the_displayed_decimals():
    s = series(monthly("2018-03", ["92.14", "92.06"]))
    assert kinds(draft(s, APRIL))["previous"] == [
        "This is unchanged from the previous figure, 92.1% in March 2018."
    ]


def test_a_rate_changes_by_a_plain_number():
    s = series(
        [point("2017-12", "103.8", unit="rate"), point("2018-04", "91.2", unit="rate")], unit="rate"
    )
    assert kinds(draft(s, APRIL))["previous"] == [
        "This is down 12.6 on the previous figure, 103.8 per 10,000 in December 2017."
    ]


def test_change_on_the_same_period_a_year_earlier():
    points = monthly("2017-04", ["88.0"] + [None] * 11 + ["92.1"])
    said = kinds(draft(series(points), APRIL))
    assert said["year"] == ["Compared with April 2017 (88.0%), it is up 4.1 percentage points."]


def test_a_run_counts_neighbouring_months_moving_the_same_way():
    s = series(monthly("2017-12", ["103.8", "101.0", "95.0", "93.0", "91.2"], unit="rate"), unit="rate")
    said = kinds(draft(s, APRIL))
    assert said["run"] == ["It has decreased for the fourth month in a row."]
    values = [p.value for p in s.points]
    assert all(later < earlier for earlier, later in zip(values, values[1:], strict=False))


def test_two_in_a_row_is_the_second_month():
    s = series(monthly("2018-02", ["90", "91", "92"]))
    assert kinds(draft(s, APRIL))["run"] == ["It has increased for the second month in a row."]


def test_a_single_move_is_not_a_run():
    s = series(monthly("2018-02", ["93", "91", "92"]))
    assert "run" not in kinds(draft(s, APRIL))


def test_a_gap_ends_a_run():
    # February missing: March and April are neighbours, January is not March's.
    s = series(monthly("2017-12", ["99", "98", None, "96", "95"]))
    steps, sign = commentary.run_length(s, list(s.points))
    assert (steps, sign) == (1, -1)
    assert "run" not in kinds(draft(s, APRIL))


def test_a_record_reaches_back_to_the_last_figure_at_least_as_high():
    values = ["120", "100", "101", "99", "105", "110"]
    s = series(monthly("2017-11", values))
    said = kinds(draft(s, APRIL))
    assert said["record"] == ["This is the highest since November 2017 (120.0%)."]
    # Checkable: November was higher, everything after it lower than April's 110.
    assert Decimal(values[0]) >= Decimal("110")
    assert all(Decimal(v) < Decimal("110") for v in values[1:-1])


def test_a_record_over_all_the_figures_says_where_they_begin():
    s = series(monthly("2018-01", ["100", "101", "99", "105"]))
    assert kinds(draft(s, APRIL))["record"] == [
        "This is the highest of the 4 figures available, which begin in January 2018."
    ]


def test_the_lowest_since():
    s = series(monthly("2017-11", ["80", "95", "92", "94", "90", "85"]))
    assert kinds(draft(s, APRIL))["record"] == ["This is the lowest since November 2017 (80.0%)."]


def test_no_record_when_the_previous_figure_was_already_higher():
    s = series(monthly("2018-01", ["100", "101", "110", "105"]))
    assert "record" not in kinds(draft(s, APRIL))


def test_down_from_a_peak_within_the_year():
    s = series(monthly("2017-12", ["103.8", "101.0", "95.0", "93.0", "91.2"], unit="rate"), unit="rate")
    assert kinds(draft(s, APRIL))["peak"] == [
        "It is down from a peak of 103.8 per 10,000 in December 2017."
    ]


def test_up_from_a_low():
    s = series(monthly("2018-01", ["80", "85", "88", "90"]))
    assert kinds(draft(s, APRIL))["peak"] == ["It is up from a low of 80.0% in January 2018."]


def test_position_against_comparators():
    s = series(
        [point("2018-04", "112.1", unit="rate")],
        unit="rate",
        polarity=None,
        comparators=(
            ("Statistical neighbours", "2016/17", "94.3", True),
            ("England", "2016/17", "62", True),
            ("Region", "2016/17", "112.1", True),
            ("Elsewhere", "2016/17", "130", False),
        ),
    )
    said = kinds(draft(s, APRIL))
    text = said["comparators"][0]
    assert text.startswith("It is above ")
    assert "England (62.0 per 10,000, 2016/17)" in text
    assert "Statistical neighbours (94.3 per 10,000, 2016/17)" in text
    assert "below Elsewhere (130.0 per 10,000, 2016/17)" in text
    assert "the same as Region (112.1 per 10,000, 2016/17)" in text
    assert "The figure for Elsewhere is not directly comparable with this measure." in said["caveat"]


def test_a_comparator_published_after_the_month_is_not_used():
    s = series([point("2018-04", "50")], comparators=(("England", "2018/19", "40", True),))
    assert "comparators" not in kinds(draft(s, APRIL))


def test_figures_across_a_series_break_are_not_compared():
    s = series(
        monthly("2017-11", ["40", "45", "46"]),
        breaks=(("2018-01", "The cohort changed from annual to three months"),),
        period_kind="month",
    )
    said = kinds(draft(s, periods.month(2018, 1)))
    assert "previous" not in said  # December is before the break
    assert said["caveat"] == [
        "There is a series break from 2018-01, so figures before it are not compared with later "
        "ones: The cohort changed from annual to three months."
    ]


def test_a_lagged_figure_says_so():
    s = series([point("2017-08", "402", unit="rate", as_at=dt.date(2017, 8, 31))], unit="rate")
    said = kinds(draft(s, APRIL))
    assert said["latest"] == [
        "The latest figure, for August 2017, as at 31 August 2017, is 402.0 per 10,000."
    ]
    assert "The data arrive with a lag: there is no later figure than August 2017." in said["caveat"]


def test_a_gap_in_the_data_is_stated():
    s = series(
        [point("2018-04", "89.2")],
        gaps=((dt.date(2018, 1, 19), dt.date(2018, 4, 29), "The case system was replaced"),),
    )
    assert kinds(draft(s, APRIL))["caveat"] == [
        "No figures are available from 19 January 2018 to 29 April 2018: The case system was replaced."
    ]


def test_a_second_source_that_disagrees_is_stated():
    s = series([point("2018-04", "44.3", second_value=Decimal("92"), second_source="manual records")])
    assert kinds(draft(s, APRIL))["caveat"] == ["A second source, manual records, gives 92.0%, which disagrees."]


def test_draft_provisional_and_illustrative_figures_are_stated():
    s = series([point("2018-04", "50", official=False, flags=["provisional", "illustrative"])])
    caveats = kinds(draft(s, APRIL))["caveat"]
    assert "The figure is a draft: its return is not yet signed off." in caveats
    assert "The figure is provisional." in caveats
    assert "The figure is illustrative, not a real figure." in caveats


def test_a_cumulative_figure_is_projected_and_only_compared_with_a_year_earlier():
    points = [
        point("2017-03", "290", decimals=0, unit="count"),
        point("2017-04", "30", decimals=0, unit="count"),
        point("2018-03", "310", decimals=0, unit="count"),
        point("2018-04", "36", decimals=0, unit="count", projected=Decimal(432)),
    ]
    s = series(points, unit="count", decimals=0, cumulative=True)
    said = kinds(draft(s, APRIL))
    assert said["latest"] == ["In April 2018 the figure was 36 to date, which projects to 432 by the year end."]
    assert "previous" not in said and "run" not in said and "record" not in said
    assert said["year"] == ["Compared with April 2017 (30), it is up 6."]


def test_no_figures():
    assert paragraph(draft(series([]), APRIL)) == "There is no figure for KPI 1 up to April 2018."


def test_ordinals():
    assert [ordinal(n) for n in (1, 2, 3, 12, 13, 21, 22, 111)] == [
        "first", "second", "third", "twelfth", "13th", "21st", "22nd", "111th",
    ]


# --- every claim holds, whatever the figures --------------------------------------------

MONTHS = ("January February March April May June July August September October November "
          "December").split()


def month_of(words: str) -> periods.Period:
    name, year = words.split()
    return periods.month(int(year), MONTHS.index(name) + 1)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(0, 12)), min_size=1, max_size=24))
def test_runs_records_and_peaks_hold_for_any_figures(values):
    points = monthly("2016-05", [None if v is None else str(v) for v in values], decimals=0, unit="count")
    if not points:
        return
    s = series(points, unit="count", decimals=0)
    month = periods.month(points[-1].period.start.year, points[-1].period.start.month)
    by_month = {p.period: p.value for p in points}
    latest = points[-1].value
    for statement in draft(s, month):
        text = statement.text
        if statement.kind == "run":
            n = [ordinal(i) for i in range(1, 25)].index(text.split(" for the ")[1].split()[0]) + 1
            chain = [by_month.get(periods.add_months(month, -i)) for i in range(n + 1)]
            assert None not in chain, text
            steps = [a - b for a, b in zip(chain, chain[1:], strict=False)]  # newest first
            assert all((d > 0) if "increased" in text else (d < 0) for d in steps), (text, chain)
        elif statement.kind == "record" and " since " in text:
            since = month_of(re.search(r"since (\w+ \d{4})", text).group(1))
            between = [p.value for p in points if since.start < p.period.start < month.start]
            if "highest" in text:
                assert by_month[since] >= latest and all(v < latest for v in between), text
            else:
                assert by_month[since] <= latest and all(v > latest for v in between), text
            assert len(between) >= 2
        elif statement.kind == "peak":
            at = month_of(re.search(r"in (\w+ \d{4})\.$", text).group(1))
            window = [p.value for p in points if p.period.start >= at.start]
            if "peak" in text:
                assert by_month[at] == max(window) and by_month[at] > latest, text
            else:
                assert by_month[at] == min(window) and by_month[at] < latest, text
        elif statement.kind == "previous":
            shown = re.search(r"figure, (\d+) in (\w+ \d{4})", text)
            assert by_month[month_of(shown.group(2))] == Decimal(shown.group(1))


# --- statistical process control in plain words ----------------------------------------

STEADY = ["90", "92", "89", "91", "90", "93", "88", "91", "90", "92",
          "89", "91", "90", "92", "89", "91", "90", "92", "89", "91"]


def test_a_run_below_the_average_is_a_real_deterioration_when_higher_is_better():
    s = series(monthly("2016-02", STEADY + ["89", "88", "89", "88", "89", "88", "89"]))
    said = kinds(draft(s, APRIL))["spc"]
    assert said[0] == (
        "Seven months in a row below the average (October 2017 to April 2018): "
        "a real deterioration, not chance."
    )


def test_the_same_run_is_a_real_improvement_when_lower_is_better():
    s = series(monthly("2016-02", STEADY + ["89", "88", "89", "88", "89", "88", "89"]), polarity="down")
    assert kinds(draft(s, APRIL))["spc"][0].endswith(": a real improvement, not chance.")


def test_common_cause_and_hit_and_miss_are_said_plainly():
    from tests.reports.test_charts import with_target

    s = with_target(series(monthly("2016-02", STEADY + ["90", "92", "89", "91", "90", "93", "88"])), target="91")
    said = kinds(draft(s, APRIL))["spc"]
    assert said[0].startswith("The figures vary within their process limits (")
    assert said[0].endswith("as chance would make them: no sign of real change.")
    assert "The target lies between the process limits: it will be met in some months and missed in others." in said


def test_provisional_limits_are_said_to_be_provisional():
    s = series(monthly("2017-03", STEADY[:14]))
    assert "The process limits are provisional, from 14 figures; they are fixed once there are 20." in (
        kinds(draft(s, APRIL))["spc"]
    )


def test_too_few_figures_for_limits_say_nothing_of_them():
    s = series(monthly("2017-06", STEADY[:11]))
    assert "spc" not in kinds(draft(s, APRIL))
