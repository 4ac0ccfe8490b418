"""Notifications: shown in the app and sent by email through an outbox.

A ``Notification`` row is written in the same transaction as the change it reports
(a return submitted, a month-end rating run), so it exists exactly when the change
does. Email is a second step: ``deliver_pending`` sends every row whose ``emailed_at``
is still empty and stamps it. The rows waiting to be emailed are the outbox.

* Nothing is lost: if the broker (Redis) is down when a change commits, the nudge to
  deliver fails quietly (``kick_delivery``), the row stays pending, and the periodic
  delivery (Celery beat, every minute) sends it once the broker is back.
* Nothing is sent twice: creation is idempotent by ``(user, key)`` (a unique
  constraint), and a deliverer locks each row it sends (``select_for_update`` with
  ``skip_locked``) and stamps it in the same transaction, so two deliverers running at
  once never pick the same row. The one window left is a crash between the mail
  server accepting a message and the stamp committing: that message may go again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from contracts.models import (
    Contract,
    MonthlyReturn,
    Notification,
    ReturnEvent,
    Role,
)

logger = logging.getLogger(__name__)

PROVIDER_ROLES = (Role.PROVIDER_EDITOR, Role.PROVIDER_LEAD)
COMMISSIONER_ROLES = (Role.COMMISSIONER,)


# --- creating notifications ------------------------------------------------------------


def notify(user: Any, key: str, subject: str, body: str, url: str = "") -> bool:
    """Notify one person once per ``key``; True when this call created the notification."""
    _, created = Notification.objects.get_or_create(
        user=user,
        key=key,
        defaults={
            "subject": subject[:300],
            "body": body,
            "url": url[:300],
            "created_at": timezone.now(),
        },
    )
    return created


def notify_many(users: Iterable[Any], key: str, subject: str, body: str, url: str = "") -> int:
    """Notify several people once each per ``key``, in two queries however many there are.

    Returns how many were notified by this call. The unique constraint on (user, key),
    not the read before the insert, is what keeps a concurrent repeat from duplicating.
    """
    users = list(users)
    if not users:
        return 0
    already = set(
        Notification.objects.filter(key=key, user__in=users).values_list("user_id", flat=True)
    )
    now = timezone.now()
    fresh = [
        Notification(
            user=user, key=key, subject=subject[:300], body=body, url=url[:300], created_at=now
        )
        for user in users
        if user.pk not in already
    ]
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def provider_staff(contract: Contract) -> QuerySet:
    """The provider's people on a contract: its editors and leads."""
    return _people(contract.provider_id, PROVIDER_ROLES)


def commissioners(contract: Contract) -> QuerySet:
    """The commissioners of a contract (the council's side)."""
    return _people(contract.commissioner_id, COMMISSIONER_ROLES)


def _people(organisation_id: int, roles: Iterable[str]) -> QuerySet:
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            membership__organisation_id=organisation_id,
            membership__role__in=list(roles),
        )
        .order_by("pk")
    )


def month_words(monthly_return: MonthlyReturn) -> str:
    return f"{monthly_return.period_start:%B %Y}"


def return_url(monthly_return: MonthlyReturn) -> str:
    """Where a notification about a return points: the contract's scorecard for that month."""
    return f"{reverse('scorecard', args=[monthly_return.contract.slug])}?period={monthly_return.period}"


# --- the return's workflow (called inside contracts.workflow's transactions) ----------


def _latest_event(monthly_return: MonthlyReturn, action: str) -> ReturnEvent | None:
    return (
        ReturnEvent.objects.filter(monthly_return=monthly_return, action=action)
        .select_related("actor")
        .order_by("-pk")
        .first()
    )


def _on_event(
    monthly_return: MonthlyReturn, action: str, people: QuerySet, subject: str, body: str
) -> int:
    event = _latest_event(monthly_return, action)
    key = f"return:{monthly_return.pk}:event:{event.pk if event else action}"
    if event is not None and event.actor is not None:
        body = f"{body}\n\nBy {event.actor.get_full_name() or event.actor.get_username()}."
    count = notify_many(people, key, subject, body, return_url(monthly_return))
    kick_delivery()
    return count


