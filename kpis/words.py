"""The product's vocabularies in words, for every page, report and export.

The words are always shown; colour only repeats them (WCAG 1.4.1, use of colour).
"""

from __future__ import annotations

from kpis import rating
from kpis.models import Flag

Status = rating.Status

# R1's vocabulary in words, in R1's order, with a tag colour for each.
VERDICT_WORDS: dict[str, str] = {
    Status.ON_TARGET: "On target",
    Status.WITHIN_TOLERANCE: "Within tolerance",
    Status.OUTSIDE_TOLERANCE: "Outside tolerance",
    Status.ON_TRACK: "On track",
    Status.OFF_TRACK: "Off track",
    Status.NOT_RATED: "Not rated",
    Status.NO_DATA: "No data",
    Status.CANNOT_RATE: "Cannot rate",
}
VERDICT_COLOURS: dict[str, str] = {
    Status.ON_TARGET: "green",
    Status.WITHIN_TOLERANCE: "yellow",
    Status.OUTSIDE_TOLERANCE: "red",
    Status.ON_TRACK: "green",
    Status.OFF_TRACK: "red",
    Status.NOT_RATED: "grey",
    Status.NO_DATA: "grey",
    Status.CANNOT_RATE: "purple",
}
DIRECTION_WORDS: dict[str, str] = {
    rating.Direction.IMPROVING: "Improving",
    rating.Direction.WORSENING: "Worsening",
    rating.Direction.UNCHANGED: "No change",
    rating.Direction.NOT_COMPARABLE: "Not comparable",
}
FLAG_WORDS: dict[str, str] = {
    Flag.LAG: "Data lag",
    Flag.DRAFT: "Draft",
    Flag.SERIES_BREAK: "Series break",
    Flag.SECOND_SOURCE_DISAGREES: "Second source disagrees",
    Flag.GAP: "Gap",
    Flag.ILLUSTRATIVE: "Illustrative",
    Flag.PROVISIONAL: "Provisional",
}
