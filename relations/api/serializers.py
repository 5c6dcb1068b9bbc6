"""Serializers of the support API (domain rules section 8, "Support for distributors"): materials
with their lessons and counts, announcements with their audience and read counts, feedback tickets
with their messages, the invite link, earn previews, passwords and my downlines' contribution.
Money is a decimal string with the tenant currency's places; times RFC 3339."""
from __future__ import annotations

from rest_framework import serializers

from fenxiao.api.fields import (
    AwareDateTimeField, ExternalIdField, MoneyField, PlainIntegerField, StrictSerializer,
)

from ..models import FEEDBACK_BODY_MAX, Announcement, FeedbackMessage, FeedbackTicket, Material

URL_KW = {"max_length": 500, "required": False, "allow_blank": True}


def Pixels(**kwargs):  # noqa: N802 (field factory)
    """A position or size on a poster's image, in pixels (a whole number >= 0)."""
    kwargs.setdefault("min_value", 0)
    kwargs.setdefault("max_value", 100_000)
    return PlainIntegerField(**kwargs)


# --- materials ---------------------------------------------------------------------------------

class LessonWriteSerializer(StrictSerializer):
    id = serializers.CharField(required=False, allow_null=True, default=None, max_length=32,
                               help_text="an existing lesson of this course (lesson_...) to keep (its completions stay); absent: new")
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    video_url = serializers.URLField(default="", **URL_KW)


class MaterialWriteSerializer(StrictSerializer):
    """A material as staff create it. JSON, or multipart/form-data to upload `image` / `file`
    (grades repeated; lessons in JSON only)."""

    kind = serializers.ChoiceField(choices=Material.Kind.choices)
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False,
                                 help_text="sharing copy (required for kind copy), or a description")
    link = serializers.URLField(default="", help_text="a video's or document's address", **URL_KW)
    file = serializers.FileField(required=False, allow_null=True, default=None, help_text="a document's file")
    image = serializers.FileField(required=False, allow_null=True, default=None, help_text="a poster's image (PNG or JPEG)")
    qr_x = Pixels(required=False, allow_null=True, default=None, help_text="poster: left edge of the QR square (px)")
    qr_y = Pixels(required=False, allow_null=True, default=None, help_text="poster: top edge of the QR square (px)")
    qr_size = Pixels(required=False, allow_null=True, default=None, help_text="poster: side of the QR square (px)")
    name_x = Pixels(required=False, allow_null=True, default=None, help_text="poster: left edge of the name (px)")
    name_y = Pixels(required=False, allow_null=True, default=None, help_text="poster: top edge of the name (px)")
    name_size = Pixels(required=False, default=32, min_value=8, max_value=400, help_text="poster: letter height (px)")
    name_color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False, default="#000000",
                                        help_text="poster: the name's colour, #RRGGBB")
    grades = serializers.ListField(child=serializers.CharField(max_length=64), required=False, default=list,
                                   help_text="codes of the grades that see it; empty: everyone")
    is_active = serializers.BooleanField(required=False, default=True)
    position = PlainIntegerField(required=False, default=0, min_value=-1_000_000, max_value=1_000_000)
    lessons = LessonWriteSerializer(many=True, required=False, default=list, help_text="a course's lessons, in order")


