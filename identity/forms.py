"""Forms for the people pages. They parse what was typed; whether the change is allowed
is ``identity.people``'s to decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation

from contracts.models import Organisation
from identity.models import roles_for

User = get_user_model()


def _role_field(organisation: Organisation, label: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=[(role.value, role.label) for role in roles_for(organisation)],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a role.",
            "invalid_choice": "Choose one of the roles listed.",
        },
    )


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="We will email a link to this address; it works once and expires.",
        error_messages={
            "required": "Enter the email address of the person to invite.",
            "invalid": "Enter an email address in the correct format, like name@example.org.",
        },
    )

    def __init__(self, organisation: Organisation, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"] = _role_field(organisation, "Role")


class RoleForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the new role",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the person's history.",
        error_messages={"required": "Give the reason: it is kept in the person's history."},
    )

    def __init__(self, organisation: Organisation, *args: Any, **kwargs: Any) -> None:
        # Its own ids: the person's page also has the deactivation form's reason box.
        kwargs.setdefault("auto_id", "role-form-%s")
        super().__init__(*args, **kwargs)
        self.fields = {"role": _role_field(organisation, "New role"), **self.fields}


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the person's history.",
        error_messages={"required": "Give the reason: it is kept in the person's history."},
    )


class JoinForm(forms.Form):
    first_name = forms.CharField(
        label="First name", max_length=150, error_messages={"required": "Enter your first name."}
    )
    last_name = forms.CharField(
        label="Last name", max_length=150, error_messages={"required": "Enter your last name."}
    )
    username = forms.CharField(
        label="Username",
        max_length=150,
        help_text="You sign in with this. Letters, digits and @ . + - _ only.",
        validators=User._meta.get_field("username").validators,
        error_messages={"required": "Choose a username."},
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput,
        error_messages={"required": "Choose a password."},
    )
    password_again = forms.CharField(
        label="Confirm password",
        strip=False,
        widget=forms.PasswordInput,
        error_messages={"required": "Type the password again."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The password policy's own words, so they follow AUTH_PASSWORD_VALIDATORS.
        self.fields["password"].help_text = " ".join(password_validation.password_validators_help_texts())

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("password") and data.get("password_again") and data["password"] != data["password_again"]:
            self.add_error("password_again", "The two passwords are not the same: type them again.")
        return data
