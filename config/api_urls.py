"""The REST API's URLs: every app's viewsets on one router, so /api/ lists them all.

Wiring only, here in config: no app includes another's API (shelters knows nothing of supply).
"""

from django.urls import path
from rest_framework.routers import DefaultRouter

from shelters import api as shelters_api
from shelters import api_batch, hq_api
from supply import api as supply_api

router = DefaultRouter()
router.register("shelters", shelters_api.ShelterViewSet, basename="shelter")
router.register("evacuees", shelters_api.EvacueeViewSet, basename="evacuee")
router.register("households", shelters_api.HouseholdViewSet, basename="household")
router.register("stays", shelters_api.StayViewSet, basename="stay")
router.register("check-ins", shelters_api.CheckInViewSet, basename="check-in")
router.register("desk", shelters_api.DeskAskingViewSet, basename="desk")
router.register("supply/requests", supply_api.RequestViewSet, basename="supply-request")
router.register("supply/tasks", supply_api.TaskViewSet, basename="supply-task")

urlpatterns = [
    path("batch/", api_batch.BatchView.as_view(), name="batch-apply"),
    path("cityos/shelters/", shelters_api.CityOSShelterList.as_view(), name="cityos-shelter-list"),
    path("supply/stock/adjust/", supply_api.StockAdjustView.as_view(), name="supply-stock-adjust"),
    path("supply/board/", supply_api.SupplyBoardView.as_view(), name="supply-board-data"),
    path("disasters/", hq_api.DisasterListView.as_view(), name="disaster-list"),
    path("disasters/<int:pk>/close/", hq_api.DisasterCloseView.as_view(), name="disaster-close"),
    path("releases/", hq_api.ReleaseListView.as_view(), name="release-list"),
    path("releases/<int:pk>/revoke/", hq_api.ReleaseRevokeView.as_view(), name="release-revoke"),
    *router.urls,
]
