from django.urls import path
from rest_framework.routers import DefaultRouter

from shelters import api
from supply import api as supply_api

router = DefaultRouter()
router.register("shelters", api.ShelterViewSet, basename="shelter")
router.register("evacuees", api.EvacueeViewSet, basename="evacuee")
router.register("households", api.HouseholdViewSet, basename="household")
router.register("stays", api.StayViewSet, basename="stay")
router.register("check-ins", api.CheckInViewSet, basename="check-in")
router.register("supply/requests", supply_api.RequestViewSet, basename="supply-request")
router.register("supply/tasks", supply_api.TaskViewSet, basename="supply-task")

urlpatterns = [
    path("supply/stock/adjust/", supply_api.StockAdjustView.as_view(), name="supply-stock-adjust"),
    path("supply/board/", supply_api.SupplyBoardView.as_view(), name="supply-board-data"),
    *router.urls,
]
