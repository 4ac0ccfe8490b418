"""Celery tasks: thin wrappers that take ids and call the same code as the commands.

The logic lives in ``contracts.monthend`` and ``contracts.notifications``; a task only
turns ids and ISO dates back into objects. Every task is safe to run twice, so it is
acknowledged late (a worker that dies mid-task leaves the message to be delivered
again), retried with backoff when the database is briefly unavailable, and bounded by
time limits (enforced by the prefork pool, the production default).

With no broker configured (the embedded default) tasks run in-process.
"""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from contracts import monthend, notifications
from contracts.models import Contract

logger = logging.getLogger(__name__)

RELIABLE = {
    "acks_late": True,
    # A worker killed mid-task (out of memory, a deploy) hands the message back.
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


class ContractFailed(Exception):
    """One contract's month-end processing failed; the report says why."""


def _day(today_iso: str | None) -> date:
    return date.fromisoformat(today_iso) if today_iso else timezone.localdate()


@shared_task(**RELIABLE, soft_time_limit=120, time_limit=180)
def daily_job(today_iso: str | None = None) -> int:
    """Beat's daily job: one ``process_contract`` task per contract; returns how many."""
    today = _day(today_iso)
    contracts = monthend.contracts_due(today)
    for contract in contracts:
        try:
            process_contract.delay(contract.pk, today.isoformat())
        except Exception:
            # In-process (no broker) the task runs here: one contract's failure is
            # logged and the others still run, as with a worker.
            logger.exception("Month-end for contract %s did not run", contract.slug)
    notifications.kick_delivery()
    return len(contracts)


@shared_task(**RELIABLE, soft_time_limit=300, time_limit=360)
def process_contract(contract_id: int, today_iso: str) -> list[str]:
    """Everything due for one contract on a day, in one transaction."""
    report = monthend.daily(_day(today_iso), contract_ids=[contract_id], kick=False)
    for line in report.lines():
        logger.info("%s", line)
    if report.failures:
        raise ContractFailed("; ".join(f.line() for f in report.failures))
    return report.lines()


@shared_task(**RELIABLE, soft_time_limit=300, time_limit=360)
def close_period_task(contract_id: int, period: str, stage: str = "by_hand") -> list[str]:
    """Close one contract's month (``period`` YYYY-MM) at a stage; scheduled stages run once."""
    contract = Contract.objects.get(pk=contract_id)
    report = monthend.close_contract_period(contract, period, stage)
    for line in report.lines():
        logger.info("%s", line)
    return report.lines()


@shared_task(**RELIABLE, soft_time_limit=240, time_limit=300)
def deliver_notifications(limit: int | None = None) -> int:
    """Email the outbox: every pending notification, exactly once."""
    return notifications.deliver_pending(limit)
