from tests.factories import chain, order_json


def test_order_pays_three_levels(partner, in_tenant):
    a, b, c, d = chain(in_tenant, 4)
    r = partner.post("/api/v1/orders/", order_json("O1", referrer_external_id=d.external_id, status="paid",
                                                   paid_at="2026-01-15T10:00:00+08:00"), format="json")
    assert r.status_code == 201, r.json()
    r = partner.get("/api/v1/orders/O1/commissions/")
    got = [(x["level"], x["beneficiary_external_id"], x["amount"]) for x in r.json()]
    assert got == [(1, "C3", "10.00"), (2, "C2", "5.00"), (3, "C1", "2.00")]
