from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from accounts import views as account_views
from operations import views as operations_views

urlpatterns = [
    # Health (operations.views): everything the web needs, and a bare liveness probe.
    path("healthz", operations_views.health, name="healthz"),
    path("healthz/live", operations_views.live, name="healthz-live"),
    # The admin's own password page would change a password unrecorded; the account's
    # page records it (accounts.AccountEvent).
    path(
        "admin/password_change/",
        RedirectView.as_view(pattern_name="accounts:password", permanent=False),
    ),
    path("admin/", admin.site.urls),
    # Signing in: password (with lockout), then the second factor (accounts/).
    path("accounts/login/", account_views.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("accounts.urls")),
    path("api/v1/retained/", include("retained_services.api_urls")),
    path("api/v1/", include("contracts.api_urls")),
    path("retained/", include("retained_services.urls")),
    path("people/", include("identity.urls")),
    path("sso/", include("identity.sso_urls")),
    path("returns/", include("contracts.returns_urls")),
    path("returns/", include("contracts.spreadsheet_urls")),
    path("targets/", include("contracts.revision_urls")),
    path("", include("contracts.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Redoc needs a little more than the site-wide Content Security Policy (settings).
    path(
        "api/docs/",
        csp_update(settings.API_DOCS_CSP)(SpectacularRedocView.as_view(url_name="schema")),
        name="api-docs",
    ),
    path("", include("reports.urls")),
]
