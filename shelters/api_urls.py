from rest_framework.routers import DefaultRouter

from shelters import api

router = DefaultRouter()
router.register("shelters", api.ShelterViewSet, basename="shelter")
router.register("evacuees", api.EvacueeViewSet, basename="evacuee")
router.register("households", api.HouseholdViewSet, basename="household")
router.register("stays", api.StayViewSet, basename="stay")
router.register("check-ins", api.CheckInViewSet, basename="check-in")

urlpatterns = router.urls
