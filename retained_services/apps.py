from django.apps import AppConfig


class RetainedServicesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "retained_services"
