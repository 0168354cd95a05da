"""The Django admin for master data: shelters' registry, facilities, support categories, users.

Every write goes through `shelters.services`, as from the desk, the API or an import: a capacity
edited here sets or lifts 満員, sends `shelter.updated` and is audited. Operational data (stays,
status, the counters) is changed through the desk and the API, whose services keep occupancy and
the history right, so the admin shows it read-only.
"""

from contextvars import ContextVar

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.utils.translation import gettext_lazy as _

from common.admin import ReadOnlyAdmin, ServiceAdmin
from shelters import services
from shelters.importers import REGISTRY_FIELDS
from shelters.models import (
    HAZARD_FIELDS,
    Facility,
    Shelter,
    ShelterStatusChange,
    Stay,
    SupportCategory,
    User,
)
from shelters.services.catalogue import FACILITY_FIELDS, SUPPORT_CATEGORY_FIELDS
from shelters.services.registry import EDITABLE_SHELTER_FIELDS
from shelters.services.users import ACCOUNT_FIELDS

# Who is changing a password: Django's password view builds its form itself, with no request.
_acting_user: ContextVar[User | None] = ContextVar("acting_user", default=None)


class PasswordChangeForm(AdminPasswordChangeForm):
    def save(self, commit=True):
        password = self.cleaned_data["password1"] if self.cleaned_data.get("set_usable_password", True) else None
        self.user = services.user_password_set(user_id=self.user.pk, password=password, actor=_acting_user.get())
        return self.user


@admin.register(User)
class UserAdmin(ServiceAdmin, BaseUserAdmin):
    """Accounts through `user_create`/`user_update`; role and managed shelters through `user_roles_update`."""

    fieldsets = (*BaseUserAdmin.fieldsets, (_("Shelter operations"), {"fields": ("role", "managed_shelters")}))
    readonly_fields = ("last_login", "date_joined")
    list_display = ("username", "role", "is_active", "is_staff")
    list_filter = ("role", "is_active")
    filter_horizontal = ("managed_shelters", "groups", "user_permissions")
    change_password_form = PasswordChangeForm

    def save_model(self, request, obj, form, change):
        if not change:
            usable = form.cleaned_data.get("set_usable_password", True)
            created = services.user_create(
                username=form.cleaned_data["username"],
                password=form.cleaned_data.get("password1") if usable else None,
                actor=request.user,
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        account = self.changes(form, ACCOUNT_FIELDS)
        if account:
            services.user_update(user_id=obj.pk, changes=account, actor=request.user)
        if {"role", "managed_shelters"} & set(form.changed_data):
            services.user_roles_update(
                user_id=obj.pk,
                role=form.cleaned_data["role"],
                managed_shelter_ids=[s.pk for s in form.cleaned_data["managed_shelters"]],
                actor=request.user,
            )
        obj.refresh_from_db()

    def user_change_password(self, request, id, form_url=""):
        token = _acting_user.set(request.user)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _acting_user.reset(token)

    def has_delete_permission(self, request, obj=None):
        # Stays, check-ins and status changes name who did them: deactivate an account instead.
        return False


@admin.register(Shelter)
class ShelterAdmin(ServiceAdmin):
    """Registry fields and facilities through `shelter_create`/`shelter_update`; status and counters read-only."""

    list_display = ("code", "name", "kind", "status", "occupancy", "capacity", "source")
    list_filter = ("status", "kind", "source")
    search_fields = ("code", "common_id", "name", "name_kana", "address")
    filter_horizontal = ("facilities",)
    readonly_fields = (
        "status",
        "opened_at",
        "closed_at",
        "occupancy",
        "outside_count",
        "source",
        "version",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("code", "common_id", "name", "name_kana", "name_en", "kind")}),
        (_("Capacity"), {"fields": ("capacity", "capacity_text", "facilities", "target_associations")}),
        (
            _("Place"),
            {
                "fields": (
                    "municipality_code",
                    "town_id",
                    "address",
                    "prefecture",
                    "city",
                    "town",
                    "block",
                    "building",
                    "district",
                    "latitude",
                    "longitude",
                    "elevation",
                    "phone",
                )
            },
        ),
        (_("Usable as a refuge from"), {"fields": HAZARD_FIELDS}),
        (_("Operations (changed at the desk)"), {"fields": readonly_fields}),
    )

    def save_model(self, request, obj, form, change):
        if change:
            services.shelter_update(
                shelter_id=obj.pk, changes=self.changes(form, EDITABLE_SHELTER_FIELDS), actor=request.user
            )
        else:
            values = {name: form.cleaned_data[name] for name in REGISTRY_FIELDS if name in form.cleaned_data}
            shelter = services.shelter_create(
                fields={**values, "facilities": form.cleaned_data.get("facilities", [])}, actor=request.user
            )
            obj.pk = shelter.pk
        obj.refresh_from_db()

    def has_delete_permission(self, request, obj=None):
        # Shelters are closed, not deleted: stays, answers and supply tasks refer to them. Sample and
        # replay shelters go with their data (load_demo --reset, replay_nanao --clear).
        return False


@admin.register(Facility)
class FacilityAdmin(ServiceAdmin):
    list_display = ("code", "name", "name_en", "sort_order")

    def save_model(self, request, obj, form, change):
        fields = self.changes(form, FACILITY_FIELDS) if change else dict(form.cleaned_data)
        facility = services.facility_save(facility_id=obj.pk if change else None, fields=fields, actor=request.user)
        obj.pk = facility.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.facility_delete(facility_id=obj.pk, actor=request.user)


@admin.register(SupportCategory)
class SupportCategoryAdmin(ServiceAdmin):
    list_display = ("code", "name", "name_en", "sort_order", "active")
    list_editable = ("sort_order", "active")

    def save_model(self, request, obj, form, change):
        fields = self.changes(form, SUPPORT_CATEGORY_FIELDS) if change else dict(form.cleaned_data)
        category = services.support_category_save(
            category_id=obj.pk if change else None, fields=fields, actor=request.user
        )
        obj.pk = category.pk
        obj.refresh_from_db()

    def has_delete_permission(self, request, obj=None):
        # People's support needs refer to their category: take it out of use with "active" instead.
        return False


@admin.register(ShelterStatusChange)
class ShelterStatusChangeAdmin(ReadOnlyAdmin):
    """Written by the status and stay services only: the history of each shelter's status."""

    list_display = ("shelter", "from_status", "to_status", "changed_by", "changed_at", "automatic")
    list_filter = ("to_status", "automatic")


@admin.register(Stay)
class StayAdmin(ReadOnlyAdmin):
    """Written by the stay services only, which keep each shelter's counters equal to its open stays."""

    list_display = ("id", "evacuee_id", "shelter", "mode", "checked_in_at", "checked_out_at", "destination")
    list_filter = ("mode", "destination", "source")
