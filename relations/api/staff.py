"""Staff endpoints of distributor support (domain rules section 8; spec/api.md: CRUD
/admin/materials/ and /admin/announcements/, GET/POST /admin/feedback/ with reply and close) and the
staff-issued password reset link. Each view names the Django model permissions it needs
(`staff_perms`, as tenants.roles grants them); writes go through relations.services; another
tenant's id is a 404 like a missing one; a refused body writes nothing."""
from __future__ import annotations

from django.utils.translation import gettext
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from distributors.api.lookups import distributors_of, grades_of
from distributors.models import Distributor
from fenxiao.api.idempotency import idempotent
from fenxiao.api.base import StaffAPIView, StaffGenericView, body_or_empty
from fenxiao.api.parsers import DecimalJSONParser
from fenxiao.exceptions import NotFound

from .. import selectors, services
from ..models import Announcement, FeedbackTicket, Material
from .common import (
    staff_announcement, staff_announcement_bodies, staff_material, staff_material_bodies,
)
from .serializers import (
    AnnouncementPatchSerializer, AnnouncementWriteSerializer, FeedbackMessageWriteSerializer, MaterialPatchSerializer,
    MaterialWriteSerializer, PasswordResetIssuedSerializer, PasswordResetIssueSerializer, StaffAnnouncementSerializer,
    StaffFeedbackOpenSerializer, StaffMaterialSerializer, StaffTicketSerializer,
)
from fenxiao.api.fields import StrictSerializer


class NoBodySerializer(StrictSerializer):
    """An empty body ({}); any field is refused (unknown_field)."""


def material_changes(data: dict) -> dict:
    """A validated material body -> keyword arguments of material_create / material_update."""
    out = dict(data)
    if "grades" in out:
        out["grades"] = grades_of(out["grades"])
    if "lessons" in out:
        out["lessons"] = [services.LessonInput(**lesson) for lesson in out["lessons"]]
    return out


# --- materials ---------------------------------------------------------------------------------

class MaterialListView(StaffGenericView):
    staff_perms = {"GET": ["relations.view_material"], "POST": ["relations.add_material"]}
    parser_classes = [DecimalJSONParser, MultiPartParser]
    serializer_class = StaffMaterialSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Material.unscoped.none()
        return Material.objects.prefetch_related("grades").order_by("position", "-id")

    @extend_schema(responses=StaffMaterialSerializer(many=True))
    def get(self, request):
        """The tenant's materials (培训支持、营销材料), by position then newest, paginated, each with
        its lessons and its counts: views, viewers, downloads, completions (domain rules section 8)."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(staff_material_bodies(page))

    @extend_schema(request={"application/json": MaterialWriteSerializer, "multipart/form-data": MaterialWriteSerializer},
                   responses={201: StaffMaterialSerializer})
    @idempotent
    def post(self, request):
        """Publish a material: `kind` poster (an `image` upload with the QR square `qr_x, qr_y,
        qr_size` and the name's `name_x, name_y` in pixels, inside the image), copy (`body`),
        video (`link`), document (a `file` upload or a `link`) or course (`lessons`: [{"title",
        "body", "video_url"}], in order, at least one). `grades`: codes of the grades that see it
        (none: everyone). JSON, or multipart/form-data for the uploads. 400 (nothing written):
        `required`, `outside_image`, `invalid_image`, `too_large`, `unknown_grade`, ..."""
        s = MaterialWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        material = services.material_create(tenant=request.tenant, **material_changes(s.validated_data))
        return Response(staff_material_bodies([staff_material(material.public_id)])[0], status=201)


class MaterialDetailView(StaffAPIView):
    staff_perms = {"GET": ["relations.view_material"], "PATCH": ["relations.change_material"],
                   "DELETE": ["relations.delete_material"]}
    parser_classes = [DecimalJSONParser, MultiPartParser]

    @extend_schema(responses=StaffMaterialSerializer)
    def get(self, request, public_id):
        """One material with its lessons and counts; 404 when the tenant has none with this id."""
        return Response(staff_material_bodies([staff_material(public_id)])[0])

    @extend_schema(request={"application/json": MaterialPatchSerializer, "multipart/form-data": MaterialPatchSerializer},
                   responses=StaffMaterialSerializer)
    def patch(self, request, public_id):
        """Change a material's fields (each optional, checked as on creation against the stored
        ones); `grades` and `lessons` replace the stored ones (a lesson with its `id` is kept with
        its completions). 400 writes nothing."""
        material = staff_material(public_id)
        s = MaterialPatchSerializer(data=request.data, partial=True)
        s.is_valid(raise_exception=True)
        services.material_update(material=material, **material_changes(s.validated_data))
        return Response(staff_material_bodies([staff_material(public_id)])[0])

    @extend_schema(responses={204: None})
    def delete(self, request, public_id):
        """Remove a material with its lessons and every distributor's use of it."""
        services.material_delete(material=staff_material(public_id))
        return Response(status=204)


