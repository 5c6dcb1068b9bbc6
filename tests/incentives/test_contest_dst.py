"""A contest's default finalize_at (window end + settle_after_days days, domain rules section 8)
is counted on the tenant's calendar, also in a tenant with daylight saving time: given as a date
or as RFC 3339, on create and when a PATCH moves the end across a clock change (the stored
default used to be compared with end + 7 x 24 h, so it was taken for a date staff chose)."""
from datetime import datetime, timezone

import pytest
import time_machine

from tests.incentives.apidata import staff_client

NOW = datetime(2026, 2, 10, 12, 0, tzinfo=timezone.utc)
BASE = {"name": "c", "measure": "direct_sales", "prizes": ["5.00"]}


@pytest.fixture
def ny(make_tenant):
    return make_tenant(slug="ny", timezone="America/New_York", currency="USD")


def test_the_default_is_the_same_whatever_the_form_of_ends_at(ny):
    """ends_at 2026-03-05 local midnight (-05:00); DST starts 2026-03-08: 7 days later is
    2026-03-12 00:00 -04:00, 167 hours on."""
    with time_machine.travel(NOW, tick=False):
        staff = staff_client(ny, "pm")
        a = staff.post("/api/v1/admin/contests/", dict(BASE, starts_at="2026-03-01", ends_at="2026-03-05"),
                       format="json").json()
        b = staff.post("/api/v1/admin/contests/", dict(BASE, starts_at="2026-03-01", ends_at="2026-03-05T00:00:00-05:00"),
                       format="json").json()
    assert a["ends_at"] == b["ends_at"] == "2026-03-05T00:00:00-05:00"
    assert a["finalize_at"] == b["finalize_at"] == "2026-03-12T00:00:00-04:00"


def test_moving_the_end_later_across_spring_forward_moves_the_default(ny):
    with time_machine.travel(NOW, tick=False):
        staff = staff_client(ny, "pm")
        c = staff.post("/api/v1/admin/contests/", dict(BASE, starts_at="2026-03-01", ends_at="2026-03-05"),
                       format="json").json()
        r = staff.patch(f"/api/v1/admin/contests/{c['id']}/", {"ends_at": "2026-03-20"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["finalize_at"] == "2026-03-27T00:00:00-04:00"


def test_moving_the_end_earlier_across_fall_back_moves_the_default(ny):
    """DST ends 2026-11-01: a contest ending 2026-10-30 finalizes 2026-11-06 00:00 -05:00; moved
    to end 2026-10-28, it finalizes 2026-11-04 00:00 -05:00 (it stayed on 11-06, two days late)."""
    with time_machine.travel(NOW, tick=False):
        staff = staff_client(ny, "pm")
        c = staff.post("/api/v1/admin/contests/", dict(BASE, starts_at="2026-10-01", ends_at="2026-10-30"),
                       format="json").json()
        assert c["finalize_at"] == "2026-11-06T00:00:00-05:00"
        r = staff.patch(f"/api/v1/admin/contests/{c['id']}/", {"ends_at": "2026-10-28"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["finalize_at"] == "2026-11-04T00:00:00-05:00"


def test_a_finalize_at_staff_chose_stays_when_the_end_moves(ny):
    with time_machine.travel(NOW, tick=False):
        staff = staff_client(ny, "pm")
        c = staff.post("/api/v1/admin/contests/", dict(BASE, starts_at="2026-10-01", ends_at="2026-10-30",
                                                       finalize_at="2026-11-20"), format="json").json()
        r = staff.patch(f"/api/v1/admin/contests/{c['id']}/", {"ends_at": "2026-10-28"}, format="json")
    assert r.status_code == 200 and r.json()["finalize_at"] == "2026-11-20T00:00:00-05:00"


def test_without_dst_the_default_moves_too(make_tenant):
    t = make_tenant(slug="sh")
    with time_machine.travel(NOW, tick=False):
        staff = staff_client(t, "pm")
        c = staff.post("/api/v1/admin/contests/", dict(BASE, starts_at="2026-03-01", ends_at="2026-03-05"),
                       format="json").json()
        r = staff.patch(f"/api/v1/admin/contests/{c['id']}/", {"ends_at": "2026-03-20"}, format="json")
    assert r.status_code == 200 and r.json()["finalize_at"] == "2026-03-27T00:00:00+08:00"
