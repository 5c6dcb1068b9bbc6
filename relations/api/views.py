"""Distributor portal endpoints of support (domain rules section 8; spec/api.md: /me/invite/,
/me/invite/qr.png, /me/materials/, /me/materials/{id}/poster.png, /me/announcements/ (marks read),
GET/POST /me/feedback/) and of the account (issue 14): what I would earn on a product, my password,
my downlines' contribution; the password reset with a staff-issued token. Every rule is in
relations.services / relations.selectors; these views parse, call and answer."""
from __future__ import annotations

from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from fenxiao.api.idempotency import idempotent
from fenxiao.api.base import PortalAPIView, PortalGenericView, body_or_empty
from fenxiao.api.fields import StrictSerializer
from fenxiao.currencies import money_str

from .. import selectors, services
from ..models import Announcement, FeedbackTicket, Material
from .common import my_material_bodies
from .serializers import (
    ContributionSerializer, EarnBodySerializer, EarnPreviewSerializer, EarnQuerySerializer, FeedbackMessageWriteSerializer,
    FeedbackOpenSerializer, InviteSerializer, LessonDoneSerializer, MyAnnouncementSerializer, MyMaterialDetailSerializer,
    MyMaterialSerializer, MyTicketSerializer, PasswordChangeSerializer, PasswordResetSerializer,
)

PNG = {(200, "image/png"): OpenApiTypes.BINARY}


class NoBodySerializer(StrictSerializer):
    """An empty body ({}); any field is refused (unknown_field)."""


def png(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- invite ------------------------------------------------------------------------------------

class MyInviteView(PortalAPIView):
    @extend_schema(responses=InviteSerializer)
    def get(self, request):
        """My invite code and link (every tenant has one: its invite_url_template, else the
        portal's registration page on this server, FENXIAO_PUBLIC_URL/portal/<tenant>/join/?code=...),
        and where its QR code is. Registering through it binds the newcomer under me per the
        tenant's bind_mode (domain rules section 2)."""
        me = request.user
        return Response(InviteSerializer({"invite_code": me.invite_code, "invite_url": selectors.invite_url(me),
                                          "qr_url": reverse("me-invite-qr")}).data)


class MyInviteQRView(PortalAPIView):
    @extend_schema(responses=PNG)
    def get(self, request):
        """My invite link as a QR code (PNG, 10 pixels a module, with the quiet zone)."""
        return png(services.invite_qr_png(distributor=request.user), "invite.png")


# --- materials ---------------------------------------------------------------------------------

class MyMaterialsView(PortalGenericView):
    serializer_class = MyMaterialSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Material.unscoped.none()
        return selectors.materials_for(self.request.user)

    @extend_schema(responses=MyMaterialSerializer(many=True))
    def get(self, request):
        """The materials I may see (shown to distributors, for every grade or for mine), by position,
        paginated: posters with `poster_url` (my own poster), copy, videos and documents with
        `download_url`, courses with my lessons done and completion."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(my_material_bodies(request.user, page))


class MyMaterialDetailView(PortalAPIView):
    @extend_schema(responses=MyMaterialDetailSerializer)
    def get(self, request, public_id):
        """One material with a course's lessons and my completion of each; counts a view (domain
        rules section 8). 404 for a material I may not see (another tenant's, hidden, other grades)."""
        material = selectors.material_for(request.user, public_id)
        services.material_view(material=material, distributor=request.user)
        return Response(my_material_bodies(request.user, [material], with_lessons=True)[0])


class MyPosterView(PortalAPIView):
    @extend_schema(responses=PNG)
    def get(self, request, public_id):
        """My poster (PNG): the material's image with the QR code of my invite link and my name
        drawn on it (Chinese names included); counts a download. 404 `not_a_poster` for a material
        of another kind, `not_found` for one I may not see."""
        material = selectors.material_for(request.user, public_id)
        return png(services.poster_render(material=material, distributor=request.user), f"poster-{material.public_id}.png")


class MyMaterialDownloadView(PortalAPIView):
    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 302: None})
    def get(self, request, public_id):
        """A document's file (an attachment), or a redirect (302) to a video's or a document's link;
        counts a download. 404 `nothing_to_download` for copy, posters (poster.png) and courses."""
        material = selectors.material_for(request.user, public_id)
        kind, what = services.material_fetch(material=material, distributor=request.user)
        if kind == "link":
            return HttpResponseRedirect(what)
        return FileResponse(what.open("rb"), as_attachment=True, filename=what.name.rsplit("/", 1)[-1])