class MaterialPatchSerializer(MaterialWriteSerializer):
    """Any field of a material; `grades` and `lessons` replace the stored ones when given."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty


class LessonSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="lesson_...")
    position = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    video_url = serializers.CharField()


class CountsSerializer(serializers.Serializer):
    views = serializers.IntegerField(help_text="times shown to distributors")
    viewers = serializers.IntegerField(help_text="distributors who saw it")
    downloads = serializers.IntegerField(help_text="files, posters and links fetched")
    completions = serializers.IntegerField(help_text="distributors who completed every lesson (courses)")


class StaffMaterialSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="mat_...")
    kind = serializers.ChoiceField(choices=Material.Kind.choices)
    title = serializers.CharField()
    body = serializers.CharField()
    link = serializers.CharField()
    file_name = serializers.CharField(allow_null=True, help_text="the document's uploaded file, if any")
    has_image = serializers.BooleanField()
    qr_x = serializers.IntegerField(allow_null=True)
    qr_y = serializers.IntegerField(allow_null=True)
    qr_size = serializers.IntegerField(allow_null=True)
    name_x = serializers.IntegerField(allow_null=True)
    name_y = serializers.IntegerField(allow_null=True)
    name_size = serializers.IntegerField()
    name_color = serializers.CharField()
    grades = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()
    position = serializers.IntegerField()
    lessons = LessonSerializer(many=True)
    counts = CountsSerializer()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class MyLessonSerializer(LessonSerializer):
    completed_at = serializers.DateTimeField(allow_null=True, help_text="when I completed it (null: not yet)")


class MyMaterialSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="mat_...")
    kind = serializers.ChoiceField(choices=Material.Kind.choices)
    title = serializers.CharField()
    body = serializers.CharField()
    link = serializers.CharField(help_text="a video's or document's address ('' for none)")
    has_file = serializers.BooleanField()
    poster_url = serializers.CharField(allow_null=True, help_text="my poster (posters only)")
    download_url = serializers.CharField(allow_null=True, help_text="the file or link, counted (documents, videos)")
    lessons_count = serializers.IntegerField()
    lessons_done = serializers.IntegerField()
    completed_at = serializers.DateTimeField(allow_null=True, help_text="when I completed the course")
    views = serializers.IntegerField(help_text="how often I opened it")


class MyMaterialDetailSerializer(MyMaterialSerializer):
    lessons = MyLessonSerializer(many=True)


class LessonDoneSerializer(serializers.Serializer):
    lesson_id = serializers.CharField(help_text="lesson_...")
    completed_at = serializers.DateTimeField(help_text="when I first completed the lesson")
    course_completed_at = serializers.DateTimeField(allow_null=True, help_text="when I completed every lesson")


# --- announcements -----------------------------------------------------------------------------

class AnnouncementWriteSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(trim_whitespace=False)
    audience = serializers.ChoiceField(choices=Announcement.Audience.choices, required=False, default="everyone")
    grades = serializers.ListField(child=serializers.CharField(max_length=64), required=False, default=list,
                                   help_text="grade codes (audience grades)")
    distributors = serializers.ListField(child=ExternalIdField(), required=False, default=list, max_length=10_000,
                                         help_text="external ids (audience distributors)")
    published_at = AwareDateTimeField(required=False, allow_null=True, default=None, help_text="shown from (default now)")
    is_active = serializers.BooleanField(required=False, default=True)


class AnnouncementPatchSerializer(AnnouncementWriteSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty


class StaffAnnouncementSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="ann_...")
    title = serializers.CharField()
    body = serializers.CharField()
    audience = serializers.ChoiceField(choices=Announcement.Audience.choices)
    grades = serializers.ListField(child=serializers.CharField())
    distributors = serializers.ListField(child=serializers.CharField())
    published_at = serializers.DateTimeField()
    is_active = serializers.BooleanField()
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_count = serializers.IntegerField(help_text="distributors who read it")
    audience_size = serializers.IntegerField(help_text="distributors it is for now")


class MyAnnouncementSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="ann_...")
    title = serializers.CharField()
    body = serializers.CharField()
    published_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(help_text="when I first read it")
    new = serializers.BooleanField(help_text="unread before this request")


# --- feedback ----------------------------------------------------------------------------------

def FeedbackBody():  # noqa: N802 (field factory)
    return serializers.CharField(max_length=FEEDBACK_BODY_MAX, trim_whitespace=True,
                                 help_text=f"1..{FEEDBACK_BODY_MAX} characters")


class FeedbackOpenSerializer(StrictSerializer):
    subject = serializers.CharField(max_length=200)
    body = FeedbackBody()


class StaffFeedbackOpenSerializer(FeedbackOpenSerializer):
    distributor_external_id = ExternalIdField()


class FeedbackMessageWriteSerializer(StrictSerializer):
    body = FeedbackBody()


class MessageSerializer(serializers.Serializer):
    author = serializers.ChoiceField(choices=FeedbackMessage.Author.choices)
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class StaffMessageSerializer(MessageSerializer):
    staff_username = serializers.CharField()


class TicketSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", help_text="fb_...")
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=FeedbackTicket.Status.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(help_text="the last message")
    closed_at = serializers.DateTimeField(allow_null=True)


class MyTicketSerializer(TicketSerializer):
    messages = MessageSerializer(many=True, required=False)


class StaffTicketSerializer(TicketSerializer):
    distributor_external_id = serializers.CharField(source="distributor.external_id")
    distributor_name = serializers.CharField(source="distributor.name")
    closed_by = serializers.CharField()
    messages = StaffMessageSerializer(many=True, required=False)


# --- invite, earn preview, passwords, contribution ---------------------------------------------

class InviteSerializer(serializers.Serializer):
    invite_code = serializers.CharField()
    invite_url = serializers.CharField(help_text="registering through it binds the newcomer under me (bind_mode)")
    qr_url = serializers.CharField(help_text="the invite link as a QR code (PNG)")


class EarnQuerySerializer(StrictSerializer):
    sku = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    category = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    price = MoneyField(help_text="unit price in the tenant currency (>= 0, whole minor units)")
    quantity = PlainIntegerField(min_value=1, max_value=1_000_000, required=False, default=1)


class EarnLineSerializer(EarnQuerySerializer):
    pass


class EarnBodySerializer(StrictSerializer):
    lines = EarnLineSerializer(many=True, allow_empty=False)


class EarnLevelSerializer(serializers.Serializer):
    level = serializers.IntegerField(help_text="1: a sale through my own link; 2, 3: through a downline's")
    amount = serializers.CharField(help_text="what I would earn at this level (tenant currency)")
    rate = serializers.CharField(allow_null=True, help_text="the percent rate when every line used one")
    lines = serializers.ListField(child=serializers.DictField())


class EarnPreviewSerializer(serializers.Serializer):
    plan_version = serializers.IntegerField(allow_null=True, help_text="the plan in force (null: none, no levels)")
    currency = serializers.CharField()
    grade = serializers.CharField(allow_null=True, help_text="my grade's code")
    active = serializers.BooleanField(help_text="an inactive distributor earns nothing")
    commission_base = serializers.CharField()
    levels = EarnLevelSerializer(many=True)


class PasswordChangeSerializer(StrictSerializer):
    old_password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)


class PasswordResetSerializer(StrictSerializer):
    token = serializers.CharField(max_length=200, help_text="from the reset link staff issued")
    new_password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)


class PasswordResetIssueSerializer(StrictSerializer):
    hours = PlainIntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=168,
                              help_text="how long the link is valid (default PASSWORD_RESET_HOURS, 24)")


class PasswordResetIssuedSerializer(serializers.Serializer):
    distributor_external_id = serializers.CharField()
    token = serializers.CharField(help_text="shown this once")
    url = serializers.CharField(help_text="the portal's reset page with the token")
    expires_at = serializers.DateTimeField()


class ContributionRowSerializer(serializers.Serializer):
    external_id = serializers.CharField(help_text="the downline whose link or customer sold")
    name = serializers.CharField()
    level = serializers.IntegerField(help_text="the level I was paid at")
    orders = serializers.IntegerField()
    amount = serializers.CharField(help_text="my commission net of reversals")


class ContributionSerializer(serializers.Serializer):
    month = serializers.CharField()
    currency = serializers.CharField()
    total = serializers.CharField()
    by_level = serializers.DictField(child=serializers.CharField())
    own = serializers.DictField(child=serializers.CharField(), help_text="from sales through my own link, per level")
    results = ContributionRowSerializer(many=True)
