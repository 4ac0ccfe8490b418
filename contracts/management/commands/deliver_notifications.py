"""Email the pending notifications (the outbox): ``manage.py deliver_notifications``.

The same code as the periodic task; each notification is sent exactly once, even with
two deliverers running. ``--dry-run`` lists what is pending and sends nothing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from contracts import notifications


class Command(BaseCommand):
    help = "Email every notification not yet emailed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, help="Send at most this many.")
        parser.add_argument(
            "--dry-run", action="store_true", help="List what is pending; send nothing."
        )

    def handle(self, *args, limit: int | None, dry_run: bool, **options) -> None:
        if dry_run:
            waiting = notifications.pending().select_related("user").order_by("pk")
            if limit:
                waiting = waiting[:limit]
            count = 0
            for notification in waiting:
                count += 1
                self.stdout.write(f"would email {notification.user.email}: {notification.subject}")
            self.stdout.write(
                f"{count} notification(s) would be emailed (dry run: nothing was sent)."
            )
            return
        sent = notifications.deliver_pending(limit)
        self.stdout.write(f"{sent} notification(s) emailed.")
