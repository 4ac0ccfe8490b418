"""The entry page through the test client: entering a figure, its narrative and actions,
the verdict as it is typed (htmx), bad input, and two people saving at once (R2, R6, R9)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from contracts import workflow
from contracts.models import Action, ReturnState
from kpis.models import Observation
from tests.factories import ObservationFactory
from tests.returns_pages.conftest import DUE, error_summary, everything, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(cast):
    return workflow.open_return(cast.own, "2018-04")


@pytest.fixture
def kpi1(draft):
    return draft.entries.get(measure__code="KPI 1")


def page_url(entry) -> str:
    return f"/returns/{entry.monthly_return_id}/entries/{entry.pk}/"


def form(entry, **typed) -> dict:
    """The entry form as a browser sends it: every field, blank unless typed."""
    data = {
        "version": entry.version,
        "value": "",
        "numerator": "",
        "denominator": "",
        "as_at": "",
        "note": "",
        "second_value": "",
        "second_source": "",
        "variance_reason": "",
        "no_data_reason": "",
        "reason": "",
        "action-1-description": "",
        "action-1-owner": "",
        "action-1-due_date": "",
    }
    data.update({k.replace("__", "-"): v for k, v in typed.items()})
    return data


# --- reading the page ------------------------------------------------------------------


def test_the_page_shows_the_measure_its_target_and_last_periods_value(client, cast, kpi1):
    ObservationFactory(measure=kpi1.measure, period="2018-03", value=Decimal("91"))
    response = signed_in(client, cast["provider_editor"]).get(page_url(kpi1))
    html = response.content.decode()
    assert response.status_code == 200
    assert "KPI 1: Assessments within 45 days" in html
    assert "95%, tolerance from 85%" in html
    assert "Higher is better" in html
    assert "91.0% for 2018-03" in html
    assert f'name="version" value="{kpi1.version}"' in html
    # The verdict is recomputed as they type, without saving.
    verdict_url = f"{page_url(kpi1)}verdict/"
    assert f'hx-post="{verdict_url}" hx-trigger="input changed delay:300ms"' in html
    assert 'id="verdict-result" aria-live="polite"' in html
    for name in (
        "value",
        "numerator",
        "denominator",
        "as_at",
        "note",
        "second_value",
        "second_source",
    ):
        assert f'id="{name}" name="{name}"' in html
    for flag in ("gap", "provisional", "illustrative", "second_source_disagrees"):
        assert f'value="{flag}"' in html
    assert 'name="action-1-description"' in html and "Add another action" in html


# --- the verdict as they type ----------------------------------------------------------


@pytest.mark.parametrize(
    "typed, words, value",
    [
        ({"value": "92.1"}, "Within tolerance", "92.1%"),
        ({"numerator": "921", "denominator": "1000"}, "Within tolerance", "92.1%"),
        ({"value": "95"}, "On target", "95.0%"),
        ({"value": "84.9"}, "Outside tolerance", "84.9%"),
        ({"value": "94.96"}, "Within tolerance", "94.96%"),  # R2: never "95.0%" beside a miss
        ({"value": "92", "numerator": "50", "denominator": "100"}, "Cannot rate", "50.0%"),
        ({}, "No data", "—"),
    ],
)
def test_the_verdict_partial_rates_what_is_typed_without_saving(
    client, cast, kpi1, typed, words, value
):
    before = everything()
    response = signed_in(client, cast["provider_editor"]).post(f"{page_url(kpi1)}verdict/", typed)
    html = response.content.decode()
    assert response.status_code == 200
    assert f">{words}</strong>" in html
    assert f'<dd class="govuk-summary-list__value">{value}' in html
    assert "<html" not in html  # a fragment, not a page
    assert everything() == before


def test_the_partial_gives_the_engines_reason_and_what_the_verdict_owes(client, cast, kpi1):
    signed_in(client, cast["provider_editor"])
    html = client.post(f"{page_url(kpi1)}verdict/", {"value": "92.1"}).content.decode()
    assert (
        "92.1% is not meeting target but within tolerance (target 95%, tolerance from 85%)." in html
    )
    assert "the reason for the variance: <strong>still needed</strong>" in html
    assert "with an owner and a due date: <strong>still needed</strong>" in html

    html = client.post(
        f"{page_url(kpi1)}verdict/",
        form(
            kpi1,
            value="92.1",
            variance_reason="Late referrals.",
            action__1__description="Triage",
            action__1__owner="Head of MASH",
            action__1__due_date="30/6/2018",
        ),
    ).content.decode()
    assert "the reason for the variance: <strong>given</strong>" in html
    assert "with an owner and a due date: <strong>given</strong>" in html

    html = client.post(f"{page_url(kpi1)}verdict/", {"value": "96"}).content.decode()
    assert "This verdict needs no exception narrative." in html
    html = client.post(f"{page_url(kpi1)}verdict/", {}).content.decode()
    assert "the reason there is no figure: <strong>still needed</strong>" in html


def test_the_partial_names_a_number_it_cannot_read(client, cast, kpi1):
    html = (
        signed_in(client, cast["provider_editor"])
        .post(f"{page_url(kpi1)}verdict/", {"value": "92,1"})
        .content.decode()
    )
    assert "Value: ‘92,1’ is not a number" in html
    assert ">No data</strong>" in html


def test_the_partial_is_for_those_who_enter_figures(client, cast, kpi1):
    assert (
        signed_in(client, cast["commissioner"]).post(f"{page_url(kpi1)}verdict/", {}).status_code
        == 403
    )
    assert (
        signed_in(client, cast["reader"]).post(f"{page_url(kpi1)}verdict/", {}).status_code == 404
    )


# --- saving ----------------------------------------------------------------------------


def test_saving_a_figure_narrative_and_action(client, cast, kpi1):
    response = signed_in(client, cast["provider_editor"]).post(
        page_url(kpi1),
        form(
            kpi1,
            numerator="921",
            denominator="1000",
            as_at="2018-04-30",
            flags=["provisional"],
            note="From the case system.",
            second_value="92",
            second_source="Audit sample",
            variance_reason="Late referrals from partners.",
            action__1__description="Process maps",
            action__1__owner="Head of MASH",
            action__1__due_date="30/6/2018",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == f"/returns/{kpi1.monthly_return_id}/#entry-{kpi1.pk}"
    kpi1.refresh_from_db()
    obs = kpi1.observation
    assert (obs.value, obs.numerator, obs.denominator) == (None, Decimal("921"), Decimal("1000"))
    assert (obs.as_at, obs.flags, obs.note) == (
        dt.date(2018, 4, 30),
        ["provisional"],
        "From the case system.",
    )
    assert (obs.second_value, obs.second_source) == (Decimal("92"), "Audit sample")
    assert kpi1.variance_reason == "Late referrals from partners."
    assert kpi1.version == 2 and kpi1.updated_by == cast["provider_editor"]
    action = Action.objects.get()
    assert (action.description, action.owner, action.due_date) == (
        "Process maps",
        "Head of MASH",
        DUE,
    )
    page = client.get(f"/returns/{kpi1.monthly_return_id}/").content.decode()
    assert "KPI 1 is saved." in page and "Value: 92.1%." in page


def test_bad_input_is_named_with_what_was_typed_and_nothing_is_saved(client, cast, kpi1):
    before = everything()
    response = signed_in(client, cast["provider_editor"]).post(
        page_url(kpi1),
        form(
            kpi1,
            value="92,1",
            denominator="1e3",
            as_at="31/02/2018",
            variance_reason="Typed before the mistake.",
            action__1__description="Process maps",
            action__1__due_date="next week",
        ),
    )
    assert response.status_code == 400
    assert error_summary(response) == [
        "Value: ‘92,1’ is not a number: write digits with an optional minus sign and decimal "
        "point, for example 92.5 (no commas, spaces or % signs).",
        "Denominator: ‘1e3’ is not a number: write digits with an optional minus sign and "
        "decimal point, for example 92.5 (no commas, spaces or % signs).",
        "As at: ‘31/02/2018’ is not a date: write it as 30/4/2018 or 2018-04-30.",
        "Action 1: ‘next week’ is not a date: write it as 30/4/2018 or 2018-04-30.",
    ]
    html = response.content.decode()
    for kept in ('value="92,1"', 'value="1e3"', 'value="31/02/2018"', 'value="next week"'):
        assert kept in html
    assert ">Typed before the mistake.</textarea>" in html and ">Process maps</textarea>" in html
    assert 'href="#value"' in html and 'href="#action-1-due_date"' in html
    assert 'class="govuk-input govuk-input--width-10 govuk-input--error" id="value"' in html
    assert everything() == before


def test_an_action_without_an_owner_is_refused_beside_the_owner(client, cast, kpi1):
    before = everything()
    response = signed_in(client, cast["provider_editor"]).post(
        page_url(kpi1),
        form(
            kpi1,
            value="92.1",
            action__1__description="Process maps",
            action__1__due_date="2018-06-30",
        ),
    )
    assert response.status_code == 400
    assert error_summary(response) == ["Action 1: This action on KPI 1 needs an owner."]
    html = response.content.decode()
    assert 'href="#action-1-owner"' in html
    assert 'value="92.1"' in html and 'value="2018-06-30"' in html
    assert everything() == before


def test_a_figure_that_contradicts_itself_is_refused_with_the_engines_words(client, cast, kpi1):
    response = signed_in(client, cast["provider_editor"]).post(
        page_url(kpi1), form(kpi1, value="92", numerator="50", denominator="100")
    )
    assert response.status_code == 400
    (message,) = error_summary(response)
    assert message.startswith(
        "Value: KPI 1: the value 92 disagrees with its numerator and denominator"
    )
    assert not Observation.objects.exists()


def test_adding_and_removing_action_rows_saves_nothing(client, cast, kpi1):
    before = everything()
    signed_in(client, cast["provider_editor"])
    response = client.post(
        page_url(kpi1),
        {**form(kpi1, value="92.1", action__1__description="First"), "add_action": "1"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Action 2 (new)" in html and 'name="action-2-description"' in html
    assert ">First</textarea>" in html and 'value="92.1"' in html
    response = client.post(
        page_url(kpi1),
        {
            **form(kpi1, action__1__description="First", action__2__description="Second"),
            "remove_action": "1",
        },
    )
    html = response.content.decode()
    assert ">First</textarea>" not in html and ">Second</textarea>" in html
    assert everything() == before


def test_a_saved_action_is_removed_by_ticking_its_box(client, cast, kpi1):
    workflow.save_entry(
        kpi1.pk,
        cast["provider_editor"],
        version=1,
        figures={"value": Decimal("92.1")},
        actions=[{"description": "Triage", "owner": "Head of MASH", "due_date": DUE}],
    )
    action = Action.objects.get()
    kpi1.refresh_from_db()
    html = signed_in(client, cast["provider_editor"]).get(page_url(kpi1)).content.decode()
    assert (
        f'name="action-1-id" value="{action.pk}"' in html and "Remove action 1 when I save" in html
    )
    response = client.post(
        page_url(kpi1),
        form(
            kpi1,
            value="92.1",
            action__1__id=str(action.pk),
            action__1__description="Triage",
            action__1__owner="Head of MASH",
            action__1__due_date="2018-06-30",
            action__1__delete="1",
        ),
    )
    assert response.status_code == 302
    assert not Action.objects.exists()


# --- two people at once ----------------------------------------------------------------


def test_a_stale_save_shows_both_versions_and_keeps_what_was_typed(client, cast, kpi1):
    # The lead opened the page at version 1; meanwhile the editor saved 92.1.
    workflow.save_entry(
        kpi1.pk, cast["provider_editor"], version=1, figures={"value": Decimal("92.1")}
    )
    before = everything()
    signed_in(client, cast["provider_lead"])
    typed = form(
        kpi1,
        value="93",
        variance_reason="My reason, typed at length.",
        action__1__description="My action",
        action__1__owner="Me",
        action__1__due_date="2018-06-30",
    )
    typed["version"] = "1"
    response = client.post(page_url(kpi1), typed)

    assert response.status_code == 409
    (message,) = error_summary(response)
    assert message.startswith("KPI 1 was changed by provider_editor while you were editing it.")
    assert everything() == before  # nothing of theirs was saved
    html = response.content.decode()
    table = html[html.find('id="conflict"') : html.find("</table>", html.find('id="conflict"'))]
    assert "Changed meanwhile: saved by provider_editor" in table
    value_row = table[table.find(">Value</th>") : table.find("</tr>", table.find(">Value</th>"))]
    assert '<td class="govuk-table__cell" data-saved>92.1</td>' in value_row
    assert '<td class="govuk-table__cell" data-yours>93</td>' in value_row
    assert "Differs" in value_row
    assert "My reason, typed at length." in table
    # The form keeps everything typed, now based on the saved version...
    form_html = html[html.find("<form") :]
    assert 'name="version" value="2"' in form_html
    assert (
        'id="value" name="value" type="text" inputmode="decimal" spellcheck="false" autocomplete="off" value="93"'
        in form_html
    )
    assert ">My reason, typed at length.</textarea>" in form_html
    assert ">My action</textarea>" in form_html and 'value="Me"' in form_html

    # ... so saving again replaces the saved version, knowingly.
    typed["version"] = "2"
    assert client.post(page_url(kpi1), typed).status_code == 302
    kpi1.refresh_from_db()
    assert kpi1.observation.value == Decimal("93") and kpi1.version == 3


# --- when the entry cannot change ------------------------------------------------------


def test_while_queried_only_the_queried_measure_can_change(client, cast):
    monthly_return = cast.return_in(cast.own, ReturnState.QUERIED)
    queried = monthly_return.entries.order_by("pk").first()
    other = monthly_return.entries.exclude(pk=queried.pk).get()
    signed_in(client, cast["provider_editor"])
    assert '<form method="post" action="' in client.get(page_url(queried)).content.decode()
    html = client.get(page_url(other)).content.decode()
    assert "Only the queried measures can be changed while the return is queried." in html
    assert 'name="version"' not in html

    before = everything()
    response = client.post(page_url(other), form(other, value="1"))
    assert response.status_code == 409
    assert error_summary(response) == [
        f"Only queried measures can change while the 2018-04 return is queried; "
        f"{other.measure.code} is not queried."
    ]
    assert everything() == before


def test_a_commissioner_reads_the_entry_and_may_not_save_it(client, cast, kpi1):
    workflow.save_entry(
        kpi1.pk,
        cast["provider_editor"],
        version=1,
        figures={"value": Decimal("92.1")},
        narrative={"variance_reason": "Late referrals."},
        actions=[{"description": "Triage", "owner": "Head of MASH", "due_date": DUE}],
    )
    kpi1.refresh_from_db()
    signed_in(client, cast["commissioner"])
    html = client.get(page_url(kpi1)).content.decode()
    assert "Late referrals." in html and "Triage" in html and "Head of MASH" in html
    assert "92.1%" in html and 'name="version"' not in html
    before = everything()
    response = client.post(page_url(kpi1), form(kpi1, value="99"))
    assert response.status_code == 403
    assert everything() == before


def test_an_entry_of_another_return_is_not_found(client, cast, kpi1):
    theirs = workflow.open_return(cast.another, "2018-04").entries.get()
    signed_in(client, cast["provider_editor"])
    assert client.get(f"/returns/{kpi1.monthly_return_id}/entries/{theirs.pk}/").status_code == 404
    assert client.get(page_url(theirs)).status_code == 404
