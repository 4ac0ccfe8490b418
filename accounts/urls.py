"""Your account, namespaced ``accounts`` and mounted at /accounts/ (beside ``login`` and
``logout``, which keep their own names)."""

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.account, name="account"),
    path("two-factor/", views.two_factor, name="two-factor"),
    path("two-factor/set-up/", views.two_factor_set_up, name="two-factor-set-up"),
    path("two-factor/remove/", views.two_factor_remove, name="two-factor-remove"),
    path("password/", views.PasswordChangeView.as_view(), name="password"),
    path("api-token/", views.api_token_create, name="api-token-create"),
    path("api-token/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path("tokens/", views.organisation_tokens, name="organisation-tokens"),
    path("tokens/<int:user_id>/revoke/", views.organisation_token_revoke, name="organisation-token-revoke"),
]
