"""What the City OS sync needs to know of the people staying in shelters: their common IDs, nothing else.

For a background job (cityos.tasks), never for a page: the IDs go back to the City OS they came
from, and nobody is shown anyone, so there is no read to record.
"""

from django.db.models import Exists, OuterRef

from shelters.models import Evacuee, Stay


def city_os_ids_staying(*, after_id: int, limit: int) -> list[tuple[int, str]]:
    """(evacuee id, City OS ID) of people with an open stay and a City OS ID, by id after `after_id`."""
    staying = Stay.objects.filter(evacuee=OuterRef("pk"), checked_out_at__isnull=True)
    return list(
        Evacuee.objects.filter(Exists(staying), pk__gt=after_id, city_os_id__isnull=False)
        .exclude(city_os_id="")
        .order_by("pk")
        .values_list("pk", "city_os_id")[:limit]
    )
