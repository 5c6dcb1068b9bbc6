"""Distributors, binding and the tree (domain rules section 2) through the partner and portal APIs."""
import pytest

from distributors.models import Customer, Distributor, DistributorMove
from distributors.services import distributor_move
from tests.factories import chain, distributor, order_json


def post(client, body):
    return client.post("/api/v1/distributors/", body, format="json")


def test_register_by_invite_code_and_parent(partner, in_tenant):
    r = post(partner, {"external_id": "A", "name": "Ann"})
    assert r.status_code == 201
    a = r.json()
    assert (a["depth"], a["parent_external_id"], a["status"], len(a["invite_code"])) == (0, None, "active", 8)
    b = post(partner, {"external_id": "B", "name": "Bo", "invite_code": a["invite_code"].lower()}).json()
    c = post(partner, {"external_id": "C", "name": "Cy", "parent_external_id": "B"}).json()
    assert (b["parent_external_id"], b["depth"], c["parent_external_id"], c["depth"]) == ("A", 1, "B", 2)
    assert post(partner, {"external_id": "C", "name": "Cy", "parent_external_id": "B"}).status_code == 200
    r = post(partner, {"external_id": "C", "name": "Other name"})
    assert r.status_code == 409
    cd = Distributor.objects.get(external_id="C")
    assert (cd.parent.external_id, cd.ancestor_2.external_id, cd.ancestor_3_id) == ("B", "A", None)


@pytest.mark.parametrize("body,attr,code", [
    ({"external_id": "N", "name": "n", "invite_code": "ZZZZZZZZ"}, "invite_code", "unknown_invite_code"),
    ({"external_id": "N", "name": "n", "parent_external_id": "nobody"}, "parent_external_id", "unknown_distributor"),
    ({"external_id": "N", "name": "n", "grade": "platinum"}, "grade", "unknown_grade"),
    ({"external_id": "N"}, "name", "required"),
    ({"external_id": "N", "name": "n", "invite_code": "X", "parent_external_id": "A"}, "invite_code", "ambiguous_upline"),
    ({"external_id": "N", "name": "n", "age": 3}, "age", "unknown_field"),
])
def test_bad_registrations(partner, in_tenant, body, attr, code):
    distributor(in_tenant, external_id="A")
    r = post(partner, body)
    assert r.status_code == 400
    assert {"code": code, "attr": attr} in [{"code": e["code"], "attr": e["attr"]} for e in r.json()["errors"]]
    assert Distributor.objects.count() == 1


@pytest.mark.parametrize("mode,unbound_status,rebind_status,final_parent", [
    ("on_register", 409, 409, None),
    ("when_unbound", 200, 409, "A"),
    ("always", 200, 200, "B"),
])
def test_bind_modes(make_tenant, partner_for, mode, unbound_status, rebind_status, final_parent):
    t = make_tenant(bind_mode=mode)
    client = partner_for(t)
    post(client, {"external_id": "A", "name": "a"})
    post(client, {"external_id": "B", "name": "b"})
    post(client, {"external_id": "X", "name": "x"})
    assert post(client, {"external_id": "X", "name": "x", "parent_external_id": "A"}).status_code == unbound_status
    assert post(client, {"external_id": "X", "name": "x", "parent_external_id": "B"}).status_code == rebind_status
    assert client.get("/api/v1/distributors/X/").json()["parent_external_id"] == final_parent


