"""An organisation's admin manages its people: invite, set roles, deactivate, reactivate.

Who may do it is decided here once (``managed_organisation``): a person whose
membership role is admin, for the people of their own organisation only; another
organisation's people and invitations are invisible (404), as contracts are. Every
change runs in a transaction, locks what it changes, saves only the fields it changes,
and writes a ``PersonEvent`` (who, when, from which role to which, and why); role
changes also carry the changer and reason into the membership's history. What the
Django admin changes about an account is recorded here too (``record_account_change``),
field by field, in the same history.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AbstractUser
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountEvent
from contracts import access
from contracts.models import Membership, Organisation, Role
from identity.models import Invitation, PersonEvent, check_role

logger = logging.getLogger(__name__)

User = get_user_model()

_TOKEN_SALT = "identity.invitation"


# --- who may manage whom ------------------------------------------------------------------


def may_manage_people(user: Any) -> bool:
    """An active admin of an organisation manages its people (and no one else's)."""
    membership = access.membership_of(user)
    return membership is not None and membership.role == Role.ADMIN and user.is_active


def managed_organisation(user: Any) -> Organisation:
    """The organisation whose people this user manages; PermissionDenied for anyone else."""
    if not may_manage_people(user):
        raise PermissionDenied("Only your organisation's admins manage its people.")
    return user.membership.organisation


def people_of(organisation: Organisation) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organisation=organisation)
        .select_related("user", "user__external_account")
        .order_by("-user__is_active", "user__last_name", "user__first_name", "user__username")
    )


def person_for(admin: Any, user_id: int, *, lock: bool = False) -> Membership:
    """A person of the admin's organisation, or 404: another organisation's are invisible."""
    organisation = managed_organisation(admin)
    memberships = Membership.objects.select_related("user", "organisation", "user__external_account")
    if lock:
        memberships = memberships.select_for_update(of=("self",))
    try:
        return memberships.get(organisation=organisation, user_id=user_id)
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise Http404("No such person in your organisation.") from None


def invitation_for(admin: Any, pk: int, *, lock: bool = False) -> Invitation:
    organisation = managed_organisation(admin)
    invitations = Invitation.objects.select_related("organisation", "invited_by")
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    try:
        return invitations.get(organisation=organisation, pk=pk)
    except (Invitation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such invitation in your organisation.") from None


def pending_invitations(organisation: Organisation) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(
            organisation=organisation, accepted_at__isnull=True, withdrawn_at__isnull=True
        )
        .select_related("invited_by")
        .order_by("-created_at", "-pk")
    )


def events_for(membership: Membership) -> QuerySet[PersonEvent]:
    """The person's history here, with that of the invitation they joined by and what
    the Django admin changed about their account while they had no organisation."""
    here = Q(organisation=membership.organisation) & (Q(person=membership.user) | Q(invitation__user=membership.user))
    return (
        PersonEvent.objects.filter(here | Q(organisation__isnull=True, person=membership.user))
        .select_related("actor")
        .order_by("-at", "-pk")
    )


def _name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def _record(organisation: Organisation, action: str, actor: Any, **fields: Any) -> PersonEvent:
    return PersonEvent.objects.create(organisation=organisation, action=action, actor=actor, **fields)


def _refuse_self_or_superuser(admin: Any, membership: Membership, what: str) -> None:
    if membership.user_id == admin.pk:
        raise ValidationError(f"You cannot {what} yourself: ask another admin of your organisation.")
    if membership.user.is_superuser:
        raise ValidationError(
            f"{_name(membership.user)} is a superuser of the whole service: manage them in the Django admin."
        )


# --- invitations --------------------------------------------------------------------------


@transaction.atomic
def invite(admin: Any, email: str, role: str) -> Invitation:
    organisation = managed_organisation(admin)
    email = User.objects.normalize_email(email.strip())
    check_role(organisation, role)
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": f"{email} already has an account on this service: you cannot invite it again."})
    waiting = pending_invitations(organisation).filter(email__iexact=email, expires_at__gt=timezone.now()).first()
    if waiting is not None:
        raise ValidationError(
            {"email": f"An invitation to {email} is already waiting (sent {waiting.created_at:%-d %B %Y}): "
             "send it again or withdraw it from the list of people."}
        )
    now = timezone.now()
    invitation = Invitation(
        email=email,
        organisation=organisation,
        role=role,
        invited_by=admin,
        created_at=now,
        expires_at=now + timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
    )
    invitation._history_user = admin  # type: ignore[attr-defined]
    invitation._change_reason = "Invited"  # type: ignore[attr-defined]
    invitation.save()
    _record(organisation, PersonEvent.Action.INVITED, admin, invitation=invitation, to_role=role,
            reason=f"Invited {email}")
    return invitation


def token_for(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk, "k": invitation.key}, salt=_TOKEN_SALT)


