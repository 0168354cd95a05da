"""The Django admin for master data: shelters' registry, facilities, support categories, users.

Operational data (stays, status) is changed through the desk and the API, whose services keep
occupancy and the history right, so the admin shows it read-only.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from common.admin import ReadOnlyAdmin
from shelters.models import (
    Facility,
    Shelter,
    ShelterStatusChange,
    Stay,
    SupportCategory,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, (_("Shelter operations"), {"fields": ("role", "managed_shelters")}))
    list_display = ("username", "role", "is_active", "is_staff")
    list_filter = ("role", "is_active")
    filter_horizontal = ("managed_shelters", "groups", "user_permissions")


@admin.register(Shelter)
class ShelterAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "status", "occupancy", "capacity", "source")
    list_filter = ("status", "kind", "source")
    search_fields = ("code", "common_id", "name", "name_kana", "address")
    filter_horizontal = ("facilities",)
    readonly_fields = ("status", "opened_at", "closed_at", "occupancy", "outside_count", "created_at", "updated_at")


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "sort_order")


@admin.register(SupportCategory)
class SupportCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "sort_order", "active")
    list_editable = ("sort_order", "active")


@admin.register(ShelterStatusChange)
class ShelterStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ("shelter", "from_status", "to_status", "changed_by", "changed_at", "automatic")
    list_filter = ("to_status", "automatic")


@admin.register(Stay)
class StayAdmin(ReadOnlyAdmin):
    list_display = ("id", "evacuee_id", "shelter", "mode", "checked_in_at", "checked_out_at", "destination")
    list_filter = ("mode", "destination", "source")