@pytest.mark.parametrize("mode,first_parent,detail", [
    ("on_register", None, "bind_mode 'on_register' binds an upline only at registration; distributor 'X' is "
                          "registered already, as a root (no upline)."),       # was "is already bound"
    ("on_register", "A", "bind_mode 'on_register' binds an upline only at registration; distributor 'X' is "
                         "registered already, with an upline."),
    ("when_unbound", "A", "bind_mode 'when_unbound' binds an upline only while a distributor has none; "
                          "distributor 'X' is already bound to one."),
])
def test_a_refused_bind_says_why_and_changes_nothing(make_tenant, partner_for, mode, first_parent, detail):
    from distributors.models import DistributorMove

    t = make_tenant(bind_mode=mode)
    client = partner_for(t)
    post(client, {"external_id": "A", "name": "a"})
    b = post(client, {"external_id": "B", "name": "b"}).json()
    assert post(client, {"external_id": "X", "name": "x", "parent_external_id": first_parent}).status_code == 201
    r = post(client, {"external_id": "X", "name": "x", "invite_code": b["invite_code"]})
    assert r.status_code == 409 and r.json() == {"type": "client_error", "errors": [
        {"code": "bind_refused", "detail": detail, "attr": None}]}
    assert client.get("/api/v1/distributors/X/").json()["parent_external_id"] == first_parent
    assert DistributorMove.unscoped.filter(tenant=t).count() == 0


@pytest.mark.parametrize("mode,expected", [("on_register", "A"), ("when_unbound", "A"), ("always", "B")])
def test_customer_bind_modes(make_tenant, partner_for, mode, expected):
    t = make_tenant(bind_mode=mode)
    client = partner_for(t)
    a = post(client, {"external_id": "A", "name": "a"}).json()
    post(client, {"external_id": "B", "name": "b"})
    r = client.post("/api/v1/customers/", {"external_id": "K", "invite_code": a["invite_code"]}, format="json")
    assert r.status_code == 201 and r.json()["referrer_external_id"] == "A"
    r = client.post("/api/v1/customers/", {"external_id": "K", "referrer_external_id": "B"}, format="json")
    assert r.status_code == 200 and r.json()["referrer_external_id"] == expected


def test_customer_bad_input(partner, in_tenant):
    for body in ({"external_id": "K"}, {"external_id": "K", "invite_code": "NOPE1234"},
                 {"external_id": "K", "referrer_external_id": "nobody"}):
        r = partner.post("/api/v1/customers/", body, format="json")
        assert r.status_code == 400 and r.json()["type"] == "validation_error"
    assert Customer.objects.count() == 0


def test_enrollment_by_application_starts_pending(make_tenant, partner_for):
    client = partner_for(make_tenant(enrollment="application"))
    assert post(client, {"external_id": "A", "name": "a"}).json()["status"] == "pending"


def test_move_subtree_updates_every_descendant(partner, in_tenant):
    c = chain(in_tenant, 6)                # C0 <- C1 <- ... <- C5
    x = distributor(in_tenant, external_id="X")
    y = distributor(in_tenant, x, external_id="Y")
    r = partner.patch("/api/v1/distributors/C2/", {"parent_external_id": "Y", "reason": "fix"}, format="json")
    assert r.status_code == 200 and r.json()["depth"] == 2
    got = {d.external_id: (d.depth, d.parent_id and d.parent.external_id, d.ancestor_2_id and d.ancestor_2.external_id,
                           d.ancestor_3_id and d.ancestor_3.external_id) for d in Distributor.objects.all()}
    assert got["C2"] == (2, "Y", "X", None)
    assert got["C3"] == (3, "C2", "Y", "X")
    assert got["C4"] == (4, "C3", "C2", "Y")
    assert got["C5"] == (5, "C4", "C3", "C2")
    c5 = Distributor.objects.get(external_id="C5")
    assert c5.ancestor_ids == [x.pk, y.pk, c[2].pk, c[3].pk, c[4].pk]
    move = DistributorMove.objects.get()
    assert (move.old_parent.external_id, move.new_parent.external_id, move.reason) == ("C1", "Y", "fix")
    assert partner.patch("/api/v1/distributors/C2/", {"parent_external_id": None}, format="json").json()["depth"] == 0
    assert Distributor.objects.get(external_id="C5").depth == 3