class MyLessonCompleteView(PortalAPIView):
    @extend_schema(request=NoBodySerializer, responses=LessonDoneSerializer)
    def post(self, request, public_id, lesson_id):
        """Mark a lesson of a course done (the first time is kept; again: the same answer). When it
        is the last one left, the course is completed (`course_completed_at`). 404 for a lesson of
        another course or tenant, `not_a_course` for a material that is no course."""
        NoBodySerializer(data=body_or_empty(request)).is_valid(raise_exception=True)
        material = selectors.material_for(request.user, public_id)
        if material.kind != Material.Kind.COURSE:
            from fenxiao.exceptions import NotFound

            raise NotFound(gettext("This material is not a course."), code="not_a_course")
        lesson = selectors.lesson_of(material, lesson_id)
        done_at, course_at = services.lesson_complete(material=material, lesson=lesson, distributor=request.user)
        return Response(LessonDoneSerializer({"lesson_id": lesson.public_id, "completed_at": done_at,
                                              "course_completed_at": course_at}).data)


# --- announcements -----------------------------------------------------------------------------

class MyAnnouncementsView(PortalGenericView):
    serializer_class = MyAnnouncementSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Announcement.unscoped.none()
        return selectors.announcements_for(self.request.user)

    @extend_schema(responses=MyAnnouncementSerializer(many=True))
    def get(self, request):
        """Announcements for me (to everyone, my grade or me), newest first, paginated; the page's
        announcements are marked read (read receipts keep the first read time: `read_at`; `new`:
        unread before this request)."""
        page = self.paginate_queryset(self.get_queryset())
        before = selectors.my_reads(request.user, [a.pk for a in page])
        reads = services.announcements_mark_read(distributor=request.user, announcements=page)
        return self.get_paginated_response(MyAnnouncementSerializer([
            {"id": a.public_id, "title": a.title, "body": a.body, "published_at": a.published_at, "read_at": reads[a.pk],
             "new": a.pk not in before} for a in page], many=True).data)


# --- feedback ----------------------------------------------------------------------------------

def my_ticket_body(ticket: FeedbackTicket) -> dict:
    return MyTicketSerializer({**vars(ticket), "messages": selectors.messages_of(ticket)}).data


