"""When the desk cannot check in, it goes back to the search the volunteer typed, exactly: a name
with a space, a phone number with +81, a text with & in it are searched again as they were."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("typed", ["会津 太郎 1950-04-01", "+81 242-00-1234", "A&B=c"])
def test_a_check_in_with_nobody_chosen_goes_back_to_the_same_search(as_user, manager_a, shelter_a, typed):
    client = as_user(manager_a)

    response = client.post(reverse("shelters:desk_check_in", args=[shelter_a.pk]), {"q": typed, "mode": "inside"})

    assert response.status_code == 302
    again = client.get(response["Location"])
    assert again.context["query"] == typed