@pytest.mark.parametrize("target", ["C0", "C1", "C4", "C9"])
def test_cycles_refused_at_any_depth(partner, in_tenant, target):
    chain(in_tenant, 10)
    before = list(Distributor.objects.values_list("id", "parent_id", "ancestor_2_id", "ancestor_3_id", "depth", "ancestor_path"))
    r = partner.patch(f"/api/v1/distributors/{'C0' if target != 'C0' else 'C0'}/", {"parent_external_id": target}, format="json")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "cycle"
    after = list(Distributor.objects.values_list("id", "parent_id", "ancestor_2_id", "ancestor_3_id", "depth", "ancestor_path"))
    assert before == after and DistributorMove.objects.count() == 0


def test_patch_status_and_grade_and_bad_values(partner, in_tenant):
    from distributors.models import Grade

    distributor(in_tenant, external_id="A")
    Grade.objects.create(tenant=in_tenant, code="gold", name="Gold")
    r = partner.patch("/api/v1/distributors/A/", {"status": "frozen", "grade": "gold"}, format="json")
    assert (r.json()["status"], r.json()["grade"]) == ("frozen", "gold")
    assert partner.patch("/api/v1/distributors/A/", {"status": "sleeping"}, format="json").status_code == 400
    assert partner.patch("/api/v1/distributors/A/", {"parent_external_id": "ghost"}, format="json").status_code == 400
    assert partner.patch("/api/v1/distributors/NOPE/", {"status": "active"}, format="json").status_code == 404


def test_portal_downlines_team_and_earnings(partner, in_tenant, portal_for, django_assert_max_num_queries):
    c = chain(in_tenant, 5)                 # C0 is the top
    for i in range(3):
        distributor(in_tenant, c[0], external_id=f"K{i}")
    partner.post("/api/v1/orders/", {"external_id": "O1", "currency": "CNY", "placed_at": "2026-01-15T10:00:00+08:00",
                                     "status": "paid", "paid_at": "2026-01-15T10:00:00+08:00", "referrer_external_id": "C2",
                                     "lines": [{"line_id": "1", "sku": "S", "quantity": 2, "unit_price": "50.00"}]}, format="json")
    me = portal_for(c[0])
    assert me.get("/api/v1/me/").json()["upline"] is None
    l1 = me.get("/api/v1/me/downlines/?level=1").json()
    assert (l1["count"], [d["external_id"] for d in l1["results"]]) == (4, ["C1", "K0", "K1", "K2"])
    l2 = me.get("/api/v1/me/downlines/?level=2").json()
    assert [(d["external_id"], d["personal_sales"]) for d in l2["results"]] == [("C2", "100.00")]
    assert [d["external_id"] for d in me.get("/api/v1/me/downlines/?level=3").json()["results"]] == ["C3"]
    assert me.get("/api/v1/me/downlines/?level=4").status_code == 400
    team = me.get("/api/v1/me/team/summary/").json()
    assert team["counts"] == {"1": 4, "2": 1, "3": 1} and team["total"] == 6
    earnings = me.get("/api/v1/me/earnings/").json()
    assert earnings == {"currency": "CNY", "frozen": "2.00", "available": "0.00", "held": "0.00", "withdrawn": "0.00",
                        "fees": "0.00", "total_earned": "2.00", "by_level": {"1": "0.00", "2": "0.00", "3": "2.00"}}
    c2 = portal_for(c[2]).get("/api/v1/me/earnings/").json()
    assert (c2["total_earned"], c2["by_level"]["1"]) == ("10.00", "10.00")
    mine = portal_for(c[1]).get("/api/v1/me/commissions/?level=2").json()
    assert [(r["order_external_id"], r["amount"]) for r in mine["results"]] == [("O1", "5.00")]
    with django_assert_max_num_queries(6):
        me.get("/api/v1/me/downlines/?level=1")


