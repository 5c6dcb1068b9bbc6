from django.contrib import admin
from import_export.admin import ImportExportMixin

from commissions.models import CommissionRecord
from tenants.admin_scoping import ScopedImportExportMixin, TenantScopedAdmin, TenantScopedInline

from .models import Order, OrderLine, Refund
from .resources import OrderResource


class ReadOnlyInline(TenantScopedInline, admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["line_id", "sku", "category", "quantity", "unit_price", "discount", "commissionable",
              "discount_share", "non_cash_share", "net", "refunded_quantity"]


class RecordInline(ReadOnlyInline):
    model = CommissionRecord
    fk_name = "order"
    fields = ["level", "beneficiary", "rate", "amount", "reversed_amount", "status", "settles_at"]


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["external_id", "kind", "amount", "shipping", "tax", "reason", "refunded_at"]


@admin.register(Order)
class OrderAdmin(ScopedImportExportMixin, ImportExportMixin, TenantScopedAdmin):
    list_display = ["external_id", "status", "currency", "goods_total", "commission_base", "attributed_to", "paid_at"]
    list_filter = ["status", "commission_state", "currency"]
    search_fields = ["external_id", "buyer_external_id"]
    list_select_related = ["attributed_to"]
    date_hierarchy = "paid_at"
    inlines = [LineInline, RecordInline, RefundInline]
    resource_classes = [OrderResource]

    def has_import_permission(self, request):
        # an import records orders into one tenant: tenant staff import into theirs
        return not request.user.is_superuser and request.user.has_perm("orders.add_order")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False  # orders come from partner systems through the API

    def has_delete_permission(self, request, obj=None):
        return False
