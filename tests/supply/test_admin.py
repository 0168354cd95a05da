"""Supply master data edited in the admin goes through supply_catalogue_edit: audited, and a
planning run queued after commit; nothing is deleted there, and stock, tasks and requests are
read-only (posting the real admin forms as the admin persona)."""

import pytest
from django.urls import reverse

from common.models import AuditEntry
from shelters.models import Role
from supply.models import Depot, SupplierItem
from supply.services import supply_plan_soon
from tests.admin_forms import form_data
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True)


def test_a_lead_time_added_to_a_supplier_is_saved_with_it_audited_and_queues_planning(
    as_user, admin_user, supplier, water, django_capture_on_commit_callbacks
):
    client = as_user(admin_user)
    url = reverse("admin:supply_supplier_change", args=[supplier.pk])
    data = form_data(client.get(url))
    extra = int(data["items-TOTAL_FORMS"]) - 1  # the blank row the inline offers
    data |= {f"items-{extra}-item": water.pk, f"items-{extra}-lead_time_hours": 6}

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert SupplierItem.objects.get(supplier=supplier, item=water).lead_time_hours == 6
    entry = AuditEntry.objects.get(action="supply_supplier.update")
    assert (entry.actor, entry.object_id) == (admin_user, str(supplier.pk))
    assert supply_plan_soon in callbacks


def test_a_depots_deliveries_a_day_changed_in_the_admin_is_audited_and_its_stock_stays_read_only(
    as_user, admin_user, stock, depots
):
    near, _far = depots
    client = as_user(admin_user)
    url = reverse("admin:supply_depot_change", args=[near.pk])
    page = client.get(url)
    data = form_data(page) | {"dispatches_per_day": 25}
    [stock_rows] = page.context["inline_admin_formsets"]
    assert not stock_rows.has_change_permission and not stock_rows.has_add_permission

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    near.refresh_from_db()
    assert near.dispatches_per_day == 25
    assert AuditEntry.objects.filter(action="supply_depot.update", object_id=str(near.pk)).exists()
    stock[("near", "water")].refresh_from_db()
    assert stock[("near", "water")].on_hand == 30


def test_a_depot_cannot_be_deleted_in_the_admin(as_user, admin_user, depots):
    response = as_user(admin_user).get(reverse("admin:supply_depot_delete", args=[depots[0].pk]))
    assert response.status_code == 403
    assert Depot.objects.filter(pk=depots[0].pk).exists()
