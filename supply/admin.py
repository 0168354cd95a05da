"""Master data in the admin: the catalogue, depots, suppliers, written through
`supply_catalogue_edit`, which audits and queues a planning run. Stock, tasks and requests are
shown read-only here: they change only through the services (stock_adjust, the planner, the
lifecycle), so reservations always match the planned legs. Nothing here is deleted: requests,
stock and planned legs refer to items, depots and suppliers (take a depot or supplier out of use
with "active")."""

from django.contrib import admin

from common.admin import ReadOnlyAdmin, ServiceAdmin
from supply import services
from supply.models import Depot, Item, Request, Stock, Supplier, SupplierItem, SupplyTask


class CatalogueAdmin(ServiceAdmin):
    """The row and its inline rows are written in one `supply_catalogue_edit`, from save_related
    (Django calls it right after save_model, in the same transaction)."""

    kind: str

    def save_model(self, request, obj, form, change):
        """Written with its inline rows in save_related."""

    def save_related(self, request, form, formsets, change):
        def write():
            form.instance.save()
            for formset in formsets:
                self.save_formset(request, form, formset, change=change)
            return form.instance

        services.supply_catalogue_edit(
            kind=self.kind, object_id=form.instance.pk if change else None, actor=request.user, write=write
        )

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Item)
class ItemAdmin(CatalogueAdmin):
    kind = "item"
    list_display = ["code", "name", "name_en", "unit", "unit_en", "sort_order"]
    search_fields = ["code", "name", "name_en"]


class StockInline(admin.TabularInline):
    """Read-only: stock changes through stock_adjust, which keeps reservations right."""

    model = Stock
    fields = ["item", "on_hand", "reserved", "updated_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Depot)
class DepotAdmin(CatalogueAdmin):
    kind = "depot"
    list_display = ["code", "name", "dispatches_per_day", "dispatch_opens", "dispatch_closes", "active"]
    inlines = [StockInline]


class SupplierItemInline(admin.TabularInline):
    model = SupplierItem
    extra = 1


@admin.register(Supplier)
class SupplierAdmin(CatalogueAdmin):
    kind = "supplier"
    list_display = ["name", "latitude", "longitude", "active"]
    inlines = [SupplierItemInline]


@admin.register(SupplyTask)
class SupplyTaskAdmin(ReadOnlyAdmin):
    """Made by the planner and moved by the lifecycle services, which keep stock reservations right."""

    list_display = ["key", "shelter", "item", "quantity", "unsourced_quantity", "status", "promised_at"]
    list_filter = ["status", "item"]


@admin.register(Request)
class RequestAdmin(ReadOnlyAdmin):
    """Filed by shelters and survey answers through request_create; planned by the planner."""

    list_display = ["id", "shelter", "item", "quantity", "urgency", "status", "origin", "created_at"]
    list_filter = ["status", "origin", "item"]
    # The person a request is for stays out of the admin's lists (personal data: see the policy).
    exclude = ["evacuee"]
