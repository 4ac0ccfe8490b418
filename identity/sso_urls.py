"""Single sign-on, mounted at /sso/ (404 while OIDC_RP_CLIENT_ID is unset)."""

from django.urls import path

from identity import sso_views

app_name = "sso"

urlpatterns = [
    path("start/", sso_views.SignInStartView.as_view(), name="start"),
    path("callback/", sso_views.SignInCallbackView.as_view(), name="callback"),
]
