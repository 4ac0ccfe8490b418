"""The demonstration data: Sunderland's contract with Together for Children, April 2018.

Everything Sunderland-related comes from the reference report, the Together for Children
performance update to the Children, Education and Skills Scrutiny Committee (April 2018).
Where the report is unclear or contradicts itself, the row's note says so and says what
the demo does (domain.md, "Known faults"). The second provider, Northfield, is made up
so that ``other_provider`` has a contract of its own; every figure of it is flagged
``illustrative`` and says so in its note. Sunderland's April 2018 return is loaded as the
committee saw it: signed off, with the report's narratives (section 3) and its assurance and
improvement actions (section 4).

The data is declarative (the tuples and dicts below); ``load`` writes it. Loading is
idempotent: a row is saved only when it is missing or one of its declared fields
differs, so a second run saves nothing and adds no history rows. Every row goes through
``full_clean()`` before it is saved, the same validation the admin runs (it also derives
``Measure.slug``, ``Observation.period_start``/``period_end``, ``SeriesBreak.from_date``
and ``Comparator.period_end``).

Demonstration only: every demo user has the same published password.
"""

from __future__ import annotations

import copy
from base64 import b32decode
from collections import Counter
from datetime import date, datetime
from decimal import Decimal as D
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from contracts import workflow
from contracts.models import (
    Action,
    Contract,
    Entry,
    Membership,
    MonthlyReturn,
    Organisation,
    ReturnEvent,
    ReturnState,
    Role,
)
from kpis import periods
from kpis.models import (
    Comparator,
    DataGap,
    Measure,
    MeasureSet,
    Observation,
    SeriesBreak,
    Target,
    TargetValues,
)
from retained_services.datasets import ADMISSIONS_FIELDS, EHE_FIELDS
from retained_services.models import AdmissionsFigure, Dataset, EHEFigure

DEMO_PASSWORD = "demo-pass-2018"
LOGIN_URL = "http://127.0.0.1:8000/accounts/login/"

REPORT = (
    "Together for Children performance update to the Children, Education and Skills "
    "Scrutiny Committee (April 2018)"
)
ILLUSTRATIVE_SOURCE = "Illustrative: made up for the demonstration, not from any report"
ILLUSTRATIVE_NOTE = "Illustrative figure, made up for the demonstration; not a real figure."
TFC_RETURN = "Together for Children monthly performance return"
# The report's targets are those of 2017/18; section 5 says 2018/19 targets were revised
# but does not give them, so these stay in force (domain.md: the report rates 2017 figures
# against the targets it prints).
TARGET_NOTE = "Target and tolerance as printed in the report (2017/18 onwards)."
FROM_2017 = date(2017, 4, 1)

# --- organisations and contracts -------------------------------------------------------

ORGANISATIONS = (
    {"slug": "sunderland", "name": "Sunderland City Council", "kind": Organisation.Kind.COUNCIL},
    {
        "slug": "together-for-children",
        "name": "Together for Children",
        "kind": Organisation.Kind.PROVIDER,
    },
    # Illustrative: the second council and provider are made up.
    {"slug": "northfield", "name": "Northfield Borough Council", "kind": Organisation.Kind.COUNCIL},
    {
        "slug": "northfield-trust",
        "name": "Northfield Children's Trust",
        "kind": Organisation.Kind.PROVIDER,
    },
)

MEASURE_SETS = (
    {"slug": "sunderland-tfc", "name": "Together for Children: contract measures"},
    {
        "slug": "northfield-ehcp",
        "name": "Northfield Children's Trust: EHCP measures (illustrative)",
    },
)

CONTRACTS = (
    {
        "slug": "sunderland-tfc",
        "name": "Together for Children: children's services contract",
        "commissioner": "sunderland",
        "provider": "together-for-children",
        "start": date(2016, 4, 1),
        "end": None,
        "measure_set": "sunderland-tfc",
    },
    {
        "slug": "northfield-ehcp",
        "name": "Northfield Children's Trust: EHCP services contract (illustrative)",
        "commissioner": "northfield",
        "provider": "northfield-trust",
        "start": date(2016, 4, 1),
        "end": None,
        "measure_set": "northfield-ehcp",
    },
)

# --- measures --------------------------------------------------------------------------
# Per measure set, in the report's order (display_order follows it). Fields left out take
# MEASURE_DEFAULTS.

MEASURE_DEFAULTS: dict[str, Any] = {
    "definition": "",
    "per": None,
    "decimals": 1,
    "polarity": "up",
    "frequency": "monthly",
    "year_type": "financial",
    "cumulative": False,
    "lag_months": 0,
    "data_source": TFC_RETURN,
    "comparability_note": "",
}

