"""The contract dashboard, a measure's page and the scorecard as Excel, through the test
client."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from reports.models import MeasureCommentary
from tests.factories import ObservationFactory

pytestmark = pytest.mark.django_db


def dashboard(client, user, query: str = "period=2018-04"):
    client.force_login(user)
    return client.get(f"/contracts/contract-a/dashboard/?{query}")


def test_the_dashboard_shows_every_measure_with_its_verdict_in_words_colour_and_icon(client, alice):
    response = dashboard(client, alice)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Dashboard for Children&#x27;s services A, April 2018</caption>" in html
    assert (
        '<strong class="govuk-tag govuk-tag--yellow app-verdict"><span class="app-verdict__icon" '
        'aria-hidden="true">!</span> Within tolerance</strong>'
    ) in html
    assert 'aria-hidden="true">✗</span> Outside tolerance</strong>' in html
    assert 'aria-hidden="true">–</span> Not rated</strong>' in html
    assert "95%, tolerance from 85%" in html
    assert "Since the previous figure: Worsening" in html  # KPI 1: 95.3 -> 92.1
    assert "Since a year earlier: Improving" in html  # KPI 1: 88 -> 92.1
    assert 'href="/contracts/contract-a/measures/kpi-1/?period=2018-04"' in html


def test_the_dashboard_counts_measures_by_verdict(client, alice):
    counts = {c.words: c.count for c in dashboard(client, alice).context["counts"]}
    assert counts == {"Within tolerance": 1, "Outside tolerance": 1, "Not rated": 1}


def test_the_dashboard_draws_a_trend_line_per_measure(client, alice):
    html = dashboard(client, alice).content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="app-sparkline"' in html
    assert (
        '<title id="spark-kpi-1-title">Trend of KPI 1: 4 figures from April 2017 to April 2018, '
        "latest 92.1%</title>"
    ) in html


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("kind=mi", ["MI 1"]),
        ("kind=kpi", ["KPI 1", "KPI 2"]),
        ("verdict=within_tolerance", ["KPI 1"]),
        ("kind=kpi&verdict=not_rated", []),
    ],
)
def test_the_dashboard_filters_by_kind_and_verdict(client, alice, query, codes):
    response = dashboard(client, alice, f"period=2018-04&{query}")
    assert [d.line.row.measure.code for d in response.context["lines"]] == codes
    # The counts at the top are of every measure, not only those shown.
    assert sum(c.count for c in response.context["counts"]) == 3


@pytest.mark.parametrize("query", ["period=2018-13", "kind=nonsense", "verdict=green"])
def test_a_bad_filter_is_a_400_with_an_error_summary(client, alice, query):
    response = dashboard(client, alice, query)
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()


def test_a_draft_figure_shows_only_to_those_who_may_see_drafts(client, alice, rita):
    html = dashboard(client, alice, "period=2018-05").content.decode()
    assert "70.0%" in html and "<li>Draft</li>" in html
    html = dashboard(client, rita, "period=2018-05").content.decode()
    assert "70.0%" not in html and "Draft" not in html


def test_the_provider_of_another_contract_gets_a_404(client, oscar, contract_a):
    assert dashboard(client, oscar).status_code == 404
    client.force_login(oscar)
    assert client.get("/contracts/contract-a/measures/kpi-1/").status_code == 404
    assert client.get("/contracts/contract-a/scorecard.xlsx").status_code == 404


# --- a measure's page --------------------------------------------------------------------


def measure_page(client, user, slug="kpi-1", period="2018-04"):
    client.force_login(user)
    return client.get(f"/contracts/contract-a/measures/{slug}/?period={period}")


def test_the_measure_page_draws_the_history_and_tabulates_it(client, alice):
    html = measure_page(client, alice).content.decode()
    assert '<svg role="img" aria-labelledby="chart-kpi-1-title chart-kpi-1-desc"' in html
    assert "Figures for KPI 1, latest first</caption>" in html
    # Newest first; a gap between April 2017 and February 2018 stays a gap in the chart.
    assert html.index(">April 2018<") < html.index(">March 2018<") < html.index(">April 2017<")
    assert "The line is broken where figures are missing or not comparable." in html
    assert "Targets over the years" in html and "Until further notice" in html


def test_an_unknown_measure_is_not_found(client, alice):
    assert measure_page(client, alice, slug="kpi-99").status_code == 404


def test_the_measure_page_shows_the_drafted_commentary_marked_as_drafted(client, alice):
    html = measure_page(client, alice).content.decode()
    assert '<strong class="govuk-tag govuk-tag--grey">Drafted</strong>' in html
    assert (
        "In April 2018 the figure was 92.1%. This is down 3.2 percentage points on the previous "
        "figure, 95.3% in March 2018."
    ) in html
    assert "Compared with April 2017 (88.0%), it is up 4.1 percentage points." in html


def test_accepting_the_draft_records_who_and_when(client, alice):
    client.force_login(alice)
    response = client.post(
        "/contracts/contract-a/measures/kpi-1/commentary/",
        {"period": "2018-04", "decision": "accept", "text": "ignored"},
    )
    assert response.status_code == 302
    stored = MeasureCommentary.objects.get(measure__code="KPI 1", period="2018-04")
    assert stored.state == "accepted"
    assert stored.reviewed_by == alice
    assert stored.text == stored.drafted_text
    assert stored.text.startswith("In April 2018 the figure was 92.1%.")
    html = measure_page(client, alice).content.decode()
    assert "Accepted as drafted</strong> by alice" in html


def test_an_edited_commentary_is_kept_and_flagged_when_the_figures_change(client, adam, contract_a):
    client.force_login(adam)
    client.post(
        "/contracts/contract-a/measures/kpi-1/commentary/",
        {"period": "2018-04", "decision": "edit", "text": "Referrals slowed in April."},
    )
    stored = MeasureCommentary.objects.get(measure__code="KPI 1", period="2018-04")
    assert (stored.state, stored.text, stored.reviewed_by) == ("edited", "Referrals slowed in April.", adam)
    kpi1 = contract_a.measure_set.measures.get(code="KPI 1")
    ObservationFactory(measure=kpi1, period="2018-01", value=Decimal("97"))
    html = measure_page(client, adam).content.decode()
    assert "Referrals slowed in April." in html
    assert "The figures have changed since this commentary was reviewed." in html


def test_an_empty_edit_is_refused(client, alice):
    client.force_login(alice)
    response = client.post(
        "/contracts/contract-a/measures/kpi-1/commentary/",
        {"period": "2018-04", "decision": "edit", "text": "  "},
    )
    assert response.status_code == 400
    assert "Enter the commentary, or accept the drafted one." in response.content.decode()
    assert not MeasureCommentary.objects.exists()


@pytest.mark.parametrize("who", ["rita", "pat"])
def test_readers_and_the_provider_may_not_review_commentary(client, request, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    response = client.post(
        "/contracts/contract-a/measures/kpi-1/commentary/", {"period": "2018-04", "decision": "accept"}
    )
    assert response.status_code == 403
    assert "Save edited commentary" not in measure_page(client, user).content.decode()


# --- the scorecard as Excel ---------------------------------------------------------------


def test_the_scorecard_as_excel(client, alice):
    client.force_login(alice)
    response = client.get("/contracts/contract-a/scorecard.xlsx?period=2018-04")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="contract-a-scorecard-2018-04.xlsx"'
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = {r[0]: r for r in ws.iter_rows(min_row=5, values_only=True)}
    kpi1 = rows["KPI 1"]
    assert kpi1[6] == pytest.approx(92.1)
    assert kpi1[7] == "92.1%"
    assert kpi1[10] == "95%, tolerance from 85%"
    assert kpi1[14] == "Within tolerance"
    assert rows["MI 1"][14] == "Not rated"


def test_excel_never_turns_text_into_a_formula(client, alice, contract_a):
    kpi2 = contract_a.measure_set.measures.get(code="KPI 2")
    kpi2.title = '=HYPERLINK("http://evil.example","click")'
    kpi2.save()
    client.force_login(alice)
    content = client.get("/contracts/contract-a/scorecard.xlsx?period=2018-04").content
    ws = load_workbook(io.BytesIO(content)).active
    cell = next(r[1] for r in ws.iter_rows(min_row=5) if r[0].value == "KPI 2")
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://evil.example","click")'
    assert cell.quotePrefix
    assert b"<f>" not in content and b"HYPERLINK" not in _sheet_formulas(content)


def _sheet_formulas(content: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    return b"".join(part.split(b"</f>")[0] for part in sheet.split(b"<f>")[1:])


def test_excel_takes_only_a_month(client, alice):
    client.force_login(alice)
    assert client.get("/contracts/contract-a/scorecard.xlsx?period=2018").status_code == 400