# --- announcements -----------------------------------------------------------------------------

def announcement_changes(data: dict) -> dict:
    out = dict(data)
    if "grades" in out:
        out["grades"] = grades_of(out["grades"])
    if "distributors" in out:
        out["distributors"] = distributors_of(out["distributors"])
    return out


class AnnouncementListView(StaffGenericView):
    staff_perms = {"GET": ["relations.view_announcement"], "POST": ["relations.add_announcement"]}
    serializer_class = StaffAnnouncementSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Announcement.unscoped.none()
        return Announcement.objects.prefetch_related("grades", "distributors").order_by("-published_at", "-id")

    @extend_schema(responses=StaffAnnouncementSerializer(many=True))
    def get(self, request):
        """The tenant's announcements, newest first, paginated, each with `read_count` (distributors
        who read it) and `audience_size` (distributors it is for now)."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(staff_announcement_bodies(page))

    @extend_schema(request=AnnouncementWriteSerializer, responses={201: StaffAnnouncementSerializer})
    @idempotent
    def post(self, request):
        """Send an announcement (domain rules section 8): `audience` everyone, grades (`grades`:
        codes) or distributors (`distributors`: external ids), shown from `published_at` (default
        now). 400 (nothing written): `required` (no grade / distributor named), `unknown_grade`,
        `unknown_distributor`, `blank`."""
        s = AnnouncementWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        a = services.announcement_create(tenant=request.tenant, actor=request.user.get_username(),
                                         **announcement_changes(s.validated_data))
        return Response(staff_announcement_bodies([staff_announcement(a.public_id)])[0], status=201)


class AnnouncementDetailView(StaffAPIView):
    staff_perms = {"GET": ["relations.view_announcement"], "PATCH": ["relations.change_announcement"],
                   "DELETE": ["relations.delete_announcement"]}

    @extend_schema(responses=StaffAnnouncementSerializer)
    def get(self, request, public_id):
        """One announcement with its read count; 404 when the tenant has none with this id."""
        return Response(staff_announcement_bodies([staff_announcement(public_id)])[0])

    @extend_schema(request=AnnouncementPatchSerializer, responses=StaffAnnouncementSerializer)
    def patch(self, request, public_id):
        """Change an announcement (checked as on creation); its read receipts stay."""
        a = staff_announcement(public_id)
        s = AnnouncementPatchSerializer(data=request.data, partial=True)
        s.is_valid(raise_exception=True)
        services.announcement_update(announcement=a, **announcement_changes(s.validated_data))
        return Response(staff_announcement_bodies([staff_announcement(public_id)])[0])

    @extend_schema(responses={204: None})
    def delete(self, request, public_id):
        """Remove an announcement and its read receipts."""
        services.announcement_delete(announcement=staff_announcement(public_id))
        return Response(status=204)


# --- feedback ----------------------------------------------------------------------------------

class FeedbackFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=FeedbackTicket.Status.choices)
    distributor = filters.CharFilter(field_name="distributor__external_id")

    class Meta:
        model = FeedbackTicket
        fields = ["status", "distributor"]


def staff_ticket_body(ticket: FeedbackTicket) -> dict:
    return StaffTicketSerializer({**vars(ticket), "distributor": ticket.distributor,
                                  "messages": selectors.messages_of(ticket)}).data


class FeedbackListView(StaffGenericView):
    staff_perms = {"GET": ["relations.view_feedbackticket"], "POST": ["relations.add_feedbackticket"]}
    serializer_class = StaffTicketSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = FeedbackFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return FeedbackTicket.unscoped.none()
        return FeedbackTicket.objects.select_related("distributor").order_by("-updated_at", "-id")

    @extend_schema(responses=StaffTicketSerializer(many=True))
    def get(self, request):
        """The tenant's feedback tickets, the latest message first, paginated (without their
        messages: GET .../{id}/); filters `status` (open, answered, closed) and `distributor`."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(StaffTicketSerializer(page, many=True).data)

    @extend_schema(request=StaffFeedbackOpenSerializer, responses={201: StaffTicketSerializer})
    @idempotent
    def post(self, request):
        """Write to a distributor first: a new ticket, `answered` (the distributor's turn), with
        the message. 400: `unknown_distributor`, an empty message or one over 5000 characters."""
        s = StaffFeedbackOpenSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        (who,) = distributors_of([d["distributor_external_id"]], attr="distributor_external_id")
        ticket = services.feedback_staff_open(distributor=who, subject=d["subject"], body=d["body"],
                                              actor=request.user.get_username())
        return Response(staff_ticket_body(selectors.staff_ticket(ticket.public_id)), status=201)