MEASURES: dict[str, tuple[dict[str, Any], ...]] = {
    "sunderland-tfc": (
        {
            "code": "KPI 1",
            "title": "% of referrals with a decision within 24 hours",
            "kind": "kpi",
            "unit": "percent",
            "definition": (
                "Referrals to children's social care with a decision made within 24 hours, "
                "as a percentage of the referrals in the month (report 3.7)."
            ),
        },
        {
            "code": "SM 1.1",
            "title": (
                "Rate of Children and Young People subject to Child Protection plan per 10k "
                "of the population"
            ),
            "kind": "supporting",
            "unit": "rate",
            "per": 10000,
            "polarity": "band",
            "definition": (
                "Children and young people subject to a Child Protection plan at the end of "
                "the month, per 10,000 of the population (report 3.8). A value inside the "
                "tolerance band 69 to 89, close to 79, is wanted: neither too many nor too few."
            ),
        },
        {
            "code": "KPI 2",
            "title": (
                "% of Children and Young People subject to Child Protection plan who received "
                "a statutory visit within 10 working days"
            ),
            "kind": "kpi",
            "unit": "percent",
            "definition": (
                "Children on a Child Protection plan whose statutory visit was completed within "
                "10 working days, as a percentage of children on a plan (report 3.9)."
            ),
            "data_source": (
                "Case management system: Swift until 19 January 2018, Liquid Logic from the "
                "end of April 2018"
            ),
        },
        {
            "code": "KPI 3",
            "title": "% of case file audits that were rated as 'requires improvement' or better",
            "kind": "kpi",
            "unit": "percent",
            "definition": (
                "Case file audits rated 'requires improvement' or better, as a percentage of "
                "the audits completed; the report's headline is the rolling 12 months "
                "(report 3.10)."
            ),
            "data_source": "Together for Children case file audits",
        },
        {
            "code": "SM 3.1",
            "title": (
                "% of Child In Need assessments completed and authorised in timescales within "
                "45 working days"
            ),
            "kind": "supporting",
            "unit": "percent",
            "definition": (
                "Child in Need assessments completed and authorised within 45 working days, "
                "as a percentage of assessments completed (report 3.11)."
            ),
        },
        {
            "code": "SM 3.2",
            "title": (
                "Total number of children and young people who have completed a Viewpoint "
                "questionnaire or MOMO"
            ),
            "kind": "supporting",
            "unit": "count",
            "decimals": 0,
            "cumulative": True,
            "definition": (
                "Children and young people who completed a Viewpoint questionnaire or MOMO "
                "(Mind Of My Own), counted from the start of the financial year; the target "
                "of 300 is for the year and is judged by projection to the year end "
                "(report 3.12, R7)."
            ),
        },
        {
            "code": "KPI 4",
            "title": (
                "Rate of first time entrants to the criminal justice system (per 100k) of "
                "10-17 population"
            ),
            "kind": "kpi",
            "unit": "rate",
            "per": 100000,
            "decimals": 0,
            "polarity": "down",
            "frequency": "quarterly",
            "lag_months": 7,
            "data_source": "Police National Computer",
            "definition": (
                "Young people aged 10 to 17 entering the criminal justice system for the first "
                "time, per 100,000 of the 10 to 17 population (report 3.13)."
            ),
            "comparability_note": (
                "The report's text says '402 per 10k' under a per-100k title; the figure is "
                "per 100,000 and is recorded so. Published with a lag: the latest publication "
                "was as at August 2017, covering quarters up to September 2017."
            ),
        },
        {
            "code": "SM 4.1",
            "title": "Binary rate of reoffending (% of the monitored cohort who reoffend)",
            "kind": "supporting",
            "unit": "percent",
            "polarity": "down",
            "frequency": "quarterly",
            "data_source": "Ministry of Justice",
            "definition": (
                "The reoffending binary rate: the percentage of the Ministry of Justice's "
                "monitoring cohort who reoffend (report 3.14)."
            ),
            "comparability_note": (
                "The report's heading for this measure repeats KPI 4's title (first time "
                "entrants per 100k); its text and its 44% target are about the reoffending "
                "binary rate, which is what is recorded here. From December 2017 the Ministry "
                "of Justice uses a 3-month cohort instead of an annual one: rates from then "
                "on are not comparable with earlier ones."
            ),
        },
        {
            "code": "MI 5.19",
            "title": "Rate of Looked After Children at the end of the period",
            "kind": "mi",
            "unit": "rate",
            "per": 10000,
            "polarity": "",
            "definition": (
                "Looked after children at the end of the month, per 10,000 of the population. "
                "Management information: no target or tolerance is set (report 3.15)."
            ),
        },
        {
            "code": "KPI 6",
            "title": (
                "% of care leavers in touch with Together for Children within 8 weeks of the "
                "previous contact age 17 – 21"
            ),
            "kind": "kpi",
            "unit": "percent",
            "definition": (
                "Care leavers aged 17 to 21 in touch with Together for Children within 8 weeks "
                "of the previous contact, as a percentage of care leavers (report 3.16)."
            ),
            "comparability_note": (
                "Published comparators count contact within the 'birthday window'; Together "
                "for Children contacts care leavers every 8 weeks, which is much more "
                "frequent, so they cannot be compared directly."
            ),
        },
        {
            "code": "SM 6.2",
            "title": "% of Care Leavers living in suitable accommodation (19-21 year olds)",
            "kind": "supporting",
            "unit": "percent",
            "definition": (
                "Care leavers aged 19 to 21 living in suitable accommodation, as a percentage "
                "of care leavers of that age (report 3.17)."
            ),
        },
        {
            "code": "KPI 7",
            "title": (
                "% of young people who have reached statutory school age (academic year 12 – "
                "13) who are meeting the duty to participate"
            ),
            "kind": "kpi",
            "unit": "percent",
            "definition": (
                "Young people in academic years 12 and 13 meeting the duty to participate in "
                "education and training, as a percentage of the cohort (report 3.18)."
            ),
            "comparability_note": (
                "Nationally, performance is measured over November, December and January, "
                "when students are settled in placement."
            ),
        },
        {
            "code": "SM 7.1",
            "title": (
                "% of young people who have reached statutory school age (ac yr. 12-13) whose "
                "status is unknown"
            ),
            "kind": "supporting",
            "unit": "percent",
            "polarity": "down",
            "definition": (
                "Young people in academic years 12 and 13 whose education, employment or "
                "training status is not known, as a percentage of the cohort (report 3.19)."
            ),
            "comparability_note": (
                "Nationally, performance is measured over November, December and January, "
                "when students are settled in placement."
            ),
        },
        {
            "code": "KPI 8",
            "title": "% of Looked After Children with an up to date Personal Education Plan",
            "kind": "kpi",
            "unit": "percent",
            "data_source": "Liquid Logic case management system",
            "definition": (
                "Looked after children with an up-to-date Personal Education Plan, as a "
                "percentage of looked after children (report 3.20)."
            ),
            "comparability_note": (
                "The Virtual School keeps manual records of Personal Education Plans that have "
                "not been entered onto the case management system; the two sources disagree."
            ),
        },
        {
            "code": "SM 8.1",
            "title": "% of care leavers (aged 19-21) who are in Employment, Education or Training",
            "kind": "supporting",
            "unit": "percent",
            "definition": (
                "Care leavers aged 19 to 21 in employment, education or training, as a "
                "percentage of the month's cohort; a care leaver not contacted within 8 weeks "
                "is assumed not in employment, education or training (report 3.21)."
            ),
            "comparability_note": (
                "The Department for Education's measure counts activity within the 'birthday "
                "window', so published comparators are not directly comparable (report 4.7)."
            ),
        },
        {
            "code": "KPI 9",
            "title": "% of established Social Work posts filled by agency/interim staff",
            "kind": "kpi",
            "unit": "percent",
            "polarity": "down",
            "definition": (
                "Established social work posts in Children's Safeguarding filled by agency or "
                "interim staff, as a percentage of the permanent structure in full-time "
                "equivalents (report 3.22)."
            ),
        },
    ),
    # Illustrative: made up so that other_provider has a contract of its own.
    "northfield-ehcp": (
        {
            "code": "KPI 1",
            "title": "% of new Education, Health and Care plans issued within 20 weeks",
            "kind": "kpi",
            "unit": "percent",
            "data_source": ILLUSTRATIVE_SOURCE,
            "definition": "Illustrative measure, made up for the demonstration.",
        },
        {
            "code": "KPI 2",
            "title": "% of Education, Health and Care plan annual reviews completed within 12 months",
            "kind": "kpi",
            "unit": "percent",
            "data_source": ILLUSTRATIVE_SOURCE,
            "definition": "Illustrative measure, made up for the demonstration.",
        },
        {
            "code": "SM 2.1",
            "title": "Average working days from a request to the decision whether to assess",
            "kind": "supporting",
            "unit": "days",
            "decimals": 0,
            "polarity": "down",
            "data_source": ILLUSTRATIVE_SOURCE,
            "definition": "Illustrative measure, made up for the demonstration.",
        },
    ),
}

