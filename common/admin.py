from django.contrib import admin

from common.models import AuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only services write (stays, histories, audit): the admin shows them, never edits."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_id")
    list_filter = ("action",)
