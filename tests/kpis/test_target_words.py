"""Targets and tolerances in words, from the resolved bounds (R3-R5): one wording for
the pages, the reports and the reason sentences."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kpis import rating
from tests.factories import MeasureFactory

PERCENT_UP = {"unit": "percent", "polarity": "up"}
COUNT_DOWN = {"unit": "count", "polarity": "down", "decimals": 0}


@pytest.mark.parametrize(
    ("measure", "spec", "words"),
    [
        (PERCENT_UP, rating.TargetSpec(target=D("95"), tolerance_low=D("85"), tolerance_high=D("100")), "95%, tolerance from 85%"),
        (PERCENT_UP, rating.TargetSpec(target=D("95")), "95%, no tolerance"),
        (COUNT_DOWN, rating.TargetSpec(target=D("560"), tolerance_relative=D("10"), tolerance_unit="percent"), "560, tolerance up to 616"),
        (COUNT_DOWN, rating.TargetSpec(target=D("44"), tolerance_relative=D("10"), tolerance_unit="points"), "44, tolerance up to 54"),
        ({"unit": "percent", "polarity": "down"}, rating.TargetSpec(target=D("3.9"), tolerance_low=D("0"), tolerance_high=D("3.9")), "3.9%, no tolerance"),
        ({"unit": "rate", "per": 10000, "polarity": "band"}, rating.TargetSpec(target=D("79"), tolerance_low=D("69"), tolerance_high=D("89")), "79, tolerance 69 to 89"),
        ({"unit": "percent", "polarity": "band"}, rating.TargetSpec(target_low=D("40"), target_high=D("60"), tolerance_low=D("30"), tolerance_high=D("70")), "40% to 60%, tolerance 30% to 70%"),
        ({"unit": "count", "polarity": "up", "cumulative": True}, rating.TargetSpec(target=D("300")), "300 by the year end, no tolerance"),
        (PERCENT_UP, None, "No target"),
        ({"unit": "count", "polarity": ""}, rating.TargetSpec(target=D("10")), "No target"),
    ],
)
def test_target_words(measure, spec, words):
    defn = MeasureFactory.build(**measure).as_definition()
    assert rating.target_words(defn, spec) == words