# --- targets ---------------------------------------------------------------------------
# (measure set, code, fields); fields left out are blank. Valid from 1 April 2017 with no
# end unless given. MI 5.19 has no target ("No target or tolerance set").

TARGET_FIELDS = ("valid_to", *TargetValues.VALUE_FIELDS, "note")

TARGETS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        "sunderland-tfc",
        "KPI 1",
        {"target": D("95"), "tolerance_low": D("85"), "tolerance_high": D("100")},
    ),
    (
        "sunderland-tfc",
        "SM 1.1",
        {
            "target": D("79"),
            "tolerance_low": D("69"),
            "tolerance_high": D("89"),
            "note": (
                f"{TARGET_NOTE} A band measure with a point target: only exactly 79 is on "
                "target; inside 69 to 89 is within tolerance (R5)."
            ),
        },
    ),
    (
        "sunderland-tfc",
        "KPI 2",
        {
            "target": D("95"),
            "tolerance_low": D("85"),
            "tolerance_high": D("100"),
            "note": (
                "The report's heading prints 'Target 70%' with 'Tolerance 85 – 100%', which "
                "contradicts itself (a tolerance floor above the target, R6); its text judges "
                "the figure 'below the target of 95% but within tolerance'. The demo uses 95."
            ),
        },
    ),
    (
        "sunderland-tfc",
        "KPI 3",
        {"target": D("70"), "tolerance_low": D("60"), "tolerance_high": D("100")},
    ),
    (
        "sunderland-tfc",
        "SM 3.1",
        {"target": D("75"), "tolerance_low": D("65"), "tolerance_high": D("100")},
    ),
    (
        "sunderland-tfc",
        "SM 3.2",
        {
            "target": D("300"),
            "note": (
                f"{TARGET_NOTE} An annual target with no tolerance, judged by projection to "
                "the year end (R7)."
            ),
        },
    ),
    (
        "sunderland-tfc",
        "KPI 4",
        {
            "target": D("560"),
            "tolerance_relative": D("10"),
            "tolerance_unit": "percent",
            "note": (
                "The heading reads 'Tolerance 560 Tolerance target +10%': target 560, with a "
                "tolerance of 10% of the target on the worse side (up to 616, R4)."
            ),
        },
    ),
    (
        "sunderland-tfc",
        "SM 4.1",
        {
            "target": D("44"),
            "tolerance_relative": D("10"),
            "tolerance_unit": "points",
            "note": (
                "The heading reads 'Target 44%, Tolerance target +10%': taken as 10 percentage "
                "points on the worse side (up to 54%, R4)."
            ),
        },
    ),
    (
        "sunderland-tfc",
        "KPI 6",
        {"target": D("80"), "tolerance_low": D("72"), "tolerance_high": D("100")},
    ),
    (
        "sunderland-tfc",
        "SM 6.2",
        {"target": D("71"), "tolerance_low": D("70"), "tolerance_high": D("100")},
    ),
    (
        "sunderland-tfc",
        "KPI 7",
        {"target": D("92.8"), "tolerance_low": D("92.3"), "tolerance_high": D("100")},
    ),
    (
        "sunderland-tfc",
        "SM 7.1",
        {
            "target": D("3.9"),
            "tolerance_low": D("0"),
            "tolerance_high": D("3.9"),
            "note": (
                f"{TARGET_NOTE} Lower is better, so a tolerance of 0 to 3.9% leaves no "
                "tolerance above the target (R3)."
            ),
        },
    ),
    (
        "sunderland-tfc",
        "KPI 8",
        {"target": D("90"), "tolerance_low": D("81"), "tolerance_high": D("100")},
    ),
    (
        "sunderland-tfc",
        "SM 8.1",
        {"target": D("60"), "tolerance_low": D("40"), "tolerance_high": D("100")},
    ),
    (
        "sunderland-tfc",
        "KPI 9",
        {"target": D("25"), "tolerance_low": D("25"), "tolerance_high": D("27.5")},
    ),
    # Illustrative.
    (
        "northfield-ehcp",
        "KPI 1",
        {
            "target": D("60"),
            "tolerance_low": D("50"),
            "tolerance_high": D("100"),
            "note": "Illustrative target.",
        },
    ),
    (
        "northfield-ehcp",
        "KPI 2",
        {
            "target": D("85"),
            "tolerance_low": D("75"),
            "tolerance_high": D("100"),
            "note": "Illustrative target.",
        },
    ),
    (
        "northfield-ehcp",
        "SM 2.1",
        {
            "target": D("30"),
            "tolerance_relative": D("10"),
            "tolerance_unit": "percent",
            "note": "Illustrative target.",
        },
    ),
)

# --- figures ---------------------------------------------------------------------------
# (measure set, code, period, fields). All went to committee, so all are official (R14).
# Fields left out are blank; source defaults to the report. SM 4.1 has no figure at all.

OBSERVATION_FIELDS = (
    "value",
    "numerator",
    "denominator",
    "as_at",
    "source",
    "flags",
    "note",
    "second_value",
    "second_source",
    "is_official",
)

