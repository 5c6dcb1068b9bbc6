"""The admin site with a dashboard landing page: the tenant's key numbers and links."""
from django.contrib import admin
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _


def tenant_dashboard(tenant) -> dict:
    """Key numbers of one tenant (amounts in its currency, with its places)."""
    from distributors.models import Distributor
    from fenxiao.admin_money import money_display
    from fenxiao.currencies import exact_sum
    from ledger.models import Balance, Withdrawal
    from orders.models import Order

    tenant_id = tenant.pk

    def money(v):
        return money_display(exact_sum(v, tenant.currency), tenant.currency)

    orders = Order.unscoped.filter(tenant_id=tenant_id).aggregate(
        n=Count("id"), paid=Count("id", filter=Q(paid_at__isnull=False)),
        gmv=Sum("net_base", filter=Q(attributed_to__isnull=False, paid_at__isnull=False)))
    people = Distributor.unscoped.filter(tenant_id=tenant_id).aggregate(
        active=Count("id", filter=Q(status="active")), pending=Count("id", filter=Q(status="pending")),
        frozen=Count("id", filter=Q(status="frozen")))
    money_row = Balance.unscoped.filter(tenant_id=tenant_id).aggregate(
        frozen=Sum("frozen"), available=Sum("available"), held=Sum("held"), withdrawn=Sum("withdrawn"))
    waiting = Withdrawal.unscoped.filter(tenant_id=tenant_id, status="requested").count()
    return {
        "orders": orders["n"], "paid_orders": orders["paid"], "gmv": money(orders["gmv"]),
        "distributors_active": people["active"], "distributors_pending": people["pending"],
        "distributors_frozen": people["frozen"],
        "commission_frozen": money(money_row["frozen"]), "commission_available": money(money_row["available"]),
        "withdrawals_held": money(money_row["held"]), "withdrawn": money(money_row["withdrawn"]),
        "withdrawals_waiting": waiting,
    }


class FenxiaoAdminSite(admin.AdminSite):
    """The console. Tenant staff work inside their tenant (tenants.admin_scoping); a ModelAdmin
    registered without tenant scoping (not a `TenantAwareAdmin`: Django's users and groups,
    django-celery-beat, rest_framework_api_key, any package added later) is for superusers only."""

    site_header = _("fenxiao console")
    site_title = _("fenxiao")
    index_title = _("Dashboard")
    index_template = "admin/fenxiao_index.html"

    def login(self, request, extra_context=None):
        """The admin login behind the same limits as the token endpoints (tenants.login_guard): a
        POST over the rate or for a locked account or address gets a 429 page saying so in
        Chinese and English, with Retry-After; wrong passwords are counted by `user_login_failed`.
        The account is the username as the login form will authenticate it (stripped, NFKC:
        `staff_account`), so " pm" or "ｐｍ" is the locked "pm"."""
        from tenants.login_guard import LoginThrottled, login_gate, staff_account

        if request.method == "POST":
            try:
                login_gate(request, staff_account(request.POST.get("username")))
            except LoginThrottled as exc:
                return self.login_refused(request, exc)
        return super().login(request, extra_context)

    def login_refused(self, request, exc):
        from django.template.response import TemplateResponse
        from django.utils import translation

        from tenants.login_guard import LOCKOUT_TITLE, refusal_message

        messages = []
        for code in ("zh-hans", "en"):
            with translation.override(code):
                messages.append({"lang": code, "text": refusal_message(exc.reason, exc.wait), "title": str(LOCKOUT_TITLE)})
        context = {**self.each_context(request), "title": messages[0]["title"], "refusals": messages,
                   "login_url": request.get_full_path()}
        response = TemplateResponse(request, "admin/login_refused.html", context, status=429)
        response["Retry-After"] = str(exc.wait)
        return response

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every ModelAdmin is scoped to the staff's tenant or superuser-only (an admin that does not
        scope by tenant: auth, celery beat, ...), and shows its money columns with their currency's
        places (fenxiao.admin_money)."""
        from django.db.models.base import ModelBase

        from fenxiao.admin_money import with_money
        from tenants.admin_scoping import TenantAwareAdmin, superuser_only

        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, TenantAwareAdmin):
            admin_class = superuser_only(admin_class)
        models = [model_or_iterable] if isinstance(model_or_iterable, ModelBase) else list(model_or_iterable)
        for model in models:
            super().register(model, with_money(admin_class, model), **options)

    def index(self, request, extra_context=None):
        """The dashboard: each tenant's key numbers now (a superuser sees up to 20 tenants); for a
        tenant's staff, or a superuser who picked a tenant (`?tenant=<slug>`), the charts of a
        chosen range (fenxiao.dashboard) with links to the lists behind each figure."""
        from rest_framework.exceptions import ValidationError

        from decimal import Decimal

        from fenxiao import dashboard
        from fenxiao.admin_money import money_display
        from tenants.admin_scoping import staff_tenant_id
        from tenants.context import tenant_context
        from tenants.models import Tenant

        tenants, charts = [], None
        if request.user.is_active and request.user.is_staff:
            if request.user.is_superuser:
                ids = list(Tenant.objects.order_by("slug").values_list("id", flat=True)[:20])
                picked = Tenant.objects.filter(slug=request.GET.get("tenant") or "").first()
                if picked is not None:
                    ids = [picked.pk]
            else:
                ids = [staff_tenant_id(request)] if staff_tenant_id(request) else []
            for t in Tenant.objects.filter(id__in=ids).order_by("slug"):
                tenants.append({"tenant": t, **tenant_dashboard(t)})
            from webhooks.admin import failing_notice

            failing_notice(request)   # webhook endpoints whose deliveries failed (domain rules section 10)
            if len(ids) == 1 and tenants:
                tenant = tenants[0]["tenant"]
                choice = dashboard.choose_range(request.GET, tenant.timezone)
                charts = {"tenant": tenant, "choice": choice, "ranges": dashboard.RANGES,
                          "intervals": dashboard.INTERVAL_LABELS, "labels": dashboard.chart_labels(),
                          "picked": request.user.is_superuser}
                try:
                    with tenant_context(tenant):
                        charts["figures"] = dashboard.tenant_figures(tenant, choice)
                    total = charts["figures"]["summary"]["total"]
                    charts["kpis"] = {"net_sales": money_display(Decimal(total["net_sales"]), tenant.currency),
                                      "commission": money_display(Decimal(total["commission"]["net"]), tenant.currency)}
                except ValidationError as exc:
                    detail = exc.detail
                    charts["error"] = " ".join(str(m) for v in (detail.values() if isinstance(detail, dict) else [detail])
                                               for m in (v if isinstance(v, list) else [v]))
        return super().index(request, {**(extra_context or {}), "dashboards": tenants, "charts": charts})
