"""The reading pages. No app namespace: settings.LOGIN_REDIRECT_URL names "home"."""

from django.urls import path

from reports import report_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("contracts/<slug:slug>/scorecard/", views.scorecard, name="scorecard"),
    path("contracts/<slug:slug>/scorecard.xlsx", views.scorecard_xlsx, name="scorecard-xlsx"),
    path("contracts/<slug:slug>/dashboard/", views.dashboard, name="dashboard"),
    path("contracts/<slug:slug>/measures/<slug:measure>/", views.measure_page, name="measure"),
    path(
        "contracts/<slug:slug>/measures/<slug:measure>/commentary/",
        views.commentary_review,
        name="measure-commentary",
    ),
    path(
        "contracts/<slug:slug>/measures/<slug:measure>/rebases/",
        views.record_rebase,
        name="measure-rebase",
    ),
    path("reports/<slug:slug>/", report_views.report_latest, name="report-latest"),
    path("reports/<slug:slug>/<str:period>/", report_views.report, name="report"),
    path("reports/<slug:slug>/<str:period>/text/", report_views.report_text, name="report-text"),
    path("reports/<slug:slug>/<str:period>/publish/", report_views.report_publish, name="report-publish"),
    path(
        "reports/<slug:slug>/<str:period>/published/",
        report_views.report_published,
        name="report-published",
    ),
]
