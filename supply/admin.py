"""Master data in the admin: the catalogue, depots, suppliers. Stock, tasks and requests are shown
read-only here: they change only through the services (stock_adjust, the planner, the lifecycle),
so reservations always match the planned legs."""

from django.contrib import admin

from supply.models import Depot, Item, Request, Stock, Supplier, SupplierItem, SupplyTask


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "unit", "unit_en", "sort_order"]
    search_fields = ["code", "name", "name_en"]


class StockInline(admin.TabularInline):
    model = Stock
    fields = ["item", "on_hand", "reserved", "updated_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Depot)
class DepotAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "dispatches_per_day", "dispatch_opens", "dispatch_closes", "active"]
    inlines = [StockInline]


class SupplierItemInline(admin.TabularInline):
    model = SupplierItem
    extra = 1


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["name", "latitude", "longitude", "active"]
    inlines = [SupplierItemInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SupplyTask)
class SupplyTaskAdmin(ReadOnlyAdmin):
    list_display = ["key", "shelter", "item", "quantity", "unsourced_quantity", "status", "promised_at"]
    list_filter = ["status", "item"]


@admin.register(Request)
class RequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "shelter", "item", "quantity", "urgency", "status", "origin", "created_at"]
    list_filter = ["status", "origin", "item"]
    # The person a request is for stays out of the admin's lists (personal data: see the policy).
    exclude = ["evacuee"]
