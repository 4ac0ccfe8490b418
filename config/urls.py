from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

urlpatterns = [
    path("admin/", admin.site.urls),
    # LoginView sets its own site_name (the host); the service name wins.
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(extra_context={"site_name": settings.SITE_NAME}),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/retained/", include("retained_services.api_urls")),
    path("api/v1/", include("contracts.api_urls")),
    path("retained/", include("retained_services.urls")),
    path("returns/", include("contracts.returns_urls")),
    path("returns/", include("contracts.spreadsheet_urls")),
    path("targets/", include("contracts.revision_urls")),
    path("", include("contracts.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularRedocView.as_view(url_name="schema"), name="api-docs"),
    path("", include("reports.urls")),
]
