"""Issue 7's acceptance: a contract's monthly measure of 24 figures, imported from a
spreadsheet through ``import_data`` and accepted by a commissioner, shows the expected
statistical process control signals and assurance in the API (scorecard and series), on
the measure page, the dashboard and the scorecard page, and in the committee report (HTML,
PDF and Word).

The figures, and what Making Data Count (kpis.spc's defaults: limits fixed on the first 20
values, runs of 7) says of them, worked by hand:

    v1..v14  (May 2016 to June 2017):  91, 88, 91, 88, ... (alternating, v14 = 88)
    v15..v24 (July 2017 to April 2018): 92, 93, 92, 93, ... (alternating, v24 = 93)

* Baseline: the first 20 values. Sum = 7 x 91 + 7 x 88 + 3 x 92 + 3 x 93 = 1808, so the
  mean is 90.4.
* Moving ranges within them: 13 of 3 (v1..v14), 4 (88 to 92), 5 of 1 (v15..v20): 48 over
  19 ranges, MR-bar = 48/19, and 2.66 x MR-bar = 127.68/19 = 6.72 exactly.
* Process limits 90.4 +/- 6.72 = 83.68 to 97.12, fixed (24 values >= 20); two-sigma lines
  90.4 +/- 4.48 = 85.92 to 94.88.
* No value lies beyond a limit (all are 88 to 93) or beyond a two-sigma line (88 > 85.92,
  93 < 94.88): no beyond-limit and no two-of-three signal. v1..v14 alternate either side
  of the mean and no more than three values rise in a row: no trend.
* v15..v24 all lie above 90.4 (v14 = 88 lies below): ONE shift, high, covering the ten
  months July 2017 to April 2018; higher is better, so special cause improving. The
  latest value is part of it: variation ``special_cause_improving``.
* Target 83, tolerance floor 78: the lower limit 83.68 is at or above both, so assurance
  ``consistently_passing`` and tolerance assurance ``consistently_within``.
"""

from __future__ import annotations

import io
import re
import subprocess
from decimal import Decimal

import openpyxl
import pytest
from docx import Document

from kpis import periods
from tests.reports.helpers import require_pdf_tools
from tests.spc_integration.conftest import FIRST, SHIFT_PERIODS, VALUES

pytestmark = pytest.mark.django_db

def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_scorecard_api_gives_the_variation_and_assurance(client, imported):
    contract, _, reader = imported
    client.force_login(reader)
    body = client.get(f"/api/v1/contracts/{contract.slug}/scorecard/?period=2018-04").json()
    (row,) = body["results"]
    assert (row["code"], row["value"], row["status"]) == ("KPI 9", "93", "on_target")
    assert row["variation"] == "special_cause_improving"
    assert row["assurance"] == "consistently_passing"
    assert row["tolerance_assurance"] == "consistently_within"


def test_the_series_endpoint_gives_the_limits_and_the_one_signal(client, imported):
    contract, _, reader = imported
    client.force_login(reader)
    response = client.get(f"/api/v1/contracts/{contract.slug}/measures/kpi-9/series/?period=2018-04")
    assert response.status_code == 200
    body = response.json()
    assert (body["variation"], body["assurance"], body["tolerance_assurance"]) == (
        "special_cause_improving", "consistently_passing", "consistently_within",
    )
    assert body["charted"] is True
    assert (body["shift_points"], body["minimum_points"], body["baseline_points"]) == (7, 12, 20)
    # The limits worked by hand in the module docstring, exact.
    limits = body["limits"]
    assert (limits["mean"], limits["upper"], limits["lower"]) == ("90.4", "97.12", "83.68")
    assert (limits["upper_two_sigma"], limits["lower_two_sigma"]) == ("94.88", "85.92")
    assert Decimal(limits["mean_moving_range"]) == Decimal(48) / Decimal(19)
    assert (limits["points"], limits["moving_ranges"], limits["provisional"]) == (20, 19, False)

    points = body["points"]
    assert [p["period"] for p in points] == [periods.add_months(FIRST, i).label for i in range(24)]
    assert [Decimal(p["value"]) for p in points] == [Decimal(v) for v in VALUES]
    assert {p["status"] for p in points} == {"on_target"}
    assert points[0]["moving_range"] is None and points[1]["moving_range"] == "3"
    assert points[14]["moving_range"] == "4"
    assert [p["variation"] for p in points[:14]] == ["common_cause"] * 14
    assert [p["variation"] for p in points[14:]] == ["special_cause_improving"] * 10

    assert body["signals"] == [
        {
            "rule": "shift",
            "side": "high",
            "variation": "special_cause_improving",
            "segment": 0,
            "periods": SHIFT_PERIODS,
            "points": list(range(14, 24)),
        }
    ]
    assert [p["signals"] for p in points[14:]] == [[0]] * 10
    (segment,) = body["segments"]
    assert (segment["starts"], segment["from_period"], segment["to_period"]) == ("start", "2016-05", "2018-04")
    assert segment["limits"] == limits and segment["judged_by"] == 0
    assert body["changes"] == []