OBSERVATIONS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    (
        "sunderland-tfc",
        "KPI 1",
        "2018-04",
        {
            "value": D("92.1"),
            "note": (
                "29 referrals in April did not have a decision within 24 hours: data entry "
                "errors, system use errors and referrers slow to answer requests for "
                "information. Above the 95% target until March 2018 (report text)."
            ),
        },
    ),
    (
        "sunderland-tfc",
        "SM 1.1",
        "2017-12",
        {
            "value": D("103.8"),
            "note": "The peak (report text: 'a peak in December 2017 at 103.8').",
        },
    ),
    (
        "sunderland-tfc",
        "SM 1.1",
        "2018-01",
        {
            "numerator": D("521"),
            "note": (
                "521 children and young people on a Child Protection plan in January 2018 "
                "(report text). The report gives no rate for January, so none is recorded."
            ),
        },
    ),
    (
        "sunderland-tfc",
        "SM 1.1",
        "2018-04",
        {
            "value": D("91.2"),
            "numerator": D("495"),
            "note": (
                "495 children and young people on a Child Protection plan at the end of April "
                "2018: the second monthly decrease in a row since the December 2017 peak."
            ),
        },
    ),
    (
        "sunderland-tfc",
        "KPI 2",
        "2018-04",
        {
            "value": D("89.2"),
            "note": (
                "53 children whose visit was out of timescales; no pattern by individual or "
                "team. No data from 19 January 2018 until the end of April 2018 while the "
                "case management system was replaced (Swift to Liquid Logic)."
            ),
        },
    ),
    (
        "sunderland-tfc",
        "KPI 3",
        "2018-04",
        {
            "value": D("84.6"),
            "numerator": D("242"),
            "denominator": D("286"),
            "note": (
                "rolling 12 months to April 2018; April's own audits: 24 completed, "
                "2 outstanding, 5 good, 16 requires improvement, 1 inadequate"
            ),
        },
    ),
    (
        "sunderland-tfc",
        "SM 3.1",
        "2018-04",
        {
            "value": D("87.5"),
            "note": "Decreased January to March 2018 but stayed above target (report text).",
        },
    ),
    (
        "sunderland-tfc",
        "SM 3.2",
        "2018-04",
        {
            "value": D("36"),
            "note": "36 questionnaires completed in April 2018, the first month of the year.",
        },
    ),
    (
        "sunderland-tfc",
        "KPI 4",
        "2017/18 Q2",
        {
            "value": D("402"),
            "as_at": date(2017, 8, 31),
            "note": (
                "Data lag: the source is the Police National Computer; the figure is the most "
                "recent publication, as at August 2017, for quarters up to September 2017. "
                "Decreased over the last four reportable quarters. The report's text says "
                "'402 per 10k', but the measure is per 100,000 of the 10 to 17 population."
            ),
        },
    ),
    (
        "sunderland-tfc",
        "MI 5.19",
        "2018-04",
        {
            "value": D("112.1"),
            "numerator": D("608"),
            "note": (
                "608 looked after children at the end of April 2018: the highest rate since "
                "April 2016, and the higher rate seen since October continues."
            ),
        },
    ),
    (
        "sunderland-tfc",
        "KPI 6",
        "2018-04",
        {"value": D("84.4"), "note": "Above target January to April 2018 (report text)."},
    ),
    (
        "sunderland-tfc",
        "SM 6.2",
        "2018-04",
        {"value": D("80"), "note": "Above target January to April 2018 (report text)."},
    ),
    (
        "sunderland-tfc",
        "KPI 7",
        "2018-04",
        {
            "value": D("88.1"),
            "numerator": D("5203"),
            "denominator": D("5907"),
            "note": (
                "Cohort of 5907: EET 5322 (90.1%), NEET 245 (4.1%), unknown 340 (5.8%); "
                "meeting the duty to participate 5203 (88.1%)."
            ),
        },
    ),
    (
        "sunderland-tfc",
        "SM 7.1",
        "2017-12",
        {"value": D("6.0"), "note": "Report text: 'the position in December at 6%'."},
    ),
    (
        "sunderland-tfc",
        "SM 7.1",
        "2018-04",
        {
            "value": D("5.8"),
            "numerator": D("340"),
            "denominator": D("5907"),
            "note": "340 young people whose status is not known, of a cohort of 5907.",
        },
    ),
    (
        "sunderland-tfc",
        "KPI 8",
        "2018-04",
        {
            "value": D("44.3"),
            "second_value": D("92"),
            "second_source": "Virtual School manual records",
            "flags": ["second_source_disagrees"],
            "note": (
                "From the Liquid Logic case management system, where performance decreased "
                "after its implementation. The Virtual School's manual records report 92% in "
                "timescales, but have not been entered onto the system."
            ),
        },
    ),
    (
        "sunderland-tfc",
        "SM 8.1",
        "2018-04",
        {
            "value": D("39.2"),
            "numerator": D("47"),
            "denominator": D("120"),
            "note": (
                "April 2018: 47 confirmed in employment, education or training; 54 confirmed "
                "not; 2 with no activity recorded; 17 not contacted in time and so assumed "
                "not (120 in all). Decreased significantly since December 2017."
            ),
        },
    ),
    (
        "sunderland-tfc",
        "KPI 9",
        "2018-04",
        {
            "value": D("29"),
            "denominator": D("151.8"),
            "note": (
                "Based on a permanent structure of 151.8 full-time-equivalent social work posts "
                "in Children's Safeguarding (the denominator); the report does not give the "
                "number of posts filled by agency staff."
            ),
        },
    ),
)

# Illustrative figures for Northfield: (code, period, value, numerator, denominator).
_NORTHFIELD_FIGURES = (
    ("KPI 1", "2018-02", D("60.0"), D("27"), D("45")),
    ("KPI 1", "2018-03", D("55.0"), D("22"), D("40")),
    ("KPI 1", "2018-04", D("62.5"), D("30"), D("48")),
    # Two years of KPI 2, so the statistical process control chart has something to show:
    # a year around 79%, then a year around 85% (a shift of twelve months above the mean:
    # special cause, improving), with limits inside the tolerance band.
    *(
        ("KPI 2", period, D(value), None, None)
        for period, value in zip(
            [f"{2016 + (m + 4) // 12}-{(m + 4) % 12 + 1:02d}" for m in range(24)],
            (
                "78.4", "80.1", "77.6", "79.2", "81.0", "78.8", "79.5", "77.9", "80.6", "79.0",
                "78.2", "80.3", "83.1", "84.6", "82.9", "85.3", "84.0", "86.1", "83.7", "85.5",
                "84.8", "86.0", "83.5", "86.2",
            ),
            strict=True,
        )
    ),
    ("SM 2.1", "2018-02", D("34"), None, None),
    ("SM 2.1", "2018-03", D("31"), None, None),
    ("SM 2.1", "2018-04", D("29"), None, None),
)
OBSERVATIONS += tuple(
    (
        "northfield-ehcp",
        code,
        period,
        {
            "value": value,
            "numerator": numerator,
            "denominator": denominator,
            "source": ILLUSTRATIVE_SOURCE,
            "flags": ["illustrative"],
            "note": ILLUSTRATIVE_NOTE,
        },
    )
    for code, period, value, numerator, denominator in _NORTHFIELD_FIGURES
)

# --- gaps, breaks, comparators ---------------------------------------------------------

DATA_GAPS = (
    (
        "sunderland-tfc",
        "KPI 2",
        {
            "start": date(2018, 1, 19),
            "end": date(2018, 4, 29),
            "reason": (
                "Case management system replaced (Swift to Liquid Logic); no data until the "
                "end of April 2018"
            ),
        },
    ),
)

SERIES_BREAKS = (
    (
        "sunderland-tfc",
        "SM 4.1",
        {
            "from_period": "2017/18 Q3",
            "reason": (
                "From December 2017 the Ministry of Justice moved the measure from an annual "
                "monitoring cohort to a 3-month one. The cohort is much smaller and the binary "
                "rate likely to rise by 4 to 5 percentage points, so it is not comparable with "
                "earlier rates."
            ),
        },
    ),
)