def join_url(invitation: Invitation) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("people:join", args=[token_for(invitation)])


def send_invitation(invitation: Invitation) -> None:
    """Email the invitation's link through Django's email backend. Raises what the
    backend raises (an SMTP error, say); the invitation stays, to be sent again."""
    context = {
        "invitation": invitation,
        "url": join_url(invitation),
        "site_name": settings.SITE_NAME,
        "inviter": _name(invitation.invited_by),
    }
    subject = render_to_string("identity/email/invitation_subject.txt", context).strip()
    body = render_to_string("identity/email/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email])
    invitation.last_sent_at = timezone.now()
    invitation._change_reason = "Email sent"  # type: ignore[attr-defined]
    invitation.save(update_fields=["last_sent_at"])


@transaction.atomic
def send_again(admin: Any, pk: int) -> Invitation:
    invitation = invitation_for(admin, pk, lock=True)
    if invitation.status != Invitation.Status.PENDING:
        raise ValidationError(
            f"The invitation to {invitation.email} is {invitation.get_status_display().lower()}: "
            "it cannot be sent again. Invite them afresh instead."
        )
    invitation._history_user = admin  # type: ignore[attr-defined]
    send_invitation(invitation)
    _record(invitation.organisation, PersonEvent.Action.INVITATION_SENT_AGAIN, admin, invitation=invitation,
            to_role=invitation.role, reason=f"Sent the invitation to {invitation.email} again")
    return invitation


@transaction.atomic
def withdraw(admin: Any, pk: int) -> Invitation:
    invitation = invitation_for(admin, pk, lock=True)
    if invitation.status not in (Invitation.Status.PENDING, Invitation.Status.EXPIRED):
        raise ValidationError(
            f"The invitation to {invitation.email} is {invitation.get_status_display().lower()}: "
            "there is nothing to withdraw."
        )
    invitation.withdrawn_at = timezone.now()
    invitation.withdrawn_by = admin
    invitation._history_user = admin  # type: ignore[attr-defined]
    invitation._change_reason = "Withdrawn"  # type: ignore[attr-defined]
    invitation.save(update_fields=["withdrawn_at", "withdrawn_by"])
    _record(invitation.organisation, PersonEvent.Action.INVITATION_WITHDRAWN, admin, invitation=invitation,
            to_role=invitation.role, reason=f"Withdrew the invitation to {invitation.email}")
    return invitation


class InvitationUnusable(Exception):
    """The link cannot be used; the message tells the invitee why and what to do."""


def invitation_from_token(token: str, *, lock: bool = False) -> Invitation:
    """The invitation a link names, if it may still be accepted."""
    unusable = InvitationUnusable(
        "This invitation link is not valid. Check that you copied the whole link from the email."
    )
    try:
        data = signing.loads(token, salt=_TOKEN_SALT)
        pk, key = int(data["i"]), str(data["k"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise unusable from None
    invitations = Invitation.objects.select_related("organisation", "invited_by")
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    invitation = invitations.filter(pk=pk, key=key).first()
    if invitation is None:
        raise unusable
    inviter = _name(invitation.invited_by)
    status = invitation.status
    if status == Invitation.Status.ACCEPTED:
        raise InvitationUnusable(
            "This invitation has already been used to create an account. Sign in with the username "
            "and password chosen then."
        )
    if status == Invitation.Status.WITHDRAWN:
        raise InvitationUnusable(f"This invitation was withdrawn. Ask {inviter} if you still need access.")
    if status == Invitation.Status.EXPIRED:
        expired = timezone.localtime(invitation.expires_at)
        raise InvitationUnusable(
            f"This invitation expired on {expired:%-d %B %Y at %H:%M}. Ask {inviter} to invite you again."
        )
    return invitation


@transaction.atomic
def accept(token: str, *, username: str, password: str, first_name: str, last_name: str) -> AbstractUser:
    """Create the invitee's account with the invited role; the link is then spent."""
    invitation = invitation_from_token(token, lock=True)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"The username {username} is taken: choose another."})
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise InvitationUnusable(
            f"An account with the email address {invitation.email} already exists. Sign in with it, or ask "
            f"{_name(invitation.invited_by)} for help."
        )
    user = User(username=username, email=invitation.email, first_name=first_name, last_name=last_name)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.save()
    membership = Membership(user=user, organisation=invitation.organisation, role=invitation.role)
    membership._history_user = user  # type: ignore[attr-defined]
    membership._change_reason = f"Accepted invitation {invitation.pk}"  # type: ignore[attr-defined]
    membership.save()
    invitation.accepted_at = timezone.now()
    invitation.user = user
    invitation._history_user = user  # type: ignore[attr-defined]
    invitation._change_reason = "Accepted"  # type: ignore[attr-defined]
    invitation.save(update_fields=["accepted_at", "user"])
    _record(invitation.organisation, PersonEvent.Action.JOINED, user, person=user, invitation=invitation,
            to_role=invitation.role,
            reason=f"Accepted the invitation from {_name(invitation.invited_by)}")
    AccountEvent.record_password(
        user, user, had_password=False, note=f"Chosen on accepting invitation {invitation.pk}."
    )
    return user


# --- roles and deactivation ---------------------------------------------------------------


@transaction.atomic
def change_role(admin: Any, user_id: int, role: str, reason: str) -> Membership:
    membership = person_for(admin, user_id, lock=True)
    _refuse_self_or_superuser(admin, membership, "change the role of")
    check_role(membership.organisation, role)
    if membership.role == role:
        raise ValidationError({"role": f"{_name(membership.user)} is already {membership.get_role_display().lower()}."})
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": f"Say why you change the role of {_name(membership.user)}."})
    old = membership.role
    membership.role = role
    membership._history_user = admin  # type: ignore[attr-defined]
    membership._change_reason = reason[:100]  # type: ignore[attr-defined]
    membership.save(update_fields=["role"])
    _record(membership.organisation, PersonEvent.Action.ROLE_CHANGED, admin, person=membership.user,
            from_role=old, to_role=role, reason=reason)
    return membership


def _set_active(admin: Any, user_id: int, active: bool, reason: str) -> Membership:
    membership = person_for(admin, user_id, lock=True)
    verb = "reactivate" if active else "deactivate"
    _refuse_self_or_superuser(admin, membership, verb)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": f"Say why you {verb} {_name(membership.user)}."})
    user = User.objects.select_for_update().get(pk=membership.user_id)
    if user.is_active == active:
        state = "active" if active else "deactivated"
        raise ValidationError(f"{_name(user)} is already {state}.")
    user.is_active = active
    user.save(update_fields=["is_active"])
    _record(membership.organisation,
            PersonEvent.Action.REACTIVATED if active else PersonEvent.Action.DEACTIVATED,
            admin, person=user, from_role=membership.role, to_role=membership.role, reason=reason)
    membership.user = user
    return membership


@transaction.atomic
def deactivate(admin: Any, user_id: int, reason: str) -> Membership:
    """The person can no longer sign in, by password or single sign-on; their sessions
    end at their next request and their API tokens stop working."""
    return _set_active(admin, user_id, False, reason)


@transaction.atomic
def reactivate(admin: Any, user_id: int, reason: str) -> Membership:
    return _set_active(admin, user_id, True, reason)


# --- accounts changed in the Django admin -------------------------------------------------

# What the Django admin's user pages can change, recorded from what to what. Email
# matters most: single sign-on finds an existing account by its email address.
ACCOUNT_FIELDS = (
    "username", "email", "first_name", "last_name", "is_active", "is_staff", "is_superuser",
    "groups", "user_permissions", "last_login", "date_joined",
)


def account_state(user: Any) -> dict[str, Any]:
    """The account's ``ACCOUNT_FIELDS`` as JSON: groups and permissions by name, sorted."""
    state: dict[str, Any] = {}
    for name in ACCOUNT_FIELDS:
        if name == "groups":
            state[name] = sorted(user.groups.values_list("name", flat=True))
        elif name == "user_permissions":
            state[name] = sorted(
                f"{app}.{codename}"
                for app, codename in user.user_permissions.values_list("content_type__app_label", "codename")
            )
        else:
            value = getattr(user, name)
            if isinstance(value, datetime):
                # In UTC and to the second, as the admin's date fields show them: saving the
                # form drops the microseconds, which is no change anyone made.
                value = value.astimezone(UTC).replace(microsecond=0).isoformat()
            state[name] = value
    return state


def record_account_change(
    actor: Any, user: Any, before: dict[str, Any] | None, reason: str = "", *, deleted: bool = False
) -> PersonEvent | None:
    """Record what the Django admin did to ``user``'s account: created it (``before`` is
    None), changed it (each field that differs from ``before``) or is deleting it. Nothing
    is recorded when nothing changed. The event belongs to the person's organisation, or to
    none; a deleted account's event names it only in ``changes``, as the person is gone."""
    if deleted:
        changes = {name: [value, None] for name, value in account_state(user).items()
                   if name in ("username", "email") and value}
        action = PersonEvent.Action.DELETED_IN_ADMIN
    elif before is None:
        changes = {name: [None, value] for name, value in account_state(user).items() if value not in (None, "", [])}
        action = PersonEvent.Action.CREATED_IN_ADMIN
    else:
        after = account_state(user)
        changes = {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}
        action = PersonEvent.Action.CHANGED_IN_ADMIN
    if not changes:
        return None
    membership = access.membership_of(user)
    role = membership.role if membership else ""
    return _record(
        membership.organisation if membership else None, action, actor,
        person=None if deleted else user, from_role=role, to_role=role, changes=changes, reason=reason.strip(),
    )