def test_earnings_page_is_one_query_whatever_the_number_of_records(partner, in_tenant, portal_for, django_assert_num_queries):
    c = chain(in_tenant, 3)
    for i in range(25):
        partner.post("/api/v1/orders/", order_json(f"O{i}", referrer_external_id="C2", status="paid",
                                                   paid_at="2026-01-15T10:00:00+08:00"), format="json")
    partner.post("/api/v1/orders/O3/refunds/", {"external_id": "R3", "amount": "40.00"}, format="json")
    me = portal_for(c[0])
    # auth (distributor, tenant, grade, parent in one), the balance row with its per-level totals
    with django_assert_num_queries(2):
        body = me.get("/api/v1/me/earnings/").json()
    # 25 x 2% of 100.00 at level 3, less 2% of the 40.00 refunded
    assert (body["total_earned"], body["by_level"]) == ("49.20", {"1": "0.00", "2": "0.00", "3": "49.20"})


def test_downline_page_query_count_does_not_grow(in_tenant, portal_for, django_assert_num_queries):
    top = distributor(in_tenant, external_id="TOP")
    for i in range(30):
        distributor(in_tenant, top, external_id=f"K{i}")
    client = portal_for(top)
    # auth (distributor + tenant + grade + parent in one), page, personal_sales (the count is on my row)
    with django_assert_num_queries(3):
        assert client.get("/api/v1/me/downlines/?level=1&page_size=30").json()["count"] == 30


def test_move_service_direct_cycle(in_tenant):
    a, b = chain(in_tenant, 2)
    from rest_framework.exceptions import ValidationError

    with pytest.raises(ValidationError):
        distributor_move(distributor=a, new_parent=a)


def test_downline_counters_follow_registrations_moves_and_deletes(in_tenant):
    from distributors.models import Distributor
    from distributors.selectors import team_counts, tree_drift
    from distributors.services import distributor_delete

    c = chain(in_tenant, 6)                      # C0 > C1 > ... > C5
    k = distributor(in_tenant, c[1], external_id="K")
    distributor(in_tenant, k, external_id="K1")

    def counts(ext):
        return team_counts(distributor=Distributor.objects.get(external_id=ext))

    assert [counts(f"C{i}") for i in range(3)] == [
        {"1": 1, "2": 2, "3": 2}, {"1": 2, "2": 2, "3": 1}, {"1": 1, "2": 1, "3": 1}]
    distributor_move(distributor=c[3], new_parent=k)     # C3 (with C4, C5 below) goes under K
    assert counts("C1") == {"1": 2, "2": 2, "3": 1}      # C2, K / K1, C3 / C4
    assert counts("C2") == {"1": 0, "2": 0, "3": 0}
    assert counts("K") == {"1": 2, "2": 1, "3": 1}       # K1, C3 / C4 / C5
    assert counts("C0") == {"1": 1, "2": 2, "3": 2}
    distributor_delete(distributor=Distributor.objects.get(external_id="K1"))
    assert counts("K") == {"1": 1, "2": 1, "3": 1} and counts("C1")["2"] == 1
    assert tree_drift() == []


def test_downline_bodies_equal_the_downline_serializer(partner, in_tenant, portal_for):
    """GET /me/downlines/ renders values rows with the serializer's own fields
    (distributors.api.serializers.downline_bodies): the same JSON as DownlineSerializer, with and
    without a grade, for every status, with personal sales."""
    import json

    from distributors.api.serializers import DownlineSerializer
    from distributors.models import Distributor, Grade
    from distributors.selectors import downlines, personal_sales

    top = distributor(in_tenant, external_id="TOP")
    gold = Grade.objects.create(tenant=in_tenant, code="gold", name="Gold")
    for i in range(4):
        distributor(in_tenant, top, external_id=f"K{i}")
    Distributor.objects.filter(external_id="K1").update(grade=gold)
    Distributor.objects.filter(external_id="K2").update(status="disabled")
    Distributor.objects.filter(external_id="K3").update(name="名字 ünïcode")
    partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="K1", status="paid",
                                               paid_at="2026-01-15T10:00:00+08:00"), format="json")
    got = portal_for(top).get("/api/v1/me/downlines/?level=1").json()["results"]
    page = list(downlines(distributor=top, level=1))
    sales = personal_sales(distributor_ids=[d.pk for d in page])
    want = json.loads(json.dumps(DownlineSerializer(page, many=True, context={"personal_sales": sales}).data))
    assert got == want
    assert [(d["external_id"], d["grade"], d["status"], d["personal_sales"]) for d in got] == [
        ("K0", None, "active", "0.00"), ("K1", "gold", "active", "100.00"), ("K2", None, "disabled", "0.00"),
        ("K3", None, "active", "0.00")]


