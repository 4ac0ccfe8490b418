"""Log lines that say which request or task they belong to.

Every line logged while a request is served carries its ``request_id`` (set by
``operations.middleware.RequestIdMiddleware``); every line logged while a Celery task
runs carries ``task_id`` and ``task_name``. ``LOG_FORMAT=json`` writes one JSON object
per line (python-json-logger), for a log collector, as docker-compose.yml sets it;
``plain``, the default, writes a line of text for a person at a terminal.

Settings, gunicorn (``config/gunicorn.py``) and the Celery worker all take their log
configuration from here, so the three write the same lines.
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
import os
from collections.abc import Mapping
from typing import Any

from celery._state import get_current_task
from celery.signals import after_setup_logger, after_setup_task_logger
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

FORMATS = ("json", "plain")

# The request being served by this thread (or task), for every line logged meanwhile.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def log_format(environ: Mapping[str, str]) -> str:
    """``LOG_FORMAT`` from the environment (``plain`` when unset); anything else is refused."""
    chosen = (environ.get("LOG_FORMAT") or "plain").strip().lower()
    if chosen not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be json or plain, not {chosen!r}.")
    return chosen


class ContextFilter(logging.Filter):
    """Adds ``request_id`` (during a request) and ``task_id``/``task_name`` (during a task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = request_id.get()
        if current and not hasattr(record, "request_id"):
            record.request_id = current
        task = get_current_task()
        if task is not None and task.request.id and not hasattr(record, "task_id"):
            record.task_id = task.request.id
            record.task_name = task.name
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: timestamp (UTC, ISO 8601), level, logger, message, and
    every extra field (``request_id``, ``task_id``, the access log's fields...)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", True)
        super().__init__("%(levelname)s %(name)s %(message)s", **kwargs)


class PlainFormatter(logging.Formatter):
    """``time level logger [request or task]: message``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        # A copy: the record may reach other handlers, which should not see ``context``.
        record = logging.makeLogRecord(record.__dict__)
        tags = []
        if getattr(record, "request_id", ""):
            tags.append(f"request_id={record.request_id}")
        if getattr(record, "task_id", ""):
            tags.append(f"task_id={record.task_id}")
        record.context = f" [{' '.join(tags)}]" if tags else ""
        return super().format(record)


def formatter(name: str) -> logging.Formatter:
    return JsonFormatter() if name == "json" else PlainFormatter()


def logging_config(name: str, level: str) -> dict[str, Any]:
    """Django's ``LOGGING``: one console handler on the root logger, which every logger
    (Django's included) propagates to, so no line is written twice."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "operations.logs.ContextFilter"}},
        "formatters": {
            "json": {"()": "operations.logs.JsonFormatter"},
            "plain": {"()": "operations.logs.PlainFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["context"],
                "formatter": name,
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own handlers would write these lines a second time; the root's
            # handler writes them once, in the chosen format.
            "django": {"handlers": [], "level": level, "propagate": True},
            # runserver's request lines repeat the access log (operations.access).
            "django.server": {"handlers": [], "level": "WARNING", "propagate": True},
            # django-axes writes several lines for every sign-in; its records (access
            # attempts, failures, lockouts) are kept in the database and shown in the
            # admin, so the log keeps only its warnings (a lockout) unless LOG_LEVEL_AXES says.
            "axes": {
                "handlers": [],
                "level": os.environ.get("LOG_LEVEL_AXES", "WARNING"),
                "propagate": True,
            },
        },
    }


def configure(config: dict[str, Any]) -> None:
    """Django's ``LOGGING_CONFIG``: ``dictConfig``, and Python's warnings logged as lines
    of the same format (logger ``py.warnings``) instead of bare text on standard error."""
    logging.config.dictConfig(config)
    logging.captureWarnings(True)


def gunicorn_config(environ: Mapping[str, str]) -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: its own lines (start, workers, errors) in the same format."""
    name = log_format(environ)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {name: {"()": f"operations.logs.{name.capitalize()}Formatter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": name, "stream": "ext://sys.stderr"}
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            # Each request is logged once, by the app (operations.access).
            "gunicorn.access": {"handlers": [], "level": "INFO", "propagate": False},
        },
    }


# --- the Celery worker --------------------------------------------------------------------
# The worker sets up its own handlers (its --logfile included). These receivers give them
# the same filter and format as the web's, so a task's lines carry its id.


def _configured_format() -> str:
    from django.conf import settings

    return getattr(settings, "LOG_FORMAT", None) or log_format(os.environ)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _worker_logging(logger: logging.Logger, **kwargs: Any) -> None:
    name = _configured_format()
    for handler in logger.handlers:
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())
        handler.setFormatter(formatter(name))
