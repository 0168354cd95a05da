"""Supply pages: a shelter's requests and their promised dates, and HQ's live supply board."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from access import people, policy
from access import supply_requests as request_access
from common.permissions import role_required
from realtime.labels import live_labels
from shelters.models import Shelter
from shelters.templatetags.withheld import withheld_text
from supply import selectors
from supply.api import RequestSerializer, TaskSerializer
from supply.models import Item, TaskStatus, Urgency


@role_required
def shelter_supplies(request, shelter_id: int):
    shelter = get_object_or_404(Shelter, pk=shelter_id)
    if not policy.can_request_supplies(request.user, shelter):
        raise PermissionDenied
    requests = request_access.supply_requests_for_list(
        user=request.user, shelter_id=shelter.pk, purpose="page.shelter_supplies"
    )
    return render(
        request,
        "supply/shelter.html",
        {
            "shelter": shelter,
            "items": Item.objects.all(),
            # A request may be for one resident: the people staying here, as the residents page shows them.
            # Someone whose name is withheld is offered by the marker that says so, not a blank.
            "residents": [
                {"id": stay.evacuee_id, "name": withheld_text(stay.evacuee, "basic") or stay.evacuee.name}
                for stay in people.shelter_residents(
                    user=request.user, shelter=shelter, purpose="page.shelter_supplies"
                )
            ],
            "urgencies": Urgency.choices,
            "requests": RequestSerializer(requests, many=True).data,
            "arriving": TaskSerializer(
                selectors.tasks_visible_to(request.user).filter(
                    shelter=shelter, status__in=[TaskStatus.DISPATCHED, TaskStatus.DELIVERED]
                ),
                many=True,
            ).data,
            "config": {"shelter": shelter.pk, "stream": f"/ws/shelters/{shelter.pk}/"},
            "labels": live_labels(),
            "supply_labels": {
                "waiting": _("waiting for planning"),
                "no_date": _("no date yet"),
                "none": _("No requests yet."),
                "failed": _("The request could not be filed."),
                "confirm": _("Confirm receipt"),
                "whole_shelter": _("Whole shelter"),
                "nothing_arriving": _("Nothing on its way."),
            },
        },
    )


@role_required
def supply_board(request):
    if not policy.can_watch_supplies(request.user):
        raise PermissionDenied
    return render(
        request,
        "supply/board.html",
        {
            "board": selectors.supply_board(),
            "can_run": policy.can_run_supplies(request.user),
            "labels": live_labels(),
            "board_labels": {
                "none": _("None."),
                "overdue_alert": _("Supply tasks are overdue: %(count)s"),
                "no_date": _("no date yet"),
                "dispatch": _("Dispatched"),
                "deliver": _("Delivered"),
                "cancel": _("Cancel"),
                "failed": _("That did not work: %(message)s"),
            },
        },
    )
