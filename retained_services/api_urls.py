from rest_framework.routers import SimpleRouter

from retained_services.api import DatasetViewSet

app_name = "retained-api"
router = SimpleRouter()
router.register("datasets", DatasetViewSet, basename="dataset")
urlpatterns = router.urls
