"""Signing in, the second factor, your account and its API token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from accounts import tokens, twofactor
from accounts.forms import CodeForm
from accounts.middleware import STEP_URLS
from accounts.models import AccountEvent
from accounts.twofactor import SIGN_IN_METHOD_KEY, SIGN_IN_METHOD_PASSWORD, Step
from contracts.access import membership_of


def _minutes(delta: timedelta | None) -> int | None:
    return None if delta is None else int(delta.total_seconds() // 60)


def lockout_policy() -> dict[str, Any]:
    return {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cool_off_minutes": _minutes(get_cool_off()),
    }


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _to_step(step: Step, next_url: str) -> HttpResponseRedirect:
    return redirect(reverse(STEP_URLS[step]) + "?" + urlencode({"next": next_url}, safe="/"))


class SignInView(auth_views.LoginView):
    """Username and password (django-axes counts failures), then the second factor."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # LoginView names the site after the host; the service's own name wins.
        context["site_name"] = settings.SITE_NAME
        context["two_factor_on"] = twofactor.is_on()
        context.update(lockout_policy())
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        self.request.session[SIGN_IN_METHOD_KEY] = SIGN_IN_METHOD_PASSWORD
        step = twofactor.step_needed(self.request)
        if step is not Step.NONE:
            return _to_step(step, self.get_success_url())
        return response


def locked_out(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes' answer once a username has failed too often from one address."""
    return render(
        request,
        "accounts/locked_out.html",
        {"username": get_client_username(request, credentials) or "", **lockout_policy()},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


@never_cache
@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: the code from the person's authenticator app."""
    next_url = _next_url(request)
    step = twofactor.step_needed(request)
    if step is Step.SET_UP:
        return _to_step(step, next_url)
    if step is Step.NONE:
        return redirect(next_url)
    device = twofactor.confirmed_device(request.user)
    form = CodeForm(device, request.POST or None)
    if request.method == "POST" and form.is_valid():
        twofactor.mark_verified(request, device)
        return redirect(next_url)
    return render(
        request,
        "accounts/two_factor.html",
        {"form": form, "next": next_url, "two_factor_step": True},
    )


@never_cache
@login_required
def two_factor_set_up(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: its key as text and as an otpauth:// link, then a code."""
    user = request.user
    next_url = _next_url(request)
    if twofactor.confirmed_device(user) is not None:
        if twofactor.step_needed(request) is Step.VERIFY:
            # Never a new key on the strength of a password alone.
            return _to_step(Step.VERIFY, next_url)
        messages.info(
            request, "You already have an authenticator app set up. Remove it first to set up another."
        )
        return redirect("accounts:account")
    device = twofactor.device_being_set_up(user)
    form = CodeForm(device, request.POST or None)
    if request.method == "POST" and form.is_valid():
        twofactor.confirm(request, device)
        messages.success(
            request,
            "Two-factor authentication is set up: you will enter a code from your app each time you sign in.",
        )
        return redirect(next_url)
    owed = twofactor.step_needed(request) is Step.SET_UP
    return render(
        request,
        "accounts/two_factor_set_up.html",
        {
            "form": form,
            "next": next_url,
            "secret": twofactor.secret_in_groups(device),
            "otpauth_url": device.config_url,
            "required": twofactor.is_required_for(user),
            "two_factor_step": owed,
        },
    )


@never_cache
@login_required
def two_factor_remove(request: HttpRequest) -> HttpResponse:
    """Remove your authenticator app, confirmed with a code from it."""
    device = twofactor.confirmed_device(request.user)
    if device is None:
        messages.info(request, "You have no authenticator app set up.")
        return redirect("accounts:account")
    form = CodeForm(device, request.POST or None)
    if request.method == "POST" and form.is_valid():
        twofactor.remove(request.user, request.user, "Removed by its owner on their account page.")
        if twofactor.is_required_for(request.user):
            messages.success(request, "Your authenticator app is removed. Your role needs one: set up a new one now.")
            return redirect("accounts:two-factor-set-up")
        messages.success(request, "Your authenticator app is removed.")
        return redirect("accounts:account")
    return render(
        request,
        "accounts/two_factor_remove.html",
        {"form": form, "required": twofactor.is_required_for(request.user)},
    )


@login_required
def account(request: HttpRequest) -> HttpResponse:
    user = request.user
    device = twofactor.confirmed_device(user)
    return render(
        request,
        "accounts/account.html",
        {
            "membership": membership_of(user),
            "through_sso": twofactor.signed_in_through_sso(request),
            "idle_minutes": settings.SESSION_COOKIE_AGE // 60,
            "two_factor_on": twofactor.is_on(),
            "two_factor_required": twofactor.is_required_for(user),
            "device": device,
            "token": tokens.token_of(user),
            "is_organisation_admin": tokens.is_organisation_admin(user),
            "events": AccountEvent.objects.filter(person=user)[:10],
        },
    )


@never_cache
@login_required
@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
    """A new API token, replacing the old one; its key is shown on this response only."""
    key = tokens.issue(request.user, request.user, "Created by its owner on their account page.")
    return render(request, "accounts/api_token_created.html", {"key": key})


@login_required
@require_POST
def api_token_revoke(request: HttpRequest) -> HttpResponse:
    if tokens.revoke(request.user, request.user, "Revoked by its owner on their account page."):
        messages.success(request, "Your API token is revoked: requests that use it are refused from now on.")
    else:
        messages.info(request, "You had no API token.")
    return redirect("accounts:account")


def _organisation_admin(request: HttpRequest) -> None:
    if not tokens.is_organisation_admin(request.user):
        raise PermissionDenied("Only your organisation's admins may see its people's API tokens.")


@login_required
def organisation_tokens(request: HttpRequest) -> HttpResponse:
    _organisation_admin(request)
    held = (
        Token.objects.filter(user__in=tokens.people_whose_tokens(request.user))
        .select_related("user__membership")
        .order_by("user__username")
    )
    return render(
        request,
        "accounts/organisation_tokens.html",
        {"tokens": held, "organisation": request.user.membership.organisation},
    )


@login_required
@require_POST
def organisation_token_revoke(request: HttpRequest, user_id: int) -> HttpResponse:
    _organisation_admin(request)
    person = get_object_or_404(tokens.people_whose_tokens(request.user), pk=user_id)
    if tokens.revoke(person, request.user, "Revoked by an admin of the organisation."):
        messages.success(request, f"{person.get_username()}'s API token is revoked.")
    else:
        messages.info(request, f"{person.get_username()} had no API token.")
    return redirect("accounts:organisation-tokens")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("accounts:account")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and not request.user.has_usable_password():
            messages.info(request, "You sign in with your organisation's account, which keeps your password.")
            return redirect("accounts:account")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rules"] = password_validators_help_texts()
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        with transaction.atomic():
            response = super().form_valid(form)
            AccountEvent.record_password(
                self.request.user, self.request.user, had_password=True,
                note="Changed by its owner on their account page.",
            )
        messages.success(self.request, "Your password is changed.")
        return response
