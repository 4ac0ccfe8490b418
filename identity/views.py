"""The people pages (/people/): an organisation's admin lists, invites and manages its
people; an invitee joins through the emailed link. Views stay thin: who may act and
every change are ``identity.people``'s."""

from __future__ import annotations

import logging
from smtplib import SMTPException
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form, RadioSelect
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from identity import people
from identity.forms import InviteForm, JoinForm, ReasonForm, RoleForm
from identity.models import Invitation

logger = logging.getLogger(__name__)


def _apply_errors(form: Form, exc: ValidationError) -> None:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
    for name, messages_ in errors.items():
        for message in messages_:
            form.add_error(name if name in form.fields else None, message)


def _summary(*forms: Form) -> list[tuple[str | None, str]]:
    """(anchor, text) for the error summary: one link per error, to its field."""
    summary: list[tuple[str | None, str]] = []
    for form in forms:
        if not form.is_bound:
            continue
        for name, errors in form.errors.items():
            anchor = None
            if name in form.fields:
                field = form[name]
                # A group of radios is reached through its first option.
                anchor = f"{field.auto_id}_0" if isinstance(field.field.widget, RadioSelect) else field.id_for_label
            summary.extend((anchor, error) for error in errors)
    return summary


def _send(request: HttpRequest, invitation: Invitation, done: str) -> None:
    try:
        people.send_invitation(invitation)
    except (SMTPException, OSError) as exc:
        logger.error("Invitation %s: the email could not be sent: %s", invitation.pk, exc)
        messages.warning(
            request,
            f"The invitation to {invitation.email} is saved, but the email could not be sent ({exc}). "
            "Send it again from the list once email works.",
        )
    else:
        messages.success(request, done)


# --- the organisation's people ------------------------------------------------------------


@login_required
def people_list(request: HttpRequest) -> HttpResponse:
    organisation = people.managed_organisation(request.user)
    return render(
        request,
        "identity/people.html",
        {
            "organisation": organisation,
            "memberships": people.people_of(organisation),
            "invitations": people.pending_invitations(organisation),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest) -> HttpResponse:
    organisation = people.managed_organisation(request.user)
    form = InviteForm(organisation, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = people.invite(request.user, form.cleaned_data["email"], form.cleaned_data["role"])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            _send(
                request,
                invitation,
                f"Invitation sent to {invitation.email} as {invitation.get_role_display().lower()}. "
                f"The link works once, until {invitation.expires_at:%-d %B %Y}.",
            )
            return redirect("people:list")
    return render(
        request,
        "identity/invite.html",
        {
            "organisation": organisation,
            "form": form,
            "errors": _summary(form),
            "max_age_days": settings.INVITATION_MAX_AGE_DAYS,
        },
        status=400 if form.is_bound else 200,
    )


def _person_page(request: HttpRequest, user_id: int, status: int = 200, **forms: Form) -> HttpResponse:
    membership = people.person_for(request.user, user_id)
    organisation = membership.organisation
    role_form = forms.get("role_form") or RoleForm(organisation, initial={"role": membership.role})
    active_form = forms.get("active_form") or ReasonForm()
    return render(
        request,
        "identity/person.html",
        {
            "membership": membership,
            "person": membership.user,
            "organisation": organisation,
            "events": people.events_for(membership),
            "is_self": membership.user_id == request.user.pk,
            "role_form": role_form,
            "active_form": active_form,
            "errors": _summary(role_form, active_form),
        },
        status=status,
    )


@login_required
def person(request: HttpRequest, user_id: int) -> HttpResponse:
    return _person_page(request, user_id)


@login_required
@require_POST
def change_role(request: HttpRequest, user_id: int) -> HttpResponse:
    organisation = people.managed_organisation(request.user)
    form = RoleForm(organisation, request.POST)
    if form.is_valid():
        try:
            membership = people.change_role(
                request.user, user_id, form.cleaned_data["role"], form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request,
                f"{membership.user.get_full_name() or membership.user.get_username()} is now "
                f"{membership.get_role_display().lower()}.",
            )
            return redirect("people:person", user_id=user_id)
    return _person_page(request, user_id, status=400, role_form=form)


def _set_active(request: HttpRequest, user_id: int, active: bool) -> HttpResponse:
    form = ReasonForm(request.POST)
    if form.is_valid():
        action = people.reactivate if active else people.deactivate
        try:
            membership = action(request.user, user_id, form.cleaned_data["reason"])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            name = membership.user.get_full_name() or membership.user.get_username()
            messages.success(
                request,
                f"{name} is reactivated and can sign in again." if active
                else f"{name} is deactivated and can no longer sign in.",
            )
            return redirect("people:person", user_id=user_id)
    return _person_page(request, user_id, status=400, active_form=form)


@login_required
@require_POST
def deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    return _set_active(request, user_id, active=False)


@login_required
@require_POST
def reactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    return _set_active(request, user_id, active=True)


def _invitation_action(request: HttpRequest, pk: int, action: Any, done: str) -> HttpResponse:
    try:
        invitation = action(request.user, pk)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        if done:
            messages.success(request, done.format(email=invitation.email))
    return redirect("people:list")


@login_required
@require_POST
def withdraw_invitation(request: HttpRequest, pk: int) -> HttpResponse:
    return _invitation_action(request, pk, people.withdraw, "The invitation to {email} is withdrawn: its link no longer works.")


@login_required
@require_POST
def send_invitation_again(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        people.send_again(request.user, pk)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except (SMTPException, OSError) as exc:
        logger.error("Invitation %s: the email could not be sent again: %s", pk, exc)
        messages.warning(request, f"The email could not be sent ({exc}). Try again once email works.")
    else:
        messages.success(request, "The invitation is sent again, with the same expiry date.")
    return redirect("people:list")


# --- joining through an invitation ----------------------------------------------------------


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = people.invitation_from_token(token)
    except people.InvitationUnusable as exc:
        return render(request, "identity/join_unusable.html", {"reason": str(exc)}, status=410)
    if request.user.is_authenticated:
        return render(
            request,
            "identity/join_unusable.html",
            {"reason": f"You are signed in as {request.user.get_username()}. Sign out, then open the link again "
                       f"to create the account for {invitation.email}."},
            status=409,
        )
    initial: dict[str, Any] = {"username": invitation.email.split("@")[0]}
    form = JoinForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = people.accept(
                token,
                username=data["username"],
                password=data["password"],
                first_name=data["first_name"],
                last_name=data["last_name"],
            )
        except people.InvitationUnusable as exc:
            return render(request, "identity/join_unusable.html", {"reason": str(exc)}, status=410)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request,
                f"Your account is ready: sign in with the username {user.get_username()} and the password you chose.",
            )
            return redirect("people:joined")
    return render(
        request,
        "identity/join.html",
        {"invitation": invitation, "form": form, "errors": _summary(form)},
        status=400 if form.is_bound else 200,
    )


def joined(request: HttpRequest) -> HttpResponse:
    return render(request, "identity/join_done.html")
