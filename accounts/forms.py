from __future__ import annotations

from django import forms
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.twofactor import code_problem


class CodeForm(forms.Form):
    """A code from the person's authenticator app, checked against ``device``."""

    code = forms.CharField(required=False, max_length=20)

    def __init__(self, device: TOTPDevice, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_code(self) -> str:
        code = self.cleaned_data.get("code", "")
        problem = code_problem(self.device, code)
        if problem:
            raise forms.ValidationError(problem)
        return code