def test_team_summary_reads_this_local_months_figures(partner, in_tenant, portal_for, django_assert_num_queries):
    """team_sales_this_month is the team_sales measure of the local month (orders where I am a
    recorded beneficiary at any level), direct_sales_this_month the direct_sales measure, refunds
    so far included; constant queries whatever the team's size."""
    from datetime import datetime, timedelta, timezone

    import time_machine

    cst = timezone(timedelta(hours=8))
    c = chain(in_tenant, 4)
    with time_machine.travel(datetime(2026, 4, 15, 12, tzinfo=cst), tick=False):
        for ext, paid, amount, ref in (("MAR", datetime(2026, 3, 31, 23, 59, tzinfo=cst), "500.00", "C3"),
                                       ("A1", datetime(2026, 4, 1, 0, 0, tzinfo=cst), "100.00", "C3"),
                                       ("A2", datetime(2026, 4, 2, 9, 0, tzinfo=cst), "80.00", "C1"),
                                       ("A3", datetime(2026, 4, 3, 9, 0, tzinfo=cst), "40.00", "C0")):
            r = partner.post("/api/v1/orders/", {"external_id": ext, "currency": "CNY", "placed_at": paid.isoformat(),
                             "status": "paid", "paid_at": paid.isoformat(), "referrer_external_id": ref,
                             "lines": [{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": amount}]}, format="json")
            assert r.status_code == 201
        assert partner.post("/api/v1/orders/A2/refunds/", {"external_id": "R", "amount": "30.00"}, format="json").status_code == 201
        top, second = portal_for(c[0]), portal_for(c[1])
        team = top.get("/api/v1/me/team/summary/").json()
        # A1's beneficiaries are C3, C2, C1 (C0 would be a fourth level); C0 is level 2 of A2 (50.00
        # kept after the refund) and level 1 of A3: 50 + 40; MAR is March's
        assert (team["month_start"], team["team_sales_this_month"], team["direct_sales_this_month"]) == (
            "2026-04-01T00:00:00+08:00", "90.00", "40.00")
        assert second.get("/api/v1/me/team/summary/").json()["team_sales_this_month"] == "150.00"   # A1 (L2), A2 (L1)
        second.get("/api/v1/me/team/summary/")
        with django_assert_num_queries(2):   # the token's distributor, then the month's two figures
            second.get("/api/v1/me/team/summary/")
        nobody = portal_for(distributor(in_tenant, external_id="Z")).get("/api/v1/me/team/summary/").json()
        assert (nobody["team_sales_this_month"], nobody["direct_sales_this_month"]) == ("0.00", "0.00")


@pytest.mark.parametrize("start,to,ok", [
    ("disabled", "active", False), ("disabled", "frozen", False), ("pending", "frozen", False),
    ("active", "pending", False), ("frozen", "active", True), ("active", "frozen", True), ("frozen", "disabled", True),
])
def test_a_status_change_follows_the_state_machine(partner, in_tenant, start, to, ok):
    """PATCH status as the staff actions allow: a disabled distributor stays disabled (409)."""
    from distributors.models import Distributor

    d = distributor(in_tenant, external_id="SM")
    Distributor.objects.filter(pk=d.pk).update(status=start)
    r = partner.patch("/api/v1/distributors/SM/", {"status": to}, format="json")
    assert r.status_code == (200 if ok else 409), r.json()
    assert Distributor.objects.get(pk=d.pk).status == (to if ok else start)
