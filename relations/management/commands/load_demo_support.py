"""`python manage.py load_demo_support [--tenant demo]`: the demo's distributor support (domain rules
section 8), made through relations.services when the tenant has no material yet (idempotent): a
poster drawn here (a gradient with its title in Chinese; the QR square at the bottom right, the
name at the bottom left), sharing copy, a video link, a three-lesson course for newcomers, a
welcome announcement to everyone and, for the tenant's top grade, one to that grade. `load_demo`
runs it."""
from __future__ import annotations

import io

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from PIL import Image, ImageDraw

from distributors.models import Grade
from relations import posters, services
from relations.models import Material
from tenants.context import tenant_context
from tenants.models import Tenant

POSTER_SIZE = (750, 1334)
POSTER_PLACE = {"qr_x": 475, "qr_y": 1059, "qr_size": 225, "name_x": 50, "name_y": 1130, "name_size": 44,
                "name_color": "#1f2a44"}


def demo_poster_png() -> bytes:
    """A 750 x 1334 poster background: a warm gradient, the title and a white band for the QR code."""
    width, height = POSTER_SIZE
    img = Image.new("RGB", POSTER_SIZE)
    draw = ImageDraw.Draw(img)
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=(int(255 - 40 * t), int(120 + 60 * t), int(80 + 90 * t)))
    draw.rectangle([0, 1020, width, height], fill=(255, 255, 255))
    posters.draw_text(img, (60, 160), "双十一 好物分享", size=72, color="#ffffff")
    posters.draw_text(img, (60, 270), "扫码下单 · 全场包邮", size=44, color="#fff7e6")
    posters.draw_text(img, (50, 1060), "我的专属邀请码", size=32, color="#7a8194")
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


class Command(BaseCommand):
    help = "Add the demo's materials and announcements to a tenant that has none (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", default="demo", help="the tenant's slug (default: demo)")

    def handle(self, *args, tenant: str, **options):
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant {tenant!r}.")
        with tenant_context(found):
            if Material.objects.exists():
                self.stdout.write(f"Support materials of {tenant}: already there ({Material.objects.count()}).")
                return
            self._load(found)
            self.stdout.write(f"Support materials of {tenant}: {Material.objects.count()} added "
                              "(a poster, copy, a video, a course) with two announcements.")

    def _load(self, tenant: Tenant) -> None:
        services.material_create(tenant=tenant, kind="poster", title="双十一好物分享海报", position=1,
                                 image=ContentFile(demo_poster_png(), name="double-11.png"), **POSTER_PLACE)
        services.material_create(tenant=tenant, kind="copy", title="朋友圈文案：办公好物", position=2,
                                 body="办公桌上的小确幸：人体工学椅、静音键盘、降噪耳机，双十一全场包邮。\n"
                                      "扫我的二维码下单，售后无忧！")
        services.material_create(tenant=tenant, kind="video", title="产品介绍视频（3 分钟）", position=3,
                                 link="https://example.com/videos/intro.mp4")
        services.material_create(tenant=tenant, kind="course", title="新人培训：三步开始分销", position=0,
                                 body="三节课，十分钟，学会邀请、分享和提现。", lessons=[
                                     services.LessonInput(title="第一课：什么是三级分销",
                                                          body="你分享的链接成交，你拿一级佣金；你邀请的伙伴成交，你拿二级、三级佣金。"),
                                     services.LessonInput(title="第二课：分享海报和邀请码",
                                                          body="在“素材”里下载带有你专属二维码的海报，发到朋友圈或群里。",
                                                          video_url="https://example.com/videos/share.mp4"),
                                     services.LessonInput(title="第三课：佣金结算和提现",
                                                          body="订单完成后佣金先冻结，结算后可提现；提现申请在审核前可以撤回。"),
                                 ])
        services.announcement_create(tenant=tenant, title="欢迎加入分销中心",
                                     body="素材中心上线了：下载你的专属海报，完成新人培训，有问题随时在“反馈”里提问。",
                                     actor="demo")
        top = Grade.objects.order_by("-rank", "-id").first()
        if top is not None:
            services.announcement_create(tenant=tenant, title=f"{top.name}专享：新品优先分销",
                                         body="下周上新的办公椅系列，佣金比例上调，详见素材中心。",
                                         audience="grades", grades=[top], actor="demo")
