from typing import Any

from django.apps import AppConfig
from django.core.signals import request_finished


def _forget_request_id(**kwargs: Any) -> None:
    from operations import logs

    logs.request_id.set("")


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        # A request's id stays on the lines logged until its response is finished
        # (operations.middleware), then no later line in this thread carries it.
        request_finished.connect(_forget_request_id, dispatch_uid="operations.request_id")
