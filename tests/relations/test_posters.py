"""Invite links, QR codes and posters (domain rules sections 2 and 8; issue 14 scope 2): every
tenant gives its distributors a working invite link (its own template, or the portal's registration
page on this server), /me/invite/qr.png encodes it, and a poster carries the distributor's own QR
code and name (Chinese names rendered with a CJK font). The QR codes are decoded back with
zxing-cpp, as a phone would."""
import io

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageStat

from relations import posters
from relations.models import MaterialProgress
from tenants.context import tenant_context
from tests.factories import distributor
from tests.relations.helpers import poster_image, staff_client, upload

PLACE = {"qr_x": 380, "qr_y": 560, "qr_size": 200, "name_x": 40, "name_y": 600, "name_size": 48,
         "name_color": "#202020"}


def decode(png: bytes) -> list:
    return zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))


@pytest.fixture
def public_url(settings):
    settings.FENXIAO_PUBLIC_URL = "https://fx.example.com"


def test_every_tenant_has_an_invite_link_the_portal_registration_page_by_default(tenant, portal_for, public_url):
    with tenant_context(tenant):
        d = distributor(tenant, external_id="A", name="张三")
    me = portal_for(d)
    url = f"https://fx.example.com/portal/acme/join/?code={d.invite_code}"
    assert tenant.invite_url_template == ""
    assert me.get("/api/v1/me/").json()["invite_url"] == url          # was null before issue 14
    assert me.get("/api/v1/me/invite/").json() == {"invite_code": d.invite_code, "invite_url": url,
                                                   "qr_url": "/api/v1/me/invite/qr.png"}


def test_a_tenants_own_template_wins(make_tenant, portal_for, public_url):
    shop = make_tenant(slug="shop", invite_url_template="https://shop.example.com/join?ref={code}&src=fx")
    with tenant_context(shop):
        d = distributor(shop, external_id="A")
    assert portal_for(d).get("/api/v1/me/invite/").json()["invite_url"] == \
        f"https://shop.example.com/join?ref={d.invite_code}&src=fx"


def test_the_invite_qr_code_decodes_to_the_invite_link(tenant, portal_for, public_url):
    with tenant_context(tenant):
        d = distributor(tenant, external_id="A")
    me = portal_for(d)
    r = me.get("/api/v1/me/invite/qr.png")
    assert r.status_code == 200 and r["Content-Type"] == "image/png" and r["Cache-Control"] == "private, no-store"
    (code,) = decode(r.content)
    assert code.text == me.get("/api/v1/me/invite/").json()["invite_url"]
    assert code.format == zxingcpp.BarcodeFormat.QRCode


@pytest.fixture
def poster(tenant, public_url):
    staff = staff_client(tenant, "pm")
    r = staff.post("/api/v1/admin/materials/", {"kind": "poster", "title": "双十一海报", **PLACE,
                                                "image": upload(poster_image(600, 800))}, format="multipart")
    assert r.status_code == 201, r.json()
    assert r.json()["has_image"] is True and r.json()["qr_size"] == 200
    return r.json()