COMPARATORS = (
    # (measure set, code, group, period, fields)
    (
        "sunderland-tfc",
        "MI 5.19",
        "Statistical neighbours",
        "2016/17",
        {"value": D("94.3"), "note": "Average as at 31 March 2017 (report text)."},
    ),
    (
        "sunderland-tfc",
        "MI 5.19",
        "North East",
        "2016/17",
        {"value": D("92"), "note": "Average as at 31 March 2017 (report text)."},
    ),
    (
        "sunderland-tfc",
        "MI 5.19",
        "England",
        "2016/17",
        {"value": D("62"), "note": "Average as at 31 March 2017 (report text)."},
    ),
    *(
        (
            "sunderland-tfc",
            "SM 8.1",
            group,
            "2017/18",
            {
                "value": value,
                "comparable": False,
                "note": (
                    "Published comparators use the 'birthday window'; not directly comparable "
                    "(report 4.7)."
                ),
            },
        )
        for group, value in (
            ("Statistical neighbours", D("48")),
            ("Region", D("50")),
            ("England", D("50")),
        )
    ),
)
COMPARATOR_SOURCE = f"As quoted in the {REPORT}"

# --- retained services (report 3.23 and 3.24) ------------------------------------------

RETAINED_COUNCIL = "sunderland"
RETAINED_OFFICER = "officer"

# year -> phase -> fields. The report gives the North East and England percentages in one
# column with no year; they are the 2018 comparators (the text compares 2018 with them).
ADMISSIONS: dict[str, dict[str, dict[str, Any]]] = {
    "2016": {
        "primary": {"first_choice_number": 2702, "first_choice_percent": D("91")},
        "junior": {"first_choice_number": 472, "first_choice_percent": D("98")},
        "secondary": {"first_choice_number": 2495, "first_choice_percent": D("94")},
    },
    "2017": {
        "primary": {"first_choice_number": 2722, "first_choice_percent": D("96")},
        "junior": {"first_choice_number": 503, "first_choice_percent": D("99")},
        "secondary": {"first_choice_number": 2501, "first_choice_percent": D("90")},
    },
    "2018": {
        "primary": {
            "first_choice_number": 2720,
            "first_choice_percent": D("95"),
            "any_of_three_percent": D("99"),
            "region_percent": D("94.1"),
            "england_percent": D("90.0"),
        },
        "junior": {"first_choice_number": 514, "first_choice_percent": D("98")},
        "secondary": {
            "first_choice_number": 2694,
            "first_choice_percent": D("90"),
            "any_of_three_percent": D("96.3"),
            "region_percent": D("90.9"),
            "england_percent": D("83.5"),
        },
    },
}

# academic year -> term -> fields. The 2017/18 summer term had not been reported.
EHE: dict[str, dict[str, dict[str, Any]]] = {
    "2014/15": {"year": {"new_ehe": 44, "new_year11_ehe": 14, "total_in_period": 85}},
    "2015/16": {
        "autumn": {"new_ehe": 17, "new_year11_ehe": 4},
        "spring": {"new_ehe": 8, "new_year11_ehe": 4},
        "summer": {"new_ehe": 13, "new_year11_ehe": 0},
        "year": {"new_ehe": 38, "new_year11_ehe": 8, "total_in_period": 88},
    },
    "2016/17": {
        "autumn": {"new_ehe": 27, "new_year11_ehe": 10},
        "spring": {"new_ehe": 27, "new_year11_ehe": 6},
        "summer": {"new_ehe": 21, "new_year11_ehe": 0},
        "year": {
            "new_ehe": 75,
            "new_year11_ehe": 16,
            "total_in_period": 144,
            "note": "the report's text says 137 children the year before 2017/18",
        },
    },
    "2017/18": {
        "autumn": {"new_ehe": 39, "new_year11_ehe": 16},
        "spring": {"new_ehe": 38, "new_year11_ehe": 7},
        "year": {
            "new_ehe": 77,
            "new_year11_ehe": 23,
            "note": (
                "So far: autumn and spring terms only. 161 children EHE at some point in "
                "2017/18 (report text)"
            ),
        },
    },
}
RETAINED_NOTES = {
    "admissions": "From the report's table 3.23 (first choice preference achieved).",
    "ehe": "From the report's table 3.24 (elective home education).",
}

# --- users -----------------------------------------------------------------------------
# (username, organisation, role, what they can do). Role names match the usernames, except
# other_provider, a provider editor at the second provider.

USERS = (
    (
        "provider_editor",
        "together-for-children",
        Role.PROVIDER_EDITOR,
        "fills in TfC's monthly return",
    ),
    (
        "provider_lead",
        "together-for-children",
        Role.PROVIDER_LEAD,
        "submits TfC's return, answers queries",
    ),
    ("commissioner", "sunderland", Role.COMMISSIONER, "reviews, queries and signs off returns"),
    ("admin", "sunderland", Role.ADMIN, "keeps measures and targets; Django admin at /admin/"),
    ("reader", "sunderland", Role.READER, "reads the dashboard and report (official figures only)"),
    ("officer", "sunderland", Role.OFFICER, "enters the retained-service datasets"),
    (
        "other_provider",
        "northfield-trust",
        Role.PROVIDER_EDITOR,
        "Northfield's contract only (illustrative)",
    ),
)
SUPERUSERS = {"admin"}
# Authenticator keys (base32, as an authenticator app takes them) for the roles that need
# two-factor authentication. Published, so demonstration only, like the password.
TOTP_SECRETS = {
    "commissioner": "DEMOCOMMISSIONERSECRETKEYTWOFAAA",
    "admin": "DEMOADMINSECRETKEYFORTWOFACTORAA",
}

# --- the April 2018 return (report sections 3 and 4) -----------------------------------
# The return that went to the committee, loaded as signed off: an entry for every measure
# due in April 2018 (as ``workflow.due_measures`` decides: monthly measures cover the
# month, KPI 4 the quarter to September 2017; SM 4.1, quarterly with no lag, is not due),
# each linked to its official figure above.

APRIL_RETURN_CONTRACT = "sunderland-tfc"
APRIL_RETURN_MONTH = (2018, 4)

