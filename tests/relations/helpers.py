"""Shared pieces of the support tests: staff clients with model permissions, a poster image,
and the relations model permissions the pm role holds."""
from __future__ import annotations

import io

from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tenants.models import StaffMembership
from tests.factories import CommitAPIClient

APPS = ["tenants", "distributors", "orders", "commissions", "ledger", "incentives", "relations"]


def staff_client(tenant, username, perms=None):
    """A staff token client of `tenant`: `perms` None grants every model permission of fenxiao's
    apps, else a list of "app_label.codename"."""
    user = User.objects.create_user(username, password="pw-12345678", is_staff=True)
    if perms is None:
        user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=APPS))
    else:
        user.user_permissions.set([Permission.objects.get(content_type__app_label=p.split(".")[0],
                                                          codename=p.split(".")[1]) for p in perms])
    StaffMembership.objects.create(user=user, tenant=tenant)
    token = CommitAPIClient().post("/api/v1/auth/staff-token/", {"username": username, "password": "pw-12345678"},
                                   format="json").json()["access"]
    api = CommitAPIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def poster_image(width=600, height=800, fmt="PNG") -> bytes:
    """A poster background: a soft vertical gradient (no flat colour, so a blank region is told
    apart from a drawn one by its pixels' spread, not by luck)."""
    img = Image.new("RGB", (width, height))
    px = img.load()
    for y in range(height):
        shade = 200 + (y * 40) // height
        for x in range(width):
            px[x, y] = (shade, 225, 255 - (y * 30) // height)
    out = io.BytesIO()
    img.save(out, format=fmt)
    return out.getvalue()


def upload(data: bytes, name="poster.png", content_type="image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def errors(response) -> list[tuple[str, str | None]]:
    """[(code, attr)] of an error answer in the contract's shape."""
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    return [(e["code"], e["attr"]) for e in body["errors"]]
