"""Build the committee report from the command line, for schedules and scripts:

    python manage.py build_report <contract slug> <YYYY-MM> --format html|pdf|docx \
        --output <file> [--draft]

Official figures only (R14, R18) unless ``--draft``, which includes figures not yet
signed off and says DRAFT on every page. The retained services' tables are included
(the command runs as the council).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from contracts.models import Contract
from kpis import periods
from reports import document, render


class Command(BaseCommand):
    help = "Build the scrutiny-committee report for a contract and month as HTML, PDF or Word."

    def add_arguments(self, parser) -> None:
        parser.add_argument("contract", help="The contract's slug, e.g. sunderland-tfc.")
        parser.add_argument("month", help="The report's month, YYYY-MM, e.g. 2018-04.")
        parser.add_argument("--format", choices=("html", "pdf", "docx"), default="pdf")
        parser.add_argument("--output", required=True, help="The file to write.")
        parser.add_argument(
            "--draft",
            action="store_true",
            help="Include figures not yet signed off; every page then says DRAFT.",
        )

    def handle(self, *args, **options) -> None:
        try:
            contract = Contract.objects.select_related("commissioner", "provider", "measure_set").get(
                slug=options["contract"]
            )
        except Contract.DoesNotExist:
            raise CommandError(f"No contract with the slug ‘{options['contract']}’.") from None
        try:
            month = periods.parse_period(options["month"])
        except periods.PeriodError as exc:
            raise CommandError(str(exc)) from exc
        if month.kind != "month":
            raise CommandError(f"‘{options['month']}’ is not a month: give it as YYYY-MM, e.g. 2018-04.")

        data = document.build_report(contract, month, draft=options["draft"], include_retained=True)
        fmt = options["format"]
        if fmt == "html":
            content = render.standalone_html(data).encode("utf-8")
        elif fmt == "pdf":
            try:
                content = render.pdf(data)
            except render.PdfUnavailable as exc:
                raise CommandError(str(exc)) from exc
        else:
            content = render.docx(data)
        output = Path(options["output"])
        output.write_bytes(content)
        kind = "draft " if options["draft"] else ""
        self.stdout.write(
            f"Wrote the {kind}report for {contract.name}, {month.start:%B %Y}, as {fmt.upper()} "
            f"to {output} ({len(content):,} bytes, {len(data['measures'])} measures)."
        )