# Why each measure that owes a narrative (R9) misses target: the report's own words in
# section 3, lightly shortened. Every other measure due is on target, on track or not rated.
_NO_ACTIONS_IN_REPORT = (
    " The report gives no assurance or improvement actions for this measure (its section 4 "
    "has none), so none are recorded."
)
VARIANCE_REASONS: dict[str, str] = {
    "KPI 1": (
        "Timeliness had been maintained above the 95% target until March 2018 but decreased "
        "in April 2018 to 92.1%, below target but within tolerance. 29 referrals in April did "
        "not have a decision within 24 hours; delays were attributed to data entry errors, "
        "system use errors and referrers not responding to requests for information in a "
        "timely way (report 3.7)."
    ),
    "SM 1.1": (
        "The rate decreased for the second month in a row, to 91.2 in April 2018, from a peak "
        "of 103.8 in December 2017, but remains outside target and tolerance. It reflects the "
        "fall in the number of children and young people on a Child Protection plan from 521 "
        "in January 2018 to 495 at the end of April (report 3.8). The report gives no other "
        "reason for the rate."
    ),
    "KPI 2": (
        "With the move to the new case management system, Liquid Logic, performance "
        "information was available only up to 19 January 2018, when the Swift system was "
        "taken down, and became available again at the end of April 2018. In April 2018 89.2% "
        "of statutory visits were completed within timescales; 53 children's visits were out "
        "of timescales. Analysis of visits has not highlighted any specific performance "
        "issues linked to individuals or teams (report 3.9)."
    ),
    "KPI 7": (
        "Performance was maintained around 88% and continues at 88.1% (5203 young people) in "
        "April 2018, below target and outside tolerance. The key dates for measurement are "
        "November, December and January, when students are settled in placement and which are "
        "used nationally; over that period performance continued at the current rate. TfC are "
        "reviewing the service offer and have assigned individual wards across the city to "
        "focus on individual accountability and improve performance (report 3.18)."
    ),
    "SM 7.1": (
        "The share of 16-17 year olds whose status is not known improved slightly, from 6% in "
        "December to 5.8% (340 young people), but remains outside tolerance. The key dates for "
        "measurement are November, December and January, used nationally; over that period "
        "performance continued at the current rate. TfC are reviewing the service offer and "
        "have assigned individual wards across the city to focus on individual accountability "
        "and improve performance (report 3.19)."
    ),
    "KPI 8": (
        "Performance decreased following the implementation of the Liquid Logic case "
        "management system: 44.3% of looked after children have an up-to-date Personal "
        "Education Plan, based on Liquid Logic. The Virtual School maintains manual records "
        "that report 92% in timescales, but this information has not been updated onto the "
        "system and remains an issue (report 3.20)." + _NO_ACTIONS_IN_REPORT
    ),
    "SM 8.1": (
        "Performance decreased significantly since December 2017 to 39.2% at the end of April "
        "2018, below the statistical neighbour (48%), regional (50%) and England (50%) "
        "averages. The figure is affected by the numbers in the cohort, which change each "
        "month, and by performance in being 'in touch' with the young person within 8 weeks: "
        "in April 47 were confirmed in employment, education or training, 54 confirmed not, 2 "
        "had no activity recorded and 17 did not have a contact in time and are assumed not "
        "(report 3.21)."
    ),
    "KPI 9": (
        "The rate has worsened over the last 3 months and in April 2018 agency staff fill 29% "
        "of a permanent structure of 151.8 full-time-equivalent social work posts in "
        "Children's Safeguarding. There are live recurring vacancies for social workers in "
        "the Assessment and Locality teams, and continued issues in the recruitment and "
        "retention of social work staff (report 3.22)." + _NO_ACTIONS_IN_REPORT
    ),
}

# A reason for every measure due in April with no figure (R9). None: SM 4.1, the only
# measure without a figure, is quarterly and not due in April. The loader refuses a due
# measure that has neither a figure nor a reason here.
NO_DATA_REASONS: dict[str, str] = {}

# Report section 4, one action per bullet, as worded (page breaks joined). The report names
# no owner or due date, so each is recorded without (new actions need both). Section 4.7's
# last bullet ("This measure differs from the DFE measure which is within the birthday
# window so is not directly comparable") is a comparability note, not an action: it is
# SM 8.1's comparability note and its comparators' note instead.
_YOUNG_PEOPLE_ACTIONS = (  # 4.5 and 4.6 give the same two
    "Service review to refocus provision.",
    "Clear and defined allocation on a ward basis in order to focus on NEET and Unknown young "
    "people and ensure defined responsibility.",
)
ACTIONS: dict[str, tuple[str, ...]] = {
    "KPI 1": (  # 4.1
        "All contacts relating to referrals were triaged prior to management authorisation of "
        "the referral to ensure there were no immediate safeguarding risks and management of "
        "risk identified.",
        "Those where the decision is made out of 24 hours are reviewed and reasons understood "
        "and to take action as required.",
        "Process maps and housekeeping guidance is being developed and issued regarding the use "
        "of the system to reduce and remove data entry errors.",
        "Partnership working to improve the provision of timely information by partners to "
        "support decision making.",
    ),
    "SM 1.1": (  # 4.2
        "An audit was undertaken of those cases who became subject to a CP plan over an agreed "
        "period, findings informed practice, provision of service and improvement activity.",
        "Child in Need assessment activity supported by a Neglect Toolkit which was launched in "
        "Nov 2017 by the SSCB.",
        "A training programme for the wider children's workforce on neglect and the use of the "
        "Toolkit is underway. 34 multi-agency practitioners attended the most recent session, "
        "which was positively received.",
        "Plan to deliver 'train the trainer' sessions and roll the training out to the wider "
        "workforce as well as developing other toolkits, for example for domestic abuse, CSE, "
        "or mental health.",
        "Development of crisis intervention service. The analysis of CP plans has provided "
        "further evidence of the need to provide intensive support to families with complex "
        "needs where children are on the edge of care.",
        "Development of Pause programme to provide, bespoke, specialist interventions for "
        "women who have repeat removals of children from their care to support them to "
        "develop new skills and responses that would break the cycle and reduce the risks.",
        "Improve co-ordinate approach to achieve goals outlined in the child protection plan "
        "to improve the outcomes for children and families safely within a shorter period of "
        "time.",
    ),
    "KPI 2": (  # 4.3
        "Review each month the reason the visit not completed within timescales and how long "
        "out of timescales the visit has been completed to inform learning and understand "
        "potential risks to be managed.",
        "Obtain assurance from these reviews that the visits (unannounced) are being attempted "
        "within timescales but are failed due to the family not being present.",
        "Appropriately progress the case where the family are not engaging with visits or plan.",
        "Improve data recording issues with the use of data quality reports.",
        "Ensure visit compliance is not a performance issue linked with individuals or teams.",
    ),
    "MI 5.19": (  # 4.4
        "An audit was undertaken of those cases who became Looked After over an agree period "
        "to inform practice, provision of service and improvement activity.",
        "Development of crisis intervention service. The service will work intensively with "
        "families where there is a high risk of children becoming looked after, particularly "
        "children subject to CP plans where there are multiple risk factors and complex family "
        "dynamics. This approach would use evidence-based interventions tailored to a family's "
        "specific circumstances to address problems including domestic violence, parental "
        "substance misuse and poor physical and mental health.",
        "Exploring the use of short-notice legal gateway meetings to ensure legal advice and "
        "direction is clearly recorded and shared with Service Managers to facilitate robust "
        "gatekeeping of children and young people becoming or at risk of becoming Looked After.",
        "Development of Pause programme to provide, bespoke, specialist interventions for "
        "women who have repeat removals of children from their care to support them to "
        "develop new skills and responses that would break the cycle and reduce the risks.",
        "Working with the CCG to ensure that discharge plans for children detained under the "
        "Mental Health Act support children to be safely rehabilitated home, wherever possible.",
    ),
    "KPI 7": _YOUNG_PEOPLE_ACTIONS,  # 4.5
    "SM 7.1": _YOUNG_PEOPLE_ACTIONS,  # 4.6
    "SM 8.1": (  # 4.7
        "Understanding of cohort in terms of who is actually NEET.",
        "Ensure contacts are in time so the activity can be recognised.",
        "Managers in Next Steps working closely with the ELEET team to improve compliance, "
        "including regular performance monitoring meetings and a worker level tracker.",
    ),
}