def test_the_measure_page_charts_and_words_the_signal(client, imported):
    contract, _, reader = imported
    client.force_login(reader)
    response = client.get(f"/contracts/{contract.slug}/measures/kpi-9/?period=2018-04")
    assert response.status_code == 200
    html = response.content.decode()
    text = text_of(html)
    # The chart: mean, fixed (solid) limits, the signal points marked by shape and colour,
    # all in its legend; its text alternative names the variation and the signals.
    chart = response.context["chart"]["spc"]
    assert [(line["mean"], line["lower"], line["upper"], line["provisional"]) for line in chart["lines"]] == [
        (90.4, 83.68, 97.12, False)
    ]
    assert len(chart["signals"]) == 10
    assert {s["variation"] for s in chart["signals"]} == {"special_cause_improving"}
    for legend in ("Mean", "Process limits", "Special cause: improving"):
        assert f">{legend}<" in html
    assert "Process limits (provisional)" not in html
    assert "Variation: Special cause improving." in text
    # In words beside the chart.
    assert "Ten months in a row above the average (July 2017 to April 2018): a real improvement, not chance." in text
    assert "Consistently passing" in text and "Consistently within tolerance" in text
    assert "The process limits sit wholly above the target: it will be met consistently." in text
    assert "Mean 90.4%, process limits 83.7% to 97.1% (fixed on 20 figures)" in text
    # The drafted commentary says it in plain words.
    drafted = response.context["commentary"]["drafted"]
    assert "Ten months in a row above the average (July 2017 to April 2018): a real improvement, not chance." in drafted
    assert "The process limits sit wholly above the target: it will be met consistently." in drafted


def test_the_dashboard_and_scorecard_show_the_icons_with_words(client, imported):
    contract, _, reader = imported
    client.force_login(reader)
    for url in (
        f"/contracts/{contract.slug}/dashboard/?period=2018-04",
        f"/contracts/{contract.slug}/scorecard/?period=2018-04",
    ):
        html = client.get(url).content.decode()
        assert 'class="app-spc__icon app-spc__icon--special-cause-improving"' in html
        assert 'aria-hidden="true"' in html
        assert "Special cause improving" in text_of(html)
        assert 'app-spc__icon--consistently-passing' in html and "Consistently passing" in html
        assert 'app-spc__icon--consistently-within' in html
        assert "Consistently within tolerance" in html
    # The scorecard's Excel says the same in words.
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(f"/contracts/{contract.slug}/scorecard.xlsx?period=2018-04").content))
    headings = [c.value for c in workbook.active[4]]
    row = dict(zip(headings, next(workbook.active.iter_rows(min_row=5, values_only=True)), strict=True))
    assert (row["Variation"], row["Assurance against the target"], row["Assurance against the tolerance"]) == (
        "Special cause improving", "Consistently passing", "Consistently within tolerance",
    )


def test_the_report_states_the_variation_and_assurance_in_html_pdf_and_word(client, imported, tmp_path):
    contract, commissioner, reader = imported
    client.force_login(reader)
    html = client.get(f"/reports/{contract.slug}/2018-04/").content.decode()
    text = text_of(html)
    assert "KPI 9: statistical process control (Making Data Count)" in text
    assert "Special cause improving" in text and "Consistently passing" in text
    assert "Ten months in a row above the average (July 2017 to April 2018): a real improvement, not chance." in text

    client.force_login(commissioner)
    draft = text_of(client.get(f"/reports/{contract.slug}/2018-04/?draft=1").content.decode())
    assert "Drafted from the figures, not yet reviewed:" in draft
    assert "The process limits sit wholly above the target: it will be met consistently." in draft

    require_pdf_tools()
    client.force_login(reader)
    pdf = client.get(f"/reports/{contract.slug}/2018-04/?format=pdf")
    assert pdf.status_code == 200
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf.content)
    pdf_text = " ".join(
        subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout.split()
    )
    assert "statistical process control (Making Data Count)" in pdf_text
    assert "Special cause improving" in pdf_text
    assert "Consistently passing" in pdf_text and "Consistently within tolerance" in pdf_text
    assert "Ten months in a row above the average (July 2017 to April 2018): a real improvement, not chance." in pdf_text

    docx = client.get(f"/reports/{contract.slug}/2018-04/?format=docx")
    doc = Document(io.BytesIO(docx.content))
    cells = " ".join(cell.text for table in doc.tables for row in table.rows for cell in row.cells)
    assert "Special cause improving. The latest figure is part of a signal: a real improvement, not chance." in cells
    assert "Consistently passing. The process limits sit wholly above the target" in cells
