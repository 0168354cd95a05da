"""The admin writes through the services: a shelter's capacity edited there sets or lifts 満員, is
audited and sent live after commit; users' roles and shelters, facilities and support categories
are audited; status, counters and source cannot be edited there at all.

Each test posts the real admin form, as the admin persona's browser would.
"""

import pytest
from django.contrib import admin
from django.urls import reverse

from common.admin import ReadOnlyAdmin, ServiceAdmin
from common.models import AuditEntry
from realtime import broadcast
from shelters.models import DataSource, Facility, Role, Shelter, ShelterStatus, SupportCategory, User
from shelters.services import shelter_status_change, stay_check_in
from tests.admin_forms import form_data
from tests.factories import EvacueeFactory, ShelterFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(as_user, admin_user):
    return as_user(admin_user)


def check_in(shelter, people: int, django_capture_on_commit_callbacks):
    # Committed as a real check-in would be, so its events are out of the way of the test's own.
    with django_capture_on_commit_callbacks(execute=True):
        stay_check_in(
            shelter_id=shelter.pk, evacuee_ids=[e.pk for e in EvacueeFactory.create_batch(people)], actor=None
        )
    shelter.refresh_from_db()


def post_change(client, shelter, django_capture_on_commit_callbacks, **changes):
    """Post the shelter's change form with these changes; returns (response, on-commit callbacks not yet run)."""
    url = reverse("admin:shelters_shelter_change", args=[shelter.pk])
    data = form_data(client.get(url)) | changes
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    shelter.refresh_from_db()
    return response, callbacks


def sent_states(listener) -> list[dict]:
    return [
        state for event in listener.heard() if event["type"] == "shelter.updated" for state in event["data"]["shelters"]
    ]


def test_lowering_the_capacity_to_the_occupancy_turns_an_open_shelter_full_audited_and_sent_after_commit(
    admin_client, admin_user, shelter_a, listen, django_capture_on_commit_callbacks
):
    check_in(shelter_a, 4, django_capture_on_commit_callbacks)
    listener = listen(broadcast.shelter_stream(shelter_a.pk))

    _response, callbacks = post_change(admin_client, shelter_a, django_capture_on_commit_callbacks, capacity=4)

    assert (shelter_a.capacity, shelter_a.status) == (4, ShelterStatus.FULL)
    change = shelter_a.status_changes.first()
    assert (change.to_status, change.automatic) == (ShelterStatus.FULL, True)
    update = AuditEntry.objects.get(action="shelter.update")
    assert (update.actor, update.object_id, update.details) == (admin_user, str(shelter_a.pk), {"fields": ["capacity"]})
    assert AuditEntry.objects.filter(action="shelter.status_change", object_id=str(shelter_a.pk)).exists()
    # Nothing goes out before the commit; then one event with the committed state.
    assert listener.heard() == []
    for callback in callbacks:
        callback()
    [state] = sent_states(listener)
    assert (state["id"], state["capacity"], state["status"], state["version"]) == (
        shelter_a.pk,
        4,
        ShelterStatus.FULL,
        shelter_a.version,
    )


def test_raising_the_capacity_lifts_a_full_that_occupancy_set(admin_client, listen, django_capture_on_commit_callbacks):
    shelter = ShelterFactory(capacity=2)
    check_in(shelter, 2, django_capture_on_commit_callbacks)
    assert shelter.status == ShelterStatus.FULL
    listener = listen(broadcast.CITY_STREAM)

    _response, callbacks = post_change(admin_client, shelter, django_capture_on_commit_callbacks, capacity=5)
    for callback in callbacks:
        callback()

    assert (shelter.capacity, shelter.status) == (5, ShelterStatus.OPEN)
    assert shelter.status_changes.first().automatic
    [state] = sent_states(listener)
    assert (state["capacity"], state["status"]) == (5, ShelterStatus.OPEN)


def test_raising_the_capacity_never_lifts_a_full_that_a_manager_declared(
    admin_client, manager_a, shelter_a, django_capture_on_commit_callbacks
):
    check_in(shelter_a, 3, django_capture_on_commit_callbacks)
    shelter_status_change(shelter_id=shelter_a.pk, to_status=ShelterStatus.FULL, actor=manager_a, reason="閉め切り")

    post_change(admin_client, shelter_a, django_capture_on_commit_callbacks, capacity=50)

    assert (shelter_a.capacity, shelter_a.status) == (50, ShelterStatus.FULL)
    assert not shelter_a.status_changes.filter(automatic=True).exists()


def test_removing_the_capacity_lifts_a_full_that_occupancy_set(admin_client, django_capture_on_commit_callbacks):
    shelter = ShelterFactory(capacity=1)
    check_in(shelter, 1, django_capture_on_commit_callbacks)

    post_change(admin_client, shelter, django_capture_on_commit_callbacks, capacity="")

    assert (shelter.capacity, shelter.status) == (None, ShelterStatus.OPEN)