# Owing a narrative but given no action by the report: today's submission check (R9) would
# refuse the return for these; the committee's return was signed off without them.
WITHOUT_ACTIONS = tuple(code for code in VARIANCE_REASONS if code not in ACTIONS)

_LONDON = ZoneInfo("Europe/London")
APRIL_RETURN_SIGN_OFF_REASON = (
    "Loaded from the April 2018 scrutiny-committee report "
    f"({REPORT}). The report gives no assurance or improvement actions for "
    f"{' or '.join(WITHOUT_ACTIONS)}, so this return would not pass today's submission check "
    "(R9 wants an action for every measure that misses target); it is kept as the committee "
    "saw it."
)
# (action, at, actor, from state, to state, reason). The dates are plausible for the April
# cycle, not from the report: opened by the scheduler when the month ended, submitted by
# the provider lead, signed off by the commissioner before the committee.
APRIL_RETURN_EVENTS: tuple[tuple[str, datetime, str | None, str, str, str], ...] = (
    (
        ReturnEvent.Action.OPEN,
        datetime(2018, 5, 1, 9, 0, tzinfo=_LONDON),
        None,
        "",
        ReturnState.DRAFT,
        "",
    ),
    (
        ReturnEvent.Action.SUBMIT,
        datetime(2018, 5, 10, 16, 0, tzinfo=_LONDON),
        "provider_lead",
        ReturnState.DRAFT,
        ReturnState.SUBMITTED,
        "",
    ),
    (
        ReturnEvent.Action.SIGN_OFF,
        datetime(2018, 5, 17, 12, 0, tzinfo=_LONDON),
        "commissioner",
        ReturnState.SUBMITTED,
        ReturnState.SIGNED_OFF,
        APRIL_RETURN_SIGN_OFF_REASON,
    ),
)

# --- loading ---------------------------------------------------------------------------


class _Writer:
    """Saves a row only when it is missing or a declared field differs, after full_clean().

    A row that differs from the demo is put back, unless the product's own rules refuse
    the change (an official figure changes only by reopening its return, R15; a target
    that official figures are rated against only by a revision, R16): then the row is
    kept as it is and the refusal is reported, never overridden.
    """

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.kept: list[str] = []

    @staticmethod
    def _same(obj: models.Model, field: str, wanted: Any) -> bool:
        if isinstance(wanted, models.Model):
            return getattr(obj, f"{field}_id") == wanted.pk
        return getattr(obj, field) == wanted

    def upsert(
        self,
        model: type[models.Model],
        lookup: dict[str, Any],
        values: dict[str, Any],
        *,
        on_create: dict[str, Any] | None = None,
    ) -> Any:
        """The row matching ``lookup``, with ``values``; ``on_create`` only for a new row
        (a callable there is called only then, so a password is hashed only when needed)."""
        obj = model._default_manager.filter(**lookup).first()
        name = str(model._meta.verbose_name_plural)
        if obj is None:
            extra = {f: v() if callable(v) else v for f, v in (on_create or {}).items()}
            obj = model(**lookup, **values, **extra)
            obj.full_clean()  # the demo's own data must be valid: let it raise
            obj.save()
            self.counts[(name, "created")] += 1
            return obj
        changed = {f: v for f, v in values.items() if not self._same(obj, f, v)}
        if not changed:
            self.counts[(name, "unchanged")] += 1
            return obj
        for field, value in changed.items():
            setattr(obj, field, value)
        try:
            obj.full_clean()
        except ValidationError as exc:
            obj.refresh_from_db()
            self.counts[(name, "kept")] += 1
            self.kept.append(f"{obj} ({', '.join(sorted(changed))}): {' '.join(exc.messages)}")
            return obj
        obj.save()
        self.counts[(name, "updated")] += 1
        return obj

    def keep(self, obj: models.Model, why: str) -> None:
        """Report a row left as it is because the product's rules refuse the change."""
        self.counts[(str(obj._meta.verbose_name_plural), "kept")] += 1
        self.kept.append(f"{obj}: {why}")

    def summary(self) -> list[str]:
        names = sorted({name for name, _ in self.counts})
        lines = []
        for name in names:
            parts = [
                f"{self.counts[(name, outcome)]} {outcome}"
                for outcome in ("created", "updated", "unchanged", "kept")
                if self.counts[(name, outcome)]
            ]
            lines.append(f"  {name}: {', '.join(parts)}")
        if self.kept:
            lines.append(
                "Kept as they are, differing from the demo (the product's rules refuse the change):"
            )
            lines.extend(f"  {line}" for line in self.kept)
        return lines


def _filled(spec: dict[str, Any], fields: tuple[str, ...], blank: dict[str, Any]) -> dict[str, Any]:
    """Every managed field, blank where the declaration leaves it out, so a rerun restores it."""
    return {f: copy.deepcopy(spec.get(f, blank.get(f))) for f in fields}


