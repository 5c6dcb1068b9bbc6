"""The admin: tenant staff see and edit only their tenant; superusers see all (issue: admin scoping)."""
import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from distributors.models import Distributor
from orders.models import Order
from tenants.context import tenant_context
from tenants.models import StaffMembership
from tests.factories import chain, paid_order

MODELS = ["distributors.distributor", "distributors.customer", "distributors.grade", "distributors.distributormove",
          "orders.order", "commissions.commissionplan", "commissions.commissionrecord", "tenants.tenant",
          "tenants.tenantapikey"]


@pytest.fixture
def world(make_tenant):
    a, b = make_tenant(slug="a"), make_tenant(slug="b")
    for t, prefix in ((a, "A"), (b, "B")):
        with tenant_context(t):
            chain(t, 3, prefix=prefix)
            paid_order(t, f"{prefix}O1", referrer_external_id=f"{prefix}2")
    pm = User.objects.create_user("pm", password="pw", is_staff=True)
    pm.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["distributors", "orders", "commissions", "tenants"]))
    StaffMembership.objects.create(user=pm, tenant=a)
    root = User.objects.create_superuser("root", password="pw")
    return a, b, pm, root


def url(model, action="changelist", *args):
    app, name = model.split(".")
    return reverse(f"admin:{app}_{name}_{action}", args=args)


@pytest.mark.parametrize("model", MODELS)
def test_changelists_render_scoped(client, world, model):
    a, b, pm, root = world
    client.force_login(pm)
    r = client.get(url(model))
    assert r.status_code == 200
    body = r.content.decode()
    assert "Distributor B0" not in body and ">BO1<" not in body and "Tenant b" not in body
    client.force_login(root)
    assert client.get(url(model)).status_code == 200


def test_staff_cannot_open_another_tenants_object(client, world):
    a, b, pm, root = world
    b0 = Distributor.unscoped.get(tenant=b, external_id="B0")
    a0 = Distributor.unscoped.get(tenant=a, external_id="A0")
    client.force_login(pm)
    assert client.get(url("distributors.distributor", "change", a0.pk)).status_code == 200
    r = client.get(url("distributors.distributor", "change", b0.pk))
    assert r.status_code == 404  # as for a missing id (tests/tenants/test_admin_walk.py walks every page)
    assert client.get(url("distributors.distributor", "change", b0.pk + 1000)).status_code == 404
    bo = Order.unscoped.get(tenant=b)
    assert client.get(url("orders.order", "change", bo.pk)).status_code == 404
    client.force_login(root)
    assert client.get(url("distributors.distributor", "change", b0.pk)).status_code == 200
    assert client.get(url("orders.order", "change", bo.pk)).status_code == 200


def test_staff_foreign_key_choices_are_scoped_and_saves_stay_in_tenant(client, world):
    a, b, pm, root = world
    client.force_login(pm)
    b0 = Distributor.unscoped.get(tenant=b, external_id="B0")
    a0 = Distributor.unscoped.get(tenant=a, external_id="A0")
    r = client.post(url("distributors.customer", "add"), {"external_id": "K1", "referrer": b0.pk})
    assert r.status_code == 200 and "Select a valid choice" in r.content.decode()
    r = client.post(url("distributors.customer", "add"), {"external_id": "K1", "referrer": a0.pk})
    assert r.status_code == 302
    from distributors.models import Customer

    assert Customer.unscoped.get(external_id="K1").tenant_id == a.pk
    r = client.post(url("distributors.grade", "add"), {"code": "gold", "name": "Gold", "rank": 1,
                                                         "overrides-TOTAL_FORMS": 0, "overrides-INITIAL_FORMS": 0})
    assert r.status_code == 302, r.content.decode()[:2000]
    from distributors.models import Grade

    assert Grade.unscoped.get(code="gold").tenant_id == a.pk


@pytest.mark.parametrize("bad", ["a/3", "a\u20283", "a3\u0085x", "A3 x"])
def test_the_console_refuses_an_external_id_the_api_refuses(tenant, client, bad):
    """The admin's distributor form checks external ids as the API does: a distributor renamed to
    "a/3" could no longer be reached by the partner (its id goes in URLs)."""
    from django.contrib.auth.models import Permission, User

    from distributors.models import Distributor
    from tenants.context import tenant_context
    from tenants.models import StaffMembership
    from tests.factories import distributor

    with tenant_context(tenant):
        d = distributor(tenant, external_id="A3", name="A3")
    user = User.objects.create_user("pm-ext", password="pw-12345678", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="distributors"))
    StaffMembership.objects.create(user=user, tenant=tenant)
    client.force_login(user)
    page = client.get(f"/admin/distributors/distributor/{d.pk}/change/")
    form = page.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data.pop("joined_at", None)
    data.update(external_id=bad, name="A3", joined_at_0=d.joined_at.date().isoformat(),
                joined_at_1=d.joined_at.time().strftime("%H:%M:%S"))
    r = client.post(f"/admin/distributors/distributor/{d.pk}/change/", data)
    assert r.status_code == 200 and "external_id" in r.context["adminform"].form.errors
    assert Distributor.unscoped.get(pk=d.pk).external_id == "A3"