def test_the_poster_carries_my_qr_code_and_my_chinese_name(tenant, portal_for, poster):
    with tenant_context(tenant):
        zhang = distributor(tenant, external_id="A", name="张三丰")
        li = distributor(tenant, external_id="B", name="李四光")
    mine = portal_for(zhang).get(f"/api/v1/me/materials/{poster['id']}/poster.png")
    assert mine.status_code == 200 and mine["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(mine.content)).convert("RGB")
    assert image.size == (600, 800)
    (code,) = decode(mine.content)
    assert code.text == f"https://fx.example.com/portal/acme/join/?code={zhang.invite_code}"
    corners = [code.position.top_left, code.position.bottom_right]          # found inside the QR square
    assert all(380 <= p.x <= 580 and 560 <= p.y <= 760 for p in corners), code.position

    background = Image.open(io.BytesIO(poster_image(600, 800))).convert("RGB")
    box = (40, 600, 40 + 3 * 48 + 20, 600 + 64)                                 # where the name goes
    drawn = ImageChops.difference(image.crop(box), background.crop(box)).convert("L")
    changed = sum(drawn.histogram()[61:])
    assert changed > 300, changed                                              # the name is there, not blank
    assert ImageStat.Stat(image.crop((0, 0, 300, 300))).extrema == ImageStat.Stat(background.crop((0, 0, 300, 300))).extrema

    # Chinese characters come out as glyphs, not as the same box for every character
    theirs = Image.open(io.BytesIO(portal_for(li).get(f"/api/v1/me/materials/{poster['id']}/poster.png").content))
    assert ImageChops.difference(image.crop(box), theirs.convert("RGB").crop(box)).getbbox() is not None
    assert posters._font_index(48, "张") == 1 and posters._font_index(48, "A") == 0   # CJK font, Latin font
    with tenant_context(tenant):
        assert MaterialProgress.objects.get(distributor=zhang).downloads == 1


def test_mixed_names_draw_every_character_with_a_font_that_has_it():
    """"Alice 张" draws A-l-i-c-e with the Latin font and 张 with the CJK one; a name drawn with
    only the CJK font (no Latin letters in Droid Sans Fallback) would leave the Latin part empty."""
    from fenxiao.fonts import cjk_font_path, latin_font_path

    assert cjk_font_path() and latin_font_path()
    canvas = Image.new("RGB", (400, 80), "white")
    posters.draw_text(canvas, (10, 10), "Alice 张", size=40, color="#000000")
    latin_part = canvas.crop((10, 10, 100, 60)).convert("L")
    assert latin_part.getextrema()[0] < 80                                      # dark pixels: letters drawn
    assert [posters._font_index(40, c) for c in "Alice张"] == [0, 0, 0, 0, 0, 1]


def test_a_jpeg_and_a_transparent_png_make_posters_too(tenant, portal_for, public_url):
    staff = staff_client(tenant, "pm")
    with tenant_context(tenant):
        d = distributor(tenant, external_id="A", name="Alice")
    rgba = Image.new("RGBA", (500, 500), (0, 0, 0, 0))
    buf = io.BytesIO()
    rgba.save(buf, format="PNG")
    for data, name in ((poster_image(500, 700, "JPEG"), "p.jpg"), (buf.getvalue(), "clear.png")):
        m = staff.post("/api/v1/admin/materials/", {"kind": "poster", "title": name, "qr_x": 10, "qr_y": 10,
                                                    "qr_size": 150, "name_x": 10, "name_y": 200,
                                                    "image": upload(data, name)}, format="multipart").json()
        png = portal_for(d).get(f"/api/v1/me/materials/{m['id']}/poster.png").content
        (code,) = decode(png)
        assert code.text.endswith(d.invite_code)
        if name == "clear.png":                                                 # transparent is white, not black
            assert Image.open(io.BytesIO(png)).convert("RGB").getpixel((499, 499)) == (255, 255, 255)


def test_a_poster_for_another_grade_or_tenant_is_404(tenant, make_tenant, portal_for, poster):
    other = make_tenant(slug="other")
    with tenant_context(other):
        stranger = distributor(other, external_id="X")
    r = portal_for(stranger).get(f"/api/v1/me/materials/{poster['id']}/poster.png")
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "not_found"


def test_the_demos_support_loads_once_and_its_poster_scans(tenant, portal_for, public_url):
    from io import StringIO

    from django.core.management import call_command

    from distributors.models import Grade
    from relations.models import Announcement, Material

    with tenant_context(tenant):
        Grade.objects.create(tenant=tenant, code="gold", name="金牌", rank=1)
        d = distributor(tenant, external_id="A", name="王小明")
    out = StringIO()
    call_command("load_demo_support", tenant="acme", stdout=out)
    call_command("load_demo_support", tenant="acme", stdout=out)          # idempotent
    assert "4 added" in out.getvalue() and "already there (4)" in out.getvalue()
    with tenant_context(tenant):
        assert sorted(Material.objects.values_list("kind", flat=True)) == ["copy", "course", "poster", "video"]
        assert Announcement.objects.count() == 2
        poster = Material.objects.get(kind="poster")
    me = portal_for(d)
    assert [m["kind"] for m in me.get("/api/v1/me/materials/").json()["results"]] == ["course", "poster", "copy", "video"]
    (code,) = decode(me.get(f"/api/v1/me/materials/{poster.public_id}/poster.png").content)
    assert code.text == f"https://fx.example.com/portal/acme/join/?code={d.invite_code}"