def load(stdout: TextIO | None = None) -> None:
    """Write the demonstration data; a second run changes nothing."""
    writer = _Writer()
    with transaction.atomic():
        orgs = {
            o["slug"]: writer.upsert(
                Organisation, {"slug": o["slug"]}, {"name": o["name"], "kind": o["kind"]}
            )
            for o in ORGANISATIONS
        }
        sets = {
            s["slug"]: writer.upsert(MeasureSet, {"slug": s["slug"]}, {"name": s["name"]})
            for s in MEASURE_SETS
        }
        contracts = {}
        for c in CONTRACTS:
            contracts[c["slug"]] = writer.upsert(
                Contract,
                {"slug": c["slug"]},
                {
                    "name": c["name"],
                    "commissioner": orgs[c["commissioner"]],
                    "provider": orgs[c["provider"]],
                    "start": c["start"],
                    "end": c["end"],
                    "measure_set": sets[c["measure_set"]],
                },
            )

        measures: dict[tuple[str, str], Measure] = {}
        for set_slug, specs in MEASURES.items():
            for order, spec in enumerate(specs, start=1):
                values = {**MEASURE_DEFAULTS, **spec, "display_order": order}
                code = values.pop("code")
                measures[(set_slug, code)] = writer.upsert(
                    Measure, {"measure_set": sets[set_slug], "code": code}, values
                )

        for set_slug, code, spec in TARGETS:
            writer.upsert(
                Target,
                {
                    "measure": measures[(set_slug, code)],
                    "valid_from": spec.get("valid_from", FROM_2017),
                },
                _filled(spec, TARGET_FIELDS, {"tolerance_unit": "", "note": TARGET_NOTE}),
            )

        blank_observation = {
            "source": REPORT,
            "flags": [],
            "note": "",
            "second_source": "",
            "is_official": True,
        }
        for set_slug, code, period, spec in OBSERVATIONS:
            lookup = {"measure": measures[(set_slug, code)], "period": period}
            # A figure in a return that is open again (reopened, R15) is the provider's to
            # change through the workflow: the demo neither restores it nor makes it official.
            reopened = (
                Observation.objects.filter(**lookup, entry__isnull=False)
                .exclude(entry__monthly_return__state=ReturnState.SIGNED_OFF)
                .first()
            )
            if reopened is not None:
                writer.keep(
                    reopened,
                    "its return is open again; it changes only through the workflow (R15).",
                )
                continue
            writer.upsert(Observation, lookup, _filled(spec, OBSERVATION_FIELDS, blank_observation))

        for set_slug, code, spec in DATA_GAPS:
            writer.upsert(
                DataGap,
                {"measure": measures[(set_slug, code)], "start": spec["start"]},
                {"end": spec["end"], "reason": spec["reason"]},
            )
        for set_slug, code, spec in SERIES_BREAKS:
            writer.upsert(
                SeriesBreak,
                {"measure": measures[(set_slug, code)], "from_period": spec["from_period"]},
                {"reason": spec["reason"]},
            )
        for set_slug, code, group, period, spec in COMPARATORS:
            writer.upsert(
                Comparator,
                {"measure": measures[(set_slug, code)], "group": group, "period": period},
                {
                    "value": spec["value"],
                    "source": spec.get("source", COMPARATOR_SOURCE),
                    "comparable": spec.get("comparable", True),
                    "note": spec.get("note", ""),
                },
            )

        users = _load_users(writer, orgs)
        _load_retained(writer, orgs[RETAINED_COUNCIL], users[RETAINED_OFFICER])
        _load_april_return(writer, contracts[APRIL_RETURN_CONTRACT], users)

    if stdout is not None:
        stdout.write("Demo data loaded:\n" + "\n".join(writer.summary()) + "\n")


def _load_users(writer: _Writer, orgs: dict[str, Organisation]) -> dict[str, Any]:
    User = get_user_model()
    users = {}
    for username, org_slug, role, _ in USERS:
        is_superuser = username in SUPERUSERS
        user = writer.upsert(
            User,
            {"username": username},
            {"is_active": True, "is_staff": is_superuser, "is_superuser": is_superuser},
            # The password is set only when the user is created: a second run (or a
            # password someone has since changed) is left alone.
            on_create={"password": lambda: make_password(DEMO_PASSWORD)},
        )
        writer.upsert(Membership, {"user": user}, {"organisation": orgs[org_slug], "role": role})
        if username in TOTP_SECRETS:
            writer.upsert(
                TOTPDevice,
                {"user": user, "name": "Demo authenticator"},
                {"key": b32decode(TOTP_SECRETS[username]).hex(), "confirmed": True},
            )
        users[username] = user
    return users


def _load_retained(writer: _Writer, council: Organisation, officer: Any) -> None:
    def dataset(kind: str, year: str) -> Dataset:
        return writer.upsert(
            Dataset,
            {"council": council, "kind": kind, "year": year},
            {"is_final": True, "finalised_by": officer, "note": RETAINED_NOTES[kind]},
            on_create={"finalised_at": timezone.now},
        )

    for year, phases in ADMISSIONS.items():
        ds = dataset(Dataset.Kind.ADMISSIONS, year)
        for phase, spec in phases.items():
            writer.upsert(
                AdmissionsFigure,
                {"dataset": ds, "phase": phase},
                _filled(spec, ADMISSIONS_FIELDS, {}),
            )
    for year, terms in EHE.items():
        ds = dataset(Dataset.Kind.EHE, year)
        for term, spec in terms.items():
            writer.upsert(
                EHEFigure, {"dataset": ds, "term": term}, _filled(spec, EHE_FIELDS, {"note": ""})
            )


def _load_april_return(writer: _Writer, contract: Contract, users: dict[str, Any]) -> None:
    """The April 2018 return as the committee saw it: signed off, its entries, actions and
    events (open, submit, sign off).

    A return changes only through ``contracts.workflow``: once its events are anything but
    the demo's three (it was reopened, say), it is kept as it is and reported, never put
    back (R15). Until then a rerun restores any field that differs, like every other row.
    """
    month = periods.month(*APRIL_RETURN_MONTH)
    existing = MonthlyReturn.objects.filter(contract=contract, period=month.label).first()
    wanted_events = [action for action, *_ in APRIL_RETURN_EVENTS]
    if existing is not None:
        events = list(existing.events.order_by("at", "pk").values_list("action", flat=True))
        if events != wanted_events:
            writer.keep(
                existing,
                f"its events ({', '.join(events) or 'none'}) differ from the demo's "
                f"({', '.join(wanted_events)}); a return changes only through the workflow (R15).",
            )
            return
    monthly_return = writer.upsert(
        MonthlyReturn,
        {"contract": contract, "period": month.label},
        {"period_start": month.start, "period_end": month.end, "state": ReturnState.SIGNED_OFF},
    )
    for measure, covered in workflow.due_measures(contract, month):
        code = measure.code
        observation = Observation.objects.filter(measure=measure, period=covered.label).first()
        if observation is None and code not in NO_DATA_REASONS:
            raise ValueError(
                f"Demo data: {code} is due in {month.label} with no figure and no reason."
            )
        entry = writer.upsert(
            Entry,
            {"monthly_return": monthly_return, "measure": measure},
            {
                "period": covered.label,
                "observation": observation,
                "variance_reason": VARIANCE_REASONS.get(code, ""),
                "no_data_reason": NO_DATA_REASONS.get(code, ""),
            },
        )
        for description in ACTIONS.get(code, ()):
            writer.upsert(
                Action,
                {"entry": entry, "description": description},
                {"owner": "", "due_date": None, "recorded_without_owner": True},
            )
    for action, at, actor, from_state, to_state, reason in APRIL_RETURN_EVENTS:
        writer.upsert(
            ReturnEvent,
            {"monthly_return": monthly_return, "action": action},
            {
                "at": at,
                "actor": users[actor] if actor else None,
                "from_state": from_state,
                "to_state": to_state,
                "reason": reason,
                "detail": {"source": REPORT},
            },
        )
