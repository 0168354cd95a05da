"""Admin base classes: every admin either writes through services or only shows rows.

- `ReadOnlyAdmin`: rows that only services write (stays, histories, the audit trail).
- `ServiceAdmin`: an admin whose forms are validated by Django but written by a service:
  subclasses implement `save_model` (and `delete_model`, or keep deleting off) by calling one
  with the form's changes. `save_related` writes nothing: the form's many-to-many values go to
  the same service call, and an admin with inline rows overrides it to hand them to one too.
  A service's refusal (`ApplicationError`) is shown as a message on the page, the write rolled back.
"""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from common.errors import ApplicationError
from common.models import AuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only services write (stays, histories, audit): the admin shows them, never edits."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceAdmin(admin.ModelAdmin):
    """Django validates the form; a service writes it (see the module's docstring)."""

    def save_model(self, request, obj, form, change):
        raise NotImplementedError(f"{type(self).__name__} must write {self.model.__name__} through a service")

    def delete_model(self, request, obj):
        raise NotImplementedError(f"{type(self).__name__} must delete {self.model.__name__} through a service")

    def delete_queryset(self, request, queryset):
        # The "delete selected" action: one service call per row, never a bulk delete behind its back.
        for obj in queryset:
            self.delete_model(request, obj)

    def save_related(self, request, form, formsets, change):
        """Nothing: save_model handed the many-to-many values to the service already."""

    def has_delete_permission(self, request, obj=None):
        # Off unless the admin deletes through a service.
        return type(self).delete_model is not ServiceAdmin.delete_model and super().has_delete_permission(request, obj)

    @staticmethod
    def changes(form, fields) -> dict:
        """The form's changed values among `fields` (many-to-many values included)."""
        return {name: form.cleaned_data[name] for name in form.changed_data if name in fields}

    def _refusal_shown(self, request, view, *args):
        """Run an admin view; a service's refusal (its transaction rolled back) comes back as a
        message on the same page instead of an error page."""
        try:
            return view(request, *args)
        except ApplicationError as error:
            self.message_user(request, str(error.message), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._refusal_shown(request, super().changeform_view, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        return self._refusal_shown(request, super().changelist_view, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return self._refusal_shown(request, super().delete_view, object_id, extra_context)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit trail is written by the services and never edited."""

    list_display = ("at", "actor", "action", "object_type", "object_id")
    list_filter = ("action",)
