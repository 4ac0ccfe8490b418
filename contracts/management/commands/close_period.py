"""Close one contract's month by hand: ``manage.py close_period <contract> 2018-04``.

Rates every measure with the figures entered so far and records the run (R17), opens a
narrative prompt for every verdict that owes one (R9) and tells the provider. The same
code as the scheduled close (``contracts.tasks.close_period_task``). ``--dry-run`` says
what it would do and writes nothing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contracts import monthend
from contracts.models import Contract, RatingRun
from kpis.periods import PeriodError


class Command(BaseCommand):
    help = "Rate a contract's month with the figures entered so far and prompt for the narratives owed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("contract", help="The contract's slug.")
        parser.add_argument("period", help="The month, YYYY-MM.")
        parser.add_argument(
            "--stage",
            default=RatingRun.Stage.BY_HAND,
            choices=RatingRun.Stage.values,
            help="by_hand (the default) may repeat; month_end and due_date run once per return.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be done; write nothing."
        )

    def handle(
        self, *args, contract: str, period: str, stage: str, dry_run: bool, **options
    ) -> None:
        found = Contract.objects.filter(slug=contract).first()
        if found is None:
            raise CommandError(f"No contract '{contract}'.")
        try:
            report = monthend.close_contract_period(found, period, stage, dry_run=dry_run)
        except (monthend.CloseError, PeriodError) as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(line)
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
