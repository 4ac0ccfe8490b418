"""Codes as an authenticator app makes them, from a device's key (django_otp.oath)."""

from __future__ import annotations

import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the device's app shows now (or ``steps_ahead`` time steps later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def unused_code(device: TOTPDevice) -> str:
    """A code the device will accept: each time step's code works once, so after a code
    was used in this step, the next step's (within the device's tolerance of one step)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return code_for(device, max(0, device.last_t + 1 - totp.t()))
