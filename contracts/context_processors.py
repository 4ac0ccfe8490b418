from django.conf import settings
from django.http import HttpRequest


def branding(request: HttpRequest) -> dict[str, str]:
    """The deploying organisation's name for the page header (never the GOV.UK crown)."""
    return {"site_name": settings.SITE_NAME}
