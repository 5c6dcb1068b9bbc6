"""The audit trail: who changed what and when, before and after (django-simple-history)."""
from django.contrib.auth.models import Permission, User

from commissions.models import CommissionPlan
from distributors.models import Distributor
from tenants.models import StaffMembership, Tenant
from tests.factories import chain
from tests.staff.test_staff_api import RULES, staff_for


def test_changes_keep_who_when_before_after(tenant, in_tenant, client):
    chain(in_tenant, 2)
    staff = staff_for(tenant, "pm")
    staff.patch("/api/v1/admin/tenant/", {"max_total_rate": "0.4000"}, format="json")
    hist = list(Tenant.history.filter(id=tenant.pk).order_by("history_date"))
    assert [str(h.max_total_rate) for h in hist] == ["0.5000", "0.4000"]
    assert hist[-1].history_user.username == "pm"
    pid = staff.post("/api/v1/admin/plans/", {"rules": RULES}, format="json").json()["id"]
    staff.post(f"/api/v1/admin/plans/{pid}/publish/", {}, format="json")
    plan_hist = list(CommissionPlan.history.filter(public_id=pid).order_by("history_date"))
    assert [(h.status, h.history_user.username if h.history_user else None) for h in plan_hist] == [
        ("draft", "pm"), ("published", "pm")]
    staff.post("/api/v1/admin/distributors/C1/freeze/", {"reason": "chargebacks"}, format="json")
    staff.post("/api/v1/admin/distributors/C1/move/", {"parent_external_id": None, "reason": "own team"}, format="json")
    d = Distributor.objects.get(external_id="C1")
    rows = list(Distributor.history.filter(id=d.pk).order_by("history_date"))
    assert [(r.status, r.parent_id, r.history_change_reason) for r in rows[-2:]] == [
        ("frozen", d.ancestor_ids[-1] if d.ancestor_ids else rows[-2].parent_id, "freeze: chargebacks"),
        ("frozen", None, "move: own team")]
    # visible in the admin: the object's history page
    pm = User.objects.get(username="pm")
    pm.user_permissions.set(Permission.objects.filter(content_type__app_label="distributors"))
    client.force_login(pm)
    page = client.get(f"/admin/distributors/distributor/{d.pk}/history/")
    assert page.status_code == 200 and "own team" in page.content.decode()
    assert StaffMembership.objects.count() == 1
