"""Revising a contract's targets (R16), mounted at /targets/."""

from django.urls import path

from contracts import revision_views

app_name = "targets"

urlpatterns = [
    path("revisions/<int:pk>/", revision_views.revision_detail, name="revision"),
    path("revisions/<int:pk>/approve/", revision_views.revision_approve, name="approve"),
    path("<slug:slug>/", revision_views.contract_targets, name="contract"),
]
