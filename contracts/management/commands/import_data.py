"""``python manage.py import_data <file> --kind <kind> [--contract <slug>] [--dry-run]``.

Loads a .csv (UTF-8) or .xlsx file of one kind of interfaces.md, all or nothing: every
problem is listed with its row, column, the value found and why, and then nothing is
written. The same checks as the admin's import and the upload pages
(``contracts.imports``). Figures form an import batch that a commissioner accepts on the
import batches page before they count as official (R14). ``--dry-run`` runs every check
and says what would be imported, writing nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from contracts import imports
from contracts.models import Contract


class Command(BaseCommand):
    help = (
        "Import a .csv or .xlsx file of contracts, measures, targets, observations, comparators, "
        "series_breaks, data_gaps, admissions or ehe: all of it, or nothing if any row has a problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The .csv (UTF-8) or .xlsx file.")
        parser.add_argument(
            "--kind", required=True, choices=imports.KINDS, help="What the file holds."
        )
        parser.add_argument(
            "--contract",
            help="The contract's slug: rows without a contract column belong to it, and rows for "
            "another contract are refused.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check everything; write nothing."
        )
        parser.add_argument(
            "--user",
            help="The username recorded in the history as having made the import (optional).",
        )

    def handle(
        self,
        *args: Any,
        file: str,
        kind: str,
        contract: str | None,
        dry_run: bool,
        user: str | None,
        **options: Any,
    ) -> None:
        found_contract = None
        if contract:
            if kind not in imports.CONTRACT_KINDS:
                raise CommandError(
                    f"--contract applies to {', '.join(imports.CONTRACT_KINDS)}, not {kind}."
                )
            found_contract = (
                Contract.objects.select_related("measure_set").filter(slug=contract).first()
            )
            if found_contract is None:
                raise CommandError(f"There is no contract '{contract}'.")
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"There is no user '{user}'.")
        try:
            table = imports.read_path(file)
        except imports.ImportFileError as exc:
            raise CommandError(exc.message) from None
        report = imports.run_import(
            kind,
            table,
            contract=found_contract,
            dry_run=dry_run,
            user=actor,
            file_name=Path(file).name,
        )
        lines = report.lines()
        if not report.ok:
            for line in lines[1:]:
                self.stderr.write(line)
            raise CommandError(lines[0])
        for line in lines:
            self.stdout.write(line)
