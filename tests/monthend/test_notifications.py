"""Notifications: created with the change they report, emailed exactly once, read in the app."""

from __future__ import annotations

import datetime as dt
import smtplib

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from kombu.exceptions import OperationalError as BrokerDown

from contracts import notifications, tasks, workflow
from contracts.models import Notification
from tests.factories import UserFactory
from tests.monthend.conftest import APRIL, enter

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://monitor.example.org"


def submitted(cast):
    contract, people = cast
    monthly_return = workflow.open_return(contract, APRIL)
    enter(monthly_return, people["editor"], {"KPI 1": "96", "KPI 2": "96", "KPI 3": "96"})
    return monthly_return


def test_notifying_twice_with_the_same_key_notifies_once(cast):
    _, people = cast
    assert notifications.notify(people["editor"], "k", "Subject", "Body")
    assert not notifications.notify(people["editor"], "k", "Subject again", "Body")
    assert notifications.notify_many([people["editor"], people["lead"]], "k", "S", "B") == 1
    assert Notification.objects.count() == 2


def test_a_submission_notifies_the_commissioners_and_emails_them_after_commit(
    cast, django_capture_on_commit_callbacks
):
    _, people = cast
    monthly_return = submitted(cast)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        workflow.submit(monthly_return.pk, people["lead"])
    assert len(callbacks) == 1  # the nudge to deliver, sent only once the submission committed
    notification = Notification.objects.get()
    assert notification.user == people["commissioner"]
    assert notification.subject == "Contract c: the April 2018 return was submitted"
    assert notification.body.endswith("By lead.")
    assert notification.emailed_at is not None  # delivered in-process (no broker)
    [email] = mail.outbox
    assert email.to == ["commissioner@example.org"]
    assert "https://monitor.example.org/contracts/c/scorecard/?period=2018-04" in email.body


def test_a_query_and_a_sign_off_notify_the_provider(cast):
    _, people = cast
    monthly_return = submitted(cast)
    workflow.submit(monthly_return.pk, people["lead"])
    entry = monthly_return.entries.get(measure__code="KPI 1")
    workflow.raise_query(monthly_return.pk, people["commissioner"], [(entry.pk, "Which teams?")])
    query = entry.queries.get()
    workflow.answer_queries(monthly_return.pk, people["editor"], [(query.pk, "Two teams.")])
    workflow.submit(monthly_return.pk, people["lead"])
    workflow.sign_off(monthly_return.pk, people["commissioner"])
    subjects = sorted(Notification.objects.values_list("user__username", "subject"))
    assert subjects == [
        ("commissioner", "Contract c: the April 2018 return was submitted"),
        ("commissioner", "Contract c: the April 2018 return was submitted"),  # each submission
        ("editor", "Contract c: the April 2018 return was queried"),
        ("editor", "Contract c: the April 2018 return was signed off"),
        ("lead", "Contract c: the April 2018 return was queried"),
        ("lead", "Contract c: the April 2018 return was signed off"),
    ]


def test_delivery_sends_each_pending_notification_once(cast):
    _, people = cast
    notifications.notify(people["editor"], "a", "First", "Body", "/x/")
    notifications.notify(people["lead"], "a", "First", "Body")
    notifications.notify(UserFactory(username="no-email"), "a", "Nowhere to send", "Body")
    assert notifications.deliver_pending() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["editor@example.org", "lead@example.org"]
    assert notifications.deliver_pending() == 0
    assert len(mail.outbox) == 2
    call_command("deliver_notifications")
    assert len(mail.outbox) == 2
    assert Notification.objects.filter(emailed_at__isnull=True).get().user.username == "no-email"


def test_a_message_that_cannot_be_sent_stays_pending_and_the_others_go(cast, monkeypatch):
    _, people = cast
    notifications.notify(people["editor"], "a", "First", "Body")
    notifications.notify(people["lead"], "a", "Second", "Body")
    real = notifications.send_mail

    def refuse_editor(subject, body, sender, to, **kwargs):
        if to == ["editor@example.org"]:
            raise smtplib.SMTPRecipientsRefused({to[0]: (550, b"no such mailbox")})
        return real(subject, body, sender, to, **kwargs)

    monkeypatch.setattr(notifications, "send_mail", refuse_editor)
    assert notifications.deliver_pending() == 1
    assert Notification.objects.get(user=people["editor"]).emailed_at is None
    monkeypatch.undo()
    assert notifications.deliver_pending() == 1
    assert len(mail.outbox) == 2


def test_the_delivery_command_dry_run_sends_nothing(cast, capsys):
    _, people = cast
    notifications.notify(people["editor"], "a", "First", "Body")
    call_command("deliver_notifications", "--dry-run")
    assert "would email editor@example.org: First" in capsys.readouterr().out
    assert mail.outbox == []


