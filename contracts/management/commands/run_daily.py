"""The daily month-end job, by hand: ``manage.py run_daily [--date YYYY-MM-DD] [--dry-run]``.

For every contract: open the return for the month that has begun, set due dates, remind
and escalate, rate at month end and at the due date, prompt for narratives. The same code
as the scheduled task (``contracts.tasks.daily_job``); safe to repeat. Each line printed
is one thing done (or, with ``--dry-run``, that would be done). Exits non-zero if any
contract failed; the others are still done.
"""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from contracts import monthend
from contracts.models import Contract


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"'{text}' is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = "Open, chase and rate the monthly returns of every contract, as the daily schedule does."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date", dest="day", type=iso_date, help="Act as on this day (default: today)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be done; write nothing."
        )
        parser.add_argument(
            "--contract", action="append", help="Only this contract (slug); repeatable."
        )

    def handle(
        self, *args, day: date | None, dry_run: bool, contract: list[str] | None, **options
    ) -> None:
        today = day or timezone.localdate()
        ids = None
        if contract:
            ids = list(Contract.objects.filter(slug__in=contract).values_list("pk", flat=True))
            if len(ids) != len(set(contract)):
                raise CommandError(f"No such contract among: {', '.join(contract)}.")
        report = monthend.daily(today, contract_ids=ids, dry_run=dry_run)
        for step in report.steps:
            self.stdout.write(step.line(dry_run))
        for failure in report.failures:
            self.stderr.write(failure.line())
        self.stdout.write(report.summary())
        if report.failures:
            raise CommandError(f"{len(report.failures)} contract(s) failed; the others were done.")