class MyFeedbackView(PortalGenericView):
    serializer_class = MyTicketSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return FeedbackTicket.unscoped.none()
        return selectors.tickets_of(self.request.user)

    @extend_schema(responses=MyTicketSerializer(many=True))
    def get(self, request):
        """My feedback tickets, the latest message first, paginated (messages: GET .../{id}/)."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MyTicketSerializer(page, many=True).data)

    @extend_schema(request=FeedbackOpenSerializer, responses={201: MyTicketSerializer})
    @idempotent
    def post(self, request):
        """Ask for help: a new ticket (`open`) with `subject` (1..200 characters) and the message
        `body` (1..5000 characters; 400 `blank` when empty, `max_length` over; nothing written)."""
        s = FeedbackOpenSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        ticket = services.feedback_open(distributor=request.user, **s.validated_data)
        return Response(my_ticket_body(ticket), status=201)


class MyFeedbackDetailView(PortalAPIView):
    @extend_schema(responses=MyTicketSerializer)
    def get(self, request, public_id):
        """One of my tickets with its messages (the brand's replies included); 404 for another's."""
        return Response(my_ticket_body(selectors.ticket_of(request.user, public_id)))


class MyFeedbackMessageView(PortalAPIView):
    @extend_schema(request=FeedbackMessageWriteSerializer, responses={201: MyTicketSerializer})
    @idempotent
    def post(self, request, public_id):
        """My next message on a ticket: it is `open` again (the brand's turn). 409 `invalid_state` on
        a closed ticket; 400 for an empty message or one over 5000 characters."""
        ticket = selectors.ticket_of(request.user, public_id)
        s = FeedbackMessageWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        services.feedback_post(ticket=ticket, distributor=request.user, body=s.validated_data["body"])
        return Response(my_ticket_body(selectors.ticket_of(request.user, public_id)), status=201)


class MyFeedbackCloseView(PortalAPIView):
    @extend_schema(request=NoBodySerializer, responses=MyTicketSerializer)
    @idempotent
    def post(self, request, public_id):
        """Close my ticket (my question is answered). 409 `invalid_state` when it is closed already."""
        ticket = selectors.ticket_of(request.user, public_id)
        NoBodySerializer(data=body_or_empty(request)).is_valid(raise_exception=True)
        services.feedback_close(ticket=ticket, actor=f"distributor:{request.user.external_id}")
        return Response(my_ticket_body(selectors.ticket_of(request.user, public_id)))


# --- what I would earn -------------------------------------------------------------------------

def preview_lines(rows: list[dict]) -> list[services.PreviewLine]:
    return [services.PreviewLine(sku=r["sku"], category=r["category"], price=r["price"], quantity=r["quantity"])
            for r in rows]


class MyEarnPreviewView(PortalAPIView):
    query_serializer = EarnQuerySerializer
    @extend_schema(parameters=[EarnQuerySerializer], responses=EarnPreviewSerializer)
    def get(self, request):
        """What I would earn on one product (`sku`, `category`, unit `price` in the tenant
        currency, `quantity` default 1) at each of my levels: 1 (sold through my own link), 2 and 3
        (through a downline's), under the plan in force and my grade now (the most specific rule:
        sku > category > my grade's override > default; rounded by the tenant's mode). Nothing is
        written. 400: a negative `price` (`min_value`), finer than the currency's minor unit
        (`max_decimal_places`), not a number (`invalid`). Domain rules sections 5-6."""
        s = EarnQuerySerializer(data=request.query_params)
        s.is_valid(raise_exception=True)
        result = services.earn_preview(distributor=request.user, lines=preview_lines([s.validated_data]))
        return Response(EarnPreviewSerializer(result).data)

    @extend_schema(request=EarnBodySerializer, responses=EarnPreviewSerializer)
    def post(self, request):
        """The same for several products at once: {"lines": [{"sku", "category", "price",
        "quantity"}]} (a basket: each level's amount rounded once over its lines). Nothing is
        written; 400 as GET, attr `lines.<i>.price`."""
        s = EarnBodySerializer(data=request.data)
        s.is_valid(raise_exception=True)
        result = services.earn_preview(distributor=request.user, lines=preview_lines(s.validated_data["lines"]))
        return Response(EarnPreviewSerializer(result).data)


# --- account -----------------------------------------------------------------------------------

class MyPasswordView(PortalAPIView):
    @extend_schema(request=PasswordChangeSerializer, responses={204: None})
    def post(self, request):
        """Change my portal password: `old_password` (400 `wrong_password`), `new_password` checked
        by the password validators (400 `password_too_short`, `password_too_common`,
        `password_entirely_numeric`, `password_too_similar`). 204; nothing written on a 400."""
        s = PasswordChangeSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        services.password_change(distributor=request.user, **s.validated_data)
        return Response(status=204)


class PasswordResetView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(request=PasswordResetSerializer, responses={204: None})
    def post(self, request):
        """Set a new portal password with the token of a staff-issued one-time reset link (no login).
        400, attr `token`: `invalid_token`, `token_used` (a second use, or after a password change),
        `token_expired`; attr `new_password`: the password validators' codes (the token stays
        usable). 204 on success: log in with the new password."""
        s = PasswordResetSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        services.password_reset_redeem(**s.validated_data)
        return Response(status=204)


class MyContributionView(PortalAPIView):
    query_params_extra = ("month",)
    @extend_schema(parameters=[OpenApiParameter("month", str, required=False,
                                                description="YYYY-MM, tenant time (default: this month)")],
                   responses=ContributionSerializer)
    def get(self, request):
        """What each downline's orders earned me in a month (tenant time, orders by the time they
        were paid): from my commission records, net of reversals, per downline (whose link or
        customer sold) and level I was paid at; `own` from sales through my own link; `by_level` and
        `total` of the month. 400 `invalid` / `out_of_range` for a bad month."""
        me = request.user
        month = request.query_params.get("month")
        if month is None:
            from zoneinfo import ZoneInfo

            month = timezone.now().astimezone(ZoneInfo(me.tenant.timezone)).strftime("%Y-%m")
        first = selectors.month_first(month)
        c = selectors.downline_contribution(me, first)
        cur = me.tenant.currency
        return Response(ContributionSerializer({
            "month": f"{first:%Y-%m}", "currency": cur, "total": money_str(c["total"], cur),
            "by_level": {k: money_str(v, cur) for k, v in c["by_level"].items()},
            "own": {k: money_str(v, cur) for k, v in c["own"].items()},
            "results": [{"external_id": r.external_id, "name": r.name, "level": r.level, "orders": r.orders,
                         "amount": money_str(r.amount, cur)} for r in c["rows"]],
        }).data)