def test_a_broker_that_is_down_does_not_break_the_change_and_the_notification_waits(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    _, people = cast
    monthly_return = submitted(cast)

    def down(*args, **kwargs):
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6399. Connection refused.")

    monkeypatch.setattr(tasks.deliver_notifications, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit(monthly_return.pk, people["lead"])
    monthly_return.refresh_from_db()
    assert monthly_return.state == "submitted"
    assert Notification.objects.get().emailed_at is None
    monkeypatch.undo()
    tasks.deliver_notifications.delay()  # the periodic delivery, once the broker is back
    assert Notification.objects.get().emailed_at is not None
    assert len(mail.outbox) == 1


def test_the_beat_schedule_runs_the_daily_job_and_delivery(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["month-end-daily"]["task"] == tasks.daily_job.name
    assert schedule["deliver-notifications"]["task"] == tasks.deliver_notifications.name
    assert schedule["deliver-notifications"]["schedule"] == 60.0
    crontab = schedule["month-end-daily"]["schedule"]
    assert (crontab.hour, crontab.minute) == ({6}, {0})


def test_the_daily_task_fans_out_per_contract_in_process(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.daily_job.delay("2018-04-30").get() == 1
    contract, _ = cast
    assert contract.returns.get().rating_runs.count() == 1
    # No figure yet for any measure: the provider's two people are told so, by email too.
    assert (
        sorted(m.subject for m in mail.outbox)
        == ["Contract c: 3 figure(s) missing on the April 2018 return"] * 2
    )
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_the_close_task_takes_ids(cast):
    contract, _ = cast
    lines = tasks.close_period_task.delay(contract.pk, APRIL, "month_end").get()
    assert lines[-1].startswith("c: rated the 2018-04 return at month end")


# --- the page -------------------------------------------------------------------------


@pytest.fixture
def page(client, cast, settings):
    settings.ROOT_URLCONF = "tests.monthend.urls"
    _, people = cast
    client.force_login(people["editor"])
    return client


def test_the_page_lists_my_notifications_with_the_unread_count(page, cast):
    _, people = cast
    notifications.notify(
        people["editor"], "a", "Narratives owed on April", "KPI 1 owes one.", "/x/"
    )
    notifications.notify(people["editor"], "b", "Already read", "Old news.")
    notifications.mark_read(
        people["editor"], Notification.objects.filter(key="b").values_list("pk", flat=True)
    )
    notifications.notify(people["lead"], "a", "Someone else's", "Not for the editor.")
    response = page.get("/notifications/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "You have <strong>1</strong> unread notification." in html
    assert "Narratives owed on April" in html and "Already read" in html
    assert "Someone else&#x27;s" not in html and "Someone else's" not in html
    assert html.count('govuk-tag--blue">Unread') == 1 and html.count('govuk-tag--grey">Read') == 1


def test_the_page_reads_a_fixed_number_of_queries(page, cast):
    _, people = cast
    notifications.notify(people["editor"], "a", "One", "Body")
    with CaptureQueriesContext(connection) as one:
        page.get("/notifications/")
    for n in range(20):
        notifications.notify(people["editor"], f"k{n}", f"N{n}", "Body", "/x/")
    with CaptureQueriesContext(connection) as many:
        page.get("/notifications/")
    assert len(many.captured_queries) == len(one.captured_queries)


def test_marking_one_read_and_then_all(page, cast):
    _, people = cast
    notifications.notify(people["editor"], "a", "One", "Body")
    first = Notification.objects.get(key="a")
    notifications.notify(people["editor"], "b", "Two", "Body")
    response = page.post(f"/notifications/{first.pk}/read/")
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    first.refresh_from_db()
    assert first.read_at is not None
    assert notifications.unread_count(people["editor"]) == 1
    page.post("/notifications/read-all/")
    assert notifications.unread_count(people["editor"]) == 0
    assert "You have no unread notifications." in page.get("/notifications/").content.decode()


def test_nobody_marks_or_sees_another_persons_notification(page, cast):
    _, people = cast
    notifications.notify(people["lead"], "a", "For the lead", "Body")
    theirs = Notification.objects.get()
    assert page.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert page.get(f"/notifications/{theirs.pk}/read/").status_code == 405
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_page_needs_a_signed_in_user(client, settings, db):
    settings.ROOT_URLCONF = "tests.monthend.urls"
    response = client.get("/notifications/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_due_date_in_the_body_reads_in_words(cast):
    contract, people = cast
    monthly_return = workflow.open_return(contract, APRIL)
    monthly_return.due_date = dt.date(2018, 5, 15)
    monthly_return.save(update_fields=["due_date"])
    from contracts import monthend

    monthend.close_period(monthly_return, "month_end")
    assert (
        "The return is due on Tuesday 15 May 2018."
        in Notification.objects.filter(user=people["editor"]).get().body
    )


def test_the_header_count_is_queried_only_where_a_page_shows_it(
    cast, rf, django_assert_num_queries
):
    from django.template import Context, Template

    _, people = cast
    notifications.notify(people["editor"], "a", "One", "Body")
    request = rf.get("/")
    request.user = people["editor"]
    with django_assert_num_queries(0):
        found = notifications.context(request)
    template = Template(
        "{% with n=unread_notifications %}{% if n %}{{ n }} unread{% endif %}{% endwith %}"
    )
    with django_assert_num_queries(1):
        assert template.render(Context(found)) == "1 unread"