class FeedbackDetailView(StaffAPIView):
    staff_perms = {"GET": ["relations.view_feedbackticket"]}

    @extend_schema(responses=StaffTicketSerializer)
    def get(self, request, public_id):
        """One ticket with its messages, oldest first; 404 when the tenant has none with this id."""
        return Response(staff_ticket_body(selectors.staff_ticket(public_id)))


class FeedbackReplyView(StaffAPIView):
    staff_perms = {"POST": ["relations.change_feedbackticket"]}

    @extend_schema(request=FeedbackMessageWriteSerializer, responses=StaffTicketSerializer)
    @idempotent
    def post(self, request, public_id):
        """Reply to a ticket: it becomes `answered`. 409 `invalid_state` on a closed ticket; 400 for
        an empty message or one over 5000 characters (nothing written)."""
        ticket = selectors.staff_ticket(public_id)
        s = FeedbackMessageWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        services.feedback_reply(ticket=ticket, body=s.validated_data["body"], actor=request.user.get_username())
        return Response(staff_ticket_body(selectors.staff_ticket(public_id)))


class FeedbackCloseView(StaffAPIView):
    staff_perms = {"POST": ["relations.change_feedbackticket"]}

    @extend_schema(request=NoBodySerializer, responses=StaffTicketSerializer)
    @idempotent
    def post(self, request, public_id):
        """Close a ticket: no more messages. 409 `invalid_state` when it is closed already."""
        ticket = selectors.staff_ticket(public_id)
        NoBodySerializer(data=body_or_empty(request)).is_valid(raise_exception=True)
        services.feedback_close(ticket=ticket, actor=request.user.get_username())
        return Response(staff_ticket_body(selectors.staff_ticket(public_id)))


# --- password reset links ----------------------------------------------------------------------

class PasswordResetIssueView(StaffAPIView):
    staff_perms = {"POST": ["relations.add_passwordreset"]}

    @extend_schema(request=PasswordResetIssueSerializer, responses={201: PasswordResetIssuedSerializer})
    def post(self, request, external_id):
        """Issue a one-time password reset link for a distributor, valid `hours` (1..168, default
        PASSWORD_RESET_HOURS: 24). The token and the link (the portal's reset page) are shown this
        once; POST /api/v1/auth/password-reset/ {token, new_password} uses it. 404 for another
        tenant's or a missing distributor; 409 for a disabled one."""
        d = Distributor.objects.filter(external_id=external_id).first()
        if d is None:
            raise NotFound(gettext("No distributor with this external_id."))
        s = PasswordResetIssueSerializer(data=body_or_empty(request))
        s.is_valid(raise_exception=True)
        reset, token, url = services.password_reset_issue(distributor=d, hours=s.validated_data["hours"],
                                                          actor=request.user.get_username())
        return Response(PasswordResetIssuedSerializer({"distributor_external_id": d.external_id, "token": token,
                                                       "url": url, "expires_at": reset.expires_at}).data, status=201)
