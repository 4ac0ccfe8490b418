"""Spreadsheets in and out (issue 6), namespaced ``spreadsheets`` and mounted at /returns/."""

from django.urls import path

from contracts import spreadsheet_views as views

app_name = "spreadsheets"

urlpatterns = [
    path("<int:pk>/spreadsheet/", views.return_spreadsheet, name="return"),
    path("<int:pk>/spreadsheet/download/", views.download, name="download"),
    path("<int:pk>/upload/", views.upload, name="upload"),
    path("<int:pk>/upload/confirm/", views.confirm, name="confirm"),
    path("<int:pk>/history.<str:fmt>", views.export_history, name="history"),
    path("exports/<slug:contract>/scorecard.<str:fmt>", views.export_scorecard, name="scorecard"),
    path("exports/<slug:contract>/<slug:kind>.<str:fmt>", views.export_list, name="export"),
    path("imports/", views.batch_list, name="batches"),
    path("imports/<int:pk>/", views.batch_detail, name="batch"),
    path("imports/<int:pk>/accept/", views.accept, name="accept"),
]
