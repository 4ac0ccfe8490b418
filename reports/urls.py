"""The reading pages. No app namespace: settings.LOGIN_REDIRECT_URL names "home"."""

from django.urls import path

from reports import views

urlpatterns = [
    path("", views.home, name="home"),
    path("contracts/<slug:slug>/scorecard/", views.scorecard, name="scorecard"),
]