def test_the_admin_cannot_edit_occupancy_status_counters_or_source(
    admin_client, shelter_a, django_capture_on_commit_callbacks
):
    check_in(shelter_a, 2, django_capture_on_commit_callbacks)
    form = admin_client.get(reverse("admin:shelters_shelter_change", args=[shelter_a.pk])).context["adminform"].form
    assert not {"status", "occupancy", "outside_count", "opened_at", "closed_at", "source", "version"} & set(
        form.fields
    )

    post_change(
        admin_client,
        shelter_a,
        django_capture_on_commit_callbacks,
        name="改名した避難所",
        status=ShelterStatus.CLOSED,
        occupancy=99,
        outside_count=7,
        source=DataSource.SAMPLE,
        version=10_000,
    )

    assert (shelter_a.name, shelter_a.status, shelter_a.occupancy, shelter_a.outside_count, shelter_a.source) == (
        "改名した避難所",
        ShelterStatus.OPEN,
        2,
        0,
        DataSource.REAL,
    )
    assert AuditEntry.objects.get(action="shelter.update").details == {"fields": ["name"]}


def test_an_unchanged_save_writes_and_sends_nothing(
    admin_client, shelter_a, listen, django_capture_on_commit_callbacks
):
    version = shelter_a.version
    _response, callbacks = post_change(admin_client, shelter_a, django_capture_on_commit_callbacks)

    assert shelter_a.version == version
    assert not AuditEntry.objects.filter(action="shelter.update").exists()
    assert callbacks == []


def test_facilities_chosen_in_the_admin_are_saved_by_the_service(
    admin_client, shelter_a, django_capture_on_commit_callbacks
):
    generator = Facility.objects.get_or_create(code="generator", defaults={"name": "発電機", "name_en": "Generator"})[0]

    post_change(admin_client, shelter_a, django_capture_on_commit_callbacks, facilities=[generator.pk])

    assert list(shelter_a.facilities.all()) == [generator]
    assert AuditEntry.objects.get(action="shelter.update").details == {"fields": ["facilities"]}


def test_a_shelter_added_in_the_admin_starts_in_standby_as_real_data_audited_and_sent(
    admin_client, admin_user, listen, django_capture_on_commit_callbacks
):
    listener = listen(broadcast.CITY_STREAM)
    url = reverse("admin:shelters_shelter_add")
    data = form_data(admin_client.get(url)) | {"code": "NEW-001", "name": "新しい避難所", "capacity": 80}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    shelter = Shelter.objects.get(code="NEW-001")
    assert (shelter.status, shelter.source, shelter.capacity) == (ShelterStatus.STANDBY, DataSource.REAL, 80)
    entry = AuditEntry.objects.get(action="shelter.create")
    assert (entry.actor, entry.object_id) == (admin_user, str(shelter.pk))
    assert [state["id"] for state in sent_states(listener)] == [shelter.pk]


def test_a_shelter_cannot_be_deleted_in_the_admin(admin_client, shelter_a):
    response = admin_client.get(reverse("admin:shelters_shelter_delete", args=[shelter_a.pk]))
    assert response.status_code == 403


# --- Users --------------------------------------------------------------------------------------


def post_user_change(client, user, **changes):
    url = reverse("admin:shelters_user_change", args=[user.pk])
    response = client.post(url, form_data(client.get(url)) | changes)
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()


def test_a_managers_shelters_changed_in_the_admin_are_audited_by_the_roles_service(
    admin_client, admin_user, manager_a, shelter_a, shelter_b
):
    post_user_change(admin_client, manager_a, managed_shelters=[shelter_b.pk])

    assert list(manager_a.managed_shelters.all()) == [shelter_b]
    entry = AuditEntry.objects.get(action="user.roles_update")
    assert (entry.actor, entry.object_id) == (admin_user, str(manager_a.pk))
    assert entry.details == {"added_shelters": [shelter_b.pk], "removed_shelters": [shelter_a.pk]}
    assert not AuditEntry.objects.filter(action="user.update").exists()


def test_a_role_changed_in_the_admin_is_audited_with_both_roles(admin_client, official):
    post_user_change(admin_client, official, role=Role.HQ)

    assert official.role == Role.HQ
    assert AuditEntry.objects.get(action="user.roles_update").details == {
        "from_role": Role.OFFICIAL,
        "to_role": Role.HQ,
    }


def test_deactivating_an_account_in_the_admin_is_audited_by_field_name_only(admin_client, manager_a):
    post_user_change(admin_client, manager_a, email="manager@example.jp")
    post_user_change(admin_client, manager_a, is_active="")

    assert not manager_a.is_active
    assert list(AuditEntry.objects.filter(action="user.update").order_by("pk").values_list("details", flat=True)) == [
        {"fields": ["email"]},
        {"fields": ["is_active"]},
    ]
    assert "manager@example.jp" not in str(list(AuditEntry.objects.values_list("details", flat=True)))


