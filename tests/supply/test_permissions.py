"""Who may do what with supplies, persona by persona (HQ, manager A, manager B, official, anonymous)."""

import pytest

from supply import services
from supply.models import Request, SupplyTask, TaskStatus
from tests.supply.conftest import MORNING


@pytest.fixture
def personas(hq, manager_a, manager_b, official):
    return {"hq": hq, "manager_a": manager_a, "manager_b": manager_b, "official": official, None: None}


@pytest.fixture
def planned_task(shelter_a, manager_a, water, stock):
    services.request_create(shelter=shelter_a, item=water, actor=manager_a, quantity=5)
    services.supply_plan_open_requests(now=MORNING)
    return SupplyTask.objects.get()


@pytest.mark.parametrize(
    ("persona", "expected"), [("hq", 201), ("manager_a", 201), ("manager_b", 403), ("official", 403), (None, 403)]
)
def test_only_hq_and_the_shelters_own_manager_may_file_a_request(api_as, personas, persona, expected, shelter_a, water):
    response = api_as(personas[persona]).post(
        "/api/supply/requests/", {"shelter": shelter_a.pk, "item": "water", "quantity": 3, "urgency": "urgent"}
    )
    assert response.status_code == expected, response.content
    assert Request.objects.count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize(("persona", "count"), [("hq", 1), ("manager_a", 1), ("manager_b", 0)])
def test_requests_are_listed_to_hq_and_the_shelters_own_manager(api_as, personas, persona, count, planned_task):
    response = api_as(personas[persona]).get("/api/supply/requests/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == count
    if count:
        assert rows[0]["promised_at"] is not None and rows[0]["status"] == "planned"


@pytest.mark.parametrize(("persona", "expected"), [("official", 403), (None, 403)])
def test_officials_and_strangers_never_see_requests_which_may_name_a_person(
    api_as, personas, persona, expected, planned_task
):
    assert api_as(personas[persona]).get("/api/supply/requests/").status_code == expected


@pytest.mark.parametrize(
    ("persona", "expected"), [("hq", 200), ("manager_a", 403), ("manager_b", 404), ("official", 403), (None, 403)]
)
def test_only_hq_dispatches_a_task(api_as, personas, persona, expected, planned_task):
    response = api_as(personas[persona]).post(f"/api/supply/tasks/{planned_task.pk}/dispatch/")
    assert response.status_code == expected, response.content
    planned_task.refresh_from_db()
    assert (planned_task.status == TaskStatus.DISPATCHED) == (expected == 200)


@pytest.mark.parametrize(
    ("persona", "expected"), [("hq", 200), ("manager_a", 200), ("manager_b", 404), ("official", 403), (None, 403)]
)
def test_the_shelters_own_manager_confirms_what_arrived(api_as, personas, persona, expected, planned_task, hq):
    services.supply_task_dispatch(task_id=planned_task.pk, actor=hq)
    response = api_as(personas[persona]).post(f"/api/supply/tasks/{planned_task.pk}/receive/", {"quantity": 5})
    assert response.status_code == expected, response.content
    planned_task.refresh_from_db()
    assert (planned_task.status == TaskStatus.RECEIVED) == (expected == 200)


@pytest.mark.parametrize(
    ("persona", "expected"), [("hq", 200), ("official", 200), ("manager_a", 403), ("manager_b", 403), (None, 403)]
)
def test_hq_and_officials_read_the_supply_board(api_as, personas, persona, expected, planned_task):
    response = api_as(personas[persona]).get("/api/supply/board/")
    assert response.status_code == expected
    if expected == 200:
        board = response.json()
        assert [task["id"] for task in board["tasks"]] == [planned_task.pk]
        assert "evacuee" not in str(board)


@pytest.mark.parametrize(("persona", "expected"), [("hq", 200), ("official", 403), ("manager_a", 403), (None, 403)])
def test_only_hq_adjusts_stock(api_as, personas, persona, expected, depots, stock):
    response = api_as(personas[persona]).post(
        "/api/supply/stock/adjust/", {"depot": depots[0].pk, "item": "water", "change": 10}
    )
    assert response.status_code == expected
    assert stock[("near", "water")].__class__.objects.get(pk=stock[("near", "water")].pk).on_hand == (
        40 if expected == 200 else 30
    )


def test_a_bad_quantity_is_refused_naming_the_field(api_as, manager_a, shelter_a, water):
    response = api_as(manager_a).post(
        "/api/supply/requests/", {"shelter": shelter_a.pk, "item": "water", "quantity": 0}
    )
    assert response.status_code == 400
    assert "quantity" in response.json()["error"]["fields"]


def test_taking_out_more_stock_than_there_is_is_refused_with_the_api_error_shape(api_as, hq, depots, stock):
    response = api_as(hq).post("/api/supply/stock/adjust/", {"depot": depots[0].pk, "item": "water", "change": -31})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "negative_stock"


@pytest.mark.parametrize(
    ("persona", "expected"), [("hq", 200), ("manager_a", 200), ("manager_b", 403), ("official", 403), (None, 302)]
)
def test_a_shelters_supply_page_is_for_hq_and_its_own_managers(as_user, personas, persona, expected, planned_task):
    response = as_user(personas[persona]).get(f"/supplies/shelters/{planned_task.shelter_id}/")
    assert response.status_code == expected
    if expected == 200:
        assert b"requests-data" in response.content


@pytest.mark.parametrize(
    ("persona", "expected"), [("hq", 200), ("official", 200), ("manager_a", 403), ("manager_b", 403), (None, 302)]
)
def test_the_supply_board_page_is_for_hq_and_officials(as_user, personas, persona, expected, planned_task):
    response = as_user(personas[persona]).get("/supplies/")
    assert response.status_code == expected


def test_a_manager_files_a_request_for_one_of_the_shelters_residents(api_as, manager_a, shelter_a, water):
    from shelters.services import stay_check_in
    from tests.factories import EvacueeFactory

    resident = EvacueeFactory()
    stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[resident.pk], actor=manager_a)

    response = api_as(manager_a).post(
        "/api/supply/requests/", {"shelter": shelter_a.pk, "item": "water", "quantity": 2, "evacuee": resident.pk}
    )

    assert response.status_code == 201, response.content
    assert Request.objects.get().evacuee == resident


def test_a_manager_cannot_file_a_request_for_someone_staying_in_another_shelter(
    api_as, hq, manager_a, shelter_a, shelter_b, water
):
    from shelters.services import stay_check_in
    from tests.factories import EvacueeFactory

    elsewhere = EvacueeFactory()
    stay_check_in(shelter_id=shelter_b.pk, evacuee_ids=[elsewhere.pk], actor=hq)

    response = api_as(manager_a).post(
        "/api/supply/requests/", {"shelter": shelter_a.pk, "item": "water", "quantity": 2, "evacuee": elsewhere.pk}
    )

    assert response.status_code == 404
    assert not Request.objects.exists()
