"""The HQ dashboard and the shelter dashboards: first paint from a snapshot, then live over WebSocket."""

from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from access import policy
from common import limits, withheld
from common.permissions import role_required
from dashboard import figures, selectors
from realtime.labels import live_labels
from shelters.models import Shelter


def _hours(request) -> int:
    try:
        return min(max(int(request.GET.get("hours", 48)), 1), 24 * 365)
    except ValueError:
        return 48


@role_required
def hq_dashboard(request):
    if not policy.can_watch_city(request.user):
        raise PermissionDenied
    snapshot = selectors.city_snapshot(user=request.user)
    hours = _hours(request)
    history = selectors.occupancy_history(hours=hours)
    return render(
        request,
        "dashboard/hq.html",
        {
            "snapshot": snapshot,
            "categories": selectors.categories(),
            "map_figure": figures.shelter_map(snapshot["shelters"]),
            "history_figure": figures.occupancy_over_time(history, title=_("People in shelters, city-wide")),
            "hours": hours,
            "labels": live_labels(),
            "outside_areas": selectors.outside_areas(request.user),
        },
    )


@role_required
def shelter_dashboard(request, shelter_id: int):
    shelter = get_object_or_404(Shelter, pk=shelter_id)
    if not policy.can_watch_shelter(request.user, shelter.pk):
        raise PermissionDenied
    snapshot = selectors.shelter_snapshot(user=request.user, shelter_id=shelter.pk, purpose="page.shelter_dashboard")
    hours = _hours(request)
    history = selectors.occupancy_history(shelter_ids=[shelter.pk], hours=hours)
    return render(
        request,
        "dashboard/shelter.html",
        {
            "shelter": shelter,
            "snapshot": snapshot,
            "categories": selectors.categories(),
            "history_figure": figures.occupancy_over_time(history),
            "flow_figure": figures.arrivals_and_departures(history),
            "shows_names": snapshot["support_list"] is not None,
            "can_operate": policy.can_operate_shelter(request.user, shelter),
            "hours": hours,
            # Names withheld from this reader show a marker and why (common/withheld.py).
            "labels": {**live_labels(), "withheld": withheld.labels()},
        },
    )


@role_required
def history(request):
    """The occupancy series for a chart refresh: city-wide, or one shelter (`?shelter=`)."""
    shelter_id = request.GET.get("shelter")
    if shelter_id:
        if not limits.is_id(shelter_id) or not policy.can_watch_shelter(request.user, int(shelter_id)):
            raise PermissionDenied
        series = selectors.occupancy_history(shelter_ids=[int(shelter_id)], hours=_hours(request))
    else:
        if not policy.can_watch_city(request.user):
            raise PermissionDenied
        series = selectors.occupancy_history(hours=_hours(request))
    return JsonResponse(
        {
            "times": [t.isoformat() for t in series.times],
            "occupancy": series.occupancy,
            "arrivals": series.arrivals,
            "departures": series.departures,
        }
    )