def return_submitted(monthly_return: MonthlyReturn) -> int:
    """Tell the commissioners a return awaits their review."""
    contract = monthly_return.contract
    return _on_event(
        monthly_return,
        ReturnEvent.Action.SUBMIT,
        commissioners(contract),
        f"{contract.name}: the {month_words(monthly_return)} return was submitted",
        f"The provider submitted the {month_words(monthly_return)} return for {contract.name}. "
        "It is ready for your review: sign it off or query it.",
    )


def return_queried(monthly_return: MonthlyReturn) -> int:
    """Tell the provider the commissioner has queried the return."""
    contract = monthly_return.contract
    return _on_event(
        monthly_return,
        ReturnEvent.Action.QUERY,
        provider_staff(contract),
        f"{contract.name}: the {month_words(monthly_return)} return was queried",
        f"The commissioner queried the {month_words(monthly_return)} return for {contract.name}. "
        "Answer the queries and submit the return again.",
    )


def return_signed_off(monthly_return: MonthlyReturn) -> int:
    """Tell the provider the return is signed off and its figures are official."""
    contract = monthly_return.contract
    return _on_event(
        monthly_return,
        ReturnEvent.Action.SIGN_OFF,
        provider_staff(contract),
        f"{contract.name}: the {month_words(monthly_return)} return was signed off",
        f"The commissioner signed off the {month_words(monthly_return)} return for {contract.name}. "
        "Its figures are now official.",
    )


# --- delivery --------------------------------------------------------------------------


def kick_delivery() -> None:
    """Ask a worker to deliver pending email once the current transaction commits.

    Only a nudge: if publishing fails (the broker is down), the rows stay pending and the
    periodic delivery sends them later. It never raises and never waits long, so a web
    request that committed a change is not broken or held up by the broker.
    """
    transaction.on_commit(_publish_delivery, robust=True)


def _publish_delivery() -> None:
    from contracts.tasks import deliver_notifications

    try:
        # retry=False: fail at once rather than retry publishing while a person waits.
        deliver_notifications.apply_async(retry=False)
    except Exception:  # the broker's errors vary by transport: never fail the caller
        logger.warning(
            "Could not queue email delivery; the notifications stay pending until the "
            "periodic delivery runs.",
            exc_info=True,
        )


def pending() -> QuerySet[Notification]:
    """Notifications still to be emailed to someone who can receive email."""
    return Notification.objects.filter(emailed_at__isnull=True, user__is_active=True).exclude(
        user__email=""
    )


def email_text(notification: Notification) -> str:
    body = notification.body
    if notification.url:
        base = getattr(settings, "SITE_URL", "").rstrip("/")
        body = f"{body}\n\n{base}{notification.url}"
    return body


def deliver_pending(limit: int | None = None) -> int:
    """Email pending notifications, each exactly once; returns how many were sent.

    Each notification is locked, sent and stamped in a transaction of its own, skipping
    rows another deliverer holds. A notification whose sending fails stays pending for
    the next run; the others still go.
    """
    sent = 0
    failed: list[int] = []
    connection = None
    try:
        while limit is None or sent < limit:
            with transaction.atomic():
                notification = (
                    pending()
                    .exclude(pk__in=failed)
                    .select_for_update(skip_locked=True, of=("self",))
                    .select_related("user")
                    .order_by("pk")
                    .first()
                )
                if notification is None:
                    break
                if connection is None:
                    connection = get_connection()
                    connection.open()
                try:
                    send_mail(
                        notification.subject,
                        email_text(notification),
                        settings.DEFAULT_FROM_EMAIL,
                        [notification.user.email],
                        connection=connection,
                    )
                except Exception:
                    logger.exception(
                        "Could not email notification %s; it stays pending.", notification.pk
                    )
                    failed.append(notification.pk)
                    continue
                notification.emailed_at = timezone.now()
                notification.save(update_fields=["emailed_at"])
            sent += 1
    finally:
        if connection is not None:
            connection.close()
    return sent


# --- reading them in the app -----------------------------------------------------------


def for_user(user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")


def unread_count(user: Any) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(user: Any, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notifications read (all unread ones when ``ids`` is None)."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


def context(request: Any) -> dict[str, Any]:
    """Template context processor: ``unread_notifications`` for the page header.

    A callable, so the count is queried only on pages whose template uses it (Django
    calls callables when it resolves a variable); use ``{% with n=unread_notifications %}``
    to query it once.
    """
    user = getattr(request, "user", None)
    return {"unread_notifications": lambda: unread_count(user) if user is not None else 0}
