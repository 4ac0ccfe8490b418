"""Pages of the contracts app: a person's notifications.

Views stay thin: the notifications a person sees and what marking them read means live
in ``contracts.notifications``. Nobody sees or changes another person's notifications:
every query is filtered by the signed-in user.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from contracts import notifications

PAGE_SIZE = 50


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notifications.for_user(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "contracts/notifications.html",
        {"page": page, "unread": notifications.unread_count(request.user)},
    )


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of the user's notifications read (already read: no change)."""
    if not notifications.for_user(request.user).filter(pk=pk).exists():
        raise Http404("No such notification.")
    notifications.mark_read(request.user, [pk])
    return redirect("contracts:notifications")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    notifications.mark_read(request.user)
    return redirect("contracts:notifications")