def test_a_user_added_in_the_admin_is_created_by_the_service_and_can_log_in(as_user, admin_client, admin_user):
    url = reverse("admin:shelters_user_add")
    response = admin_client.post(
        url,
        {
            "username": "new-hq",
            "usable_password": "true",
            "password1": "a-long-pass-2026",
            "password2": "a-long-pass-2026",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="new-hq")
    assert (user.role, user.is_staff) == ("", False)
    assert AuditEntry.objects.get(action="user.create").actor == admin_user
    assert as_user(None).login(username="new-hq", password="a-long-pass-2026")


def test_a_password_set_in_the_admin_is_audited_with_the_admin_as_the_actor(as_user, admin_client, admin_user, hq):
    url = reverse("admin:auth_user_password_change", args=[hq.pk])
    response = admin_client.post(
        url, {"password1": "another-pass-2026", "password2": "another-pass-2026", "usable_password": "true"}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="user.password_set")
    assert (entry.actor, entry.object_id, entry.details) == (admin_user, str(hq.pk), {})
    assert as_user(None).login(username="hq", password="another-pass-2026")


def test_an_account_cannot_be_deleted_in_the_admin(admin_client, hq):
    response = admin_client.get(reverse("admin:shelters_user_delete", args=[hq.pk]))
    assert response.status_code == 403


# --- Facilities and support categories --------------------------------------------------------


def test_a_facility_added_changed_and_deleted_in_the_admin_is_audited_each_time(admin_client, admin_user, shelter_a):
    url = reverse("admin:shelters_facility_add")
    response = admin_client.post(url, {"code": "sauna", "name": "サウナ", "name_en": "Sauna", "sort_order": 90})
    assert response.status_code == 302
    facility = Facility.objects.get(code="sauna")
    shelter_a.facilities.add(facility)
    change_url = reverse("admin:shelters_facility_change", args=[facility.pk])
    admin_client.post(change_url, form_data(admin_client.get(change_url)) | {"name_en": "Sauna room"})

    response = admin_client.post(reverse("admin:shelters_facility_delete", args=[facility.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not Facility.objects.filter(code="sauna").exists()
    assert not shelter_a.facilities.exists()
    assert list(
        AuditEntry.objects.filter(object_type="facility").order_by("pk").values_list("action", "details", "actor")
    ) == [
        ("facility.create", {"fields": ["code", "name", "name_en", "sort_order"]}, admin_user.pk),
        ("facility.update", {"fields": ["name_en"]}, admin_user.pk),
        ("facility.delete", {}, admin_user.pk),
    ]


def test_a_support_category_taken_out_of_use_in_the_list_is_audited_and_redraws_open_shelters(
    admin_client, support_categories, shelter_a, listen, django_capture_on_commit_callbacks
):
    category = SupportCategory.objects.order_by("sort_order", "code").first()
    listener = listen(broadcast.CITY_STREAM)
    url = reverse("admin:shelters_supportcategory_changelist")
    formset = admin_client.get(url).context["cl"].formset
    data = {"_save": "Save"}
    for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
        data[f"form-{name}"] = formset.management_form[name].value()
    for index, form in enumerate(formset.forms):
        data[f"form-{index}-id"] = form.instance.pk
        data[f"form-{index}-sort_order"] = form.instance.sort_order
        if form.instance.active and form.instance.pk != category.pk:
            data[f"form-{index}-active"] = "on"

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    category.refresh_from_db()
    assert not category.active
    entry = AuditEntry.objects.get(action="support_category.update")
    assert (entry.object_id, entry.details) == (str(category.pk), {"fields": ["active"]})
    assert [state["id"] for state in sent_states(listener)] == [shelter_a.pk]


def test_a_support_category_cannot_be_deleted_in_the_admin(admin_client, support_categories):
    category = SupportCategory.objects.first()
    response = admin_client.get(reverse("admin:shelters_supportcategory_delete", args=[category.pk]))
    assert response.status_code == 403


# --- Every admin ---------------------------------------------------------------------------------


def _overrides(model_admin, name: str) -> bool:
    return getattr(type(model_admin), name) is not getattr(ServiceAdmin, name)


# The project's own apps; Django's groups and DRF's tokens are the libraries' business.
PROJECT_ADMINS = [a for a in admin.site._registry.values() if "site-packages" not in a.model._meta.app_config.path]


@pytest.mark.parametrize("model_admin", PROJECT_ADMINS, ids=lambda a: a.model._meta.label)
def test_every_admin_writes_through_a_service_or_is_read_only(model_admin, rf, admin_user):
    request = rf.get("/")
    request.user = admin_user
    if isinstance(model_admin, ReadOnlyAdmin):
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
        assert model_admin.__doc__, "say why it is read-only"
        return
    assert isinstance(model_admin, ServiceAdmin), f"{type(model_admin).__name__} writes without a service"
    assert _overrides(model_admin, "save_model")
    assert _overrides(model_admin, "delete_model") or not model_admin.has_delete_permission(request)
    for inline in model_admin.get_inline_instances(request):
        writable = inline.has_add_permission(request, None) or inline.has_change_permission(request)
        assert not writable or _overrides(model_admin, "save_related"), f"{type(inline).__name__} writes by itself"
