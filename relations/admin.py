"""The console's support pages (domain rules section 8, "Support for distributors"; issue 14):
materials with a course's lessons inline and their counts (views, viewers, downloads,
completions), announcements with their read counts and first readers, feedback tickets with the
conversation and "Send the reply" / "Close the ticket" on the ticket's own page, and one-time
password reset links (the add page issues one and shows it once).

Every page is scoped to the staff's tenant (tenants.admin_scoping; many-to-many choices too). The
rules are relations.services': a material's form checks `material_check`, an announcement's
`announcement_check`, replies and closing call `feedback_reply` / `feedback_close`, a reset link
`password_reset_issue`; a refusal is a form error or an error message, with nothing written.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy as _
from rest_framework.exceptions import APIException

from tenants.admin_scoping import (
    TenantScopedAdmin, TenantScopedHistoryAdmin, TenantScopedInline, staff_tenant_id,
)
from tenants.context import tenant_context

from . import selectors, services
from .models import Announcement, AnnouncementRead, FeedbackTicket, Lesson, Material, PasswordReset


def refusal_text(exc: APIException) -> list[tuple[str | None, str]]:
    """[(attr or None, message)] of a service's refusal (400 on attributes, 404/409 on the whole)."""
    detail = exc.detail
    if isinstance(detail, dict):
        return [(None if attr == "non_field_errors" else attr, gettext(str(m)))
                for attr, ms in detail.items() for m in (ms if isinstance(ms, list) else [ms])]
    if isinstance(detail, list):
        return [(None, gettext(str(m))) for m in detail]
    return [(None, gettext(str(detail)))]


def add_refusal(form: forms.BaseForm, exc: APIException, fields: dict[str, str] | None = None) -> None:
    """A service's refusal as form errors: on the field it names (or `fields` maps it to), else on the form."""
    for attr, message in refusal_text(exc):
        field = (fields or {}).get((attr or "").split(".")[0], (attr or "").split(".")[0])
        form.add_error(field if field in form.fields else None, message)


class ScopedManyToManyMixin:
    """Many-to-many choices (grades, distributors) limited to the staff's tenant, like the
    foreign keys (tenants.admin_scoping scopes those)."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        remote = db_field.remote_field.model
        if hasattr(remote, "unscoped"):
            qs = remote.unscoped.all()
            if not request.user.is_superuser:
                qs = qs.filter(tenant_id=staff_tenant_id(request))
            kwargs["queryset"] = qs
        return super().formfield_for_manytomany(db_field, request, **kwargs)


# --- materials ---------------------------------------------------------------------------------

class LessonFormSet(forms.BaseInlineFormSet):
    def clean(self):
        """A course needs at least one lesson (relations.services.material_check)."""
        super().clean()
        if getattr(self.instance, "kind", None) != Material.Kind.COURSE:
            return
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not kept:
            raise forms.ValidationError(gettext("A course needs at least one lesson."))


HTTPS_LINKS = {models.URLField: {"assume_scheme": "https"}}   # a link typed without a scheme is https://


class LessonInline(TenantScopedInline, admin.TabularInline):
    model = Lesson
    formfield_overrides = HTTPS_LINKS
    formset = LessonFormSet
    fields = ["position", "title", "body", "video_url"]
    extra = 1
    verbose_name = _("lesson (courses only)")
    verbose_name_plural = _("lessons (courses only)")


class MaterialForm(forms.ModelForm):
    class Meta:
        model = Material
        fields = ["kind"]   # the admin gives the full list (a many-to-many here would query without a tenant)

    def clean(self):
        """The rules of relations.services.material_check on what was typed and uploaded."""
        data = super().clean()
        if self.errors:
            return data
        material = Material(**{f.name: data.get(f.name, getattr(self.instance, f.name))
                               for f in Material._meta.concrete_fields
                               if f.name in data and f.name not in ("id", "tenant")})
        upload = data.get("image")
        image_bytes = None
        if upload and hasattr(upload, "read"):
            upload.seek(0)
            image_bytes = upload.read()
            upload.seek(0)
        elif self.instance.pk and self.instance.image and not upload:
            material.image = self.instance.image
        try:
            services.material_check(material=material, image_bytes=image_bytes)
        except APIException as exc:
            add_refusal(self, exc)
        return data


class MaterialAdmin(ScopedManyToManyMixin, TenantScopedHistoryAdmin):
    form = MaterialForm
    formfield_overrides = HTTPS_LINKS
    inlines = [LessonInline]
    list_display = ["title", "kind", "is_active", "position", "grade_list", "views", "downloads", "completions"]
    list_filter = ["kind", "is_active"]
    search_fields = ["title", "body"]
    filter_horizontal = ["grades"]
    readonly_fields = ["counts"]
    fieldsets = [
        (None, {"fields": ["kind", "title", "body", "link", "file", "grades", "is_active", "position"]}),
        (_("Poster"), {"fields": ["image", ("qr_x", "qr_y", "qr_size"), ("name_x", "name_y"), ("name_size", "name_color")],
                       "description": _("Posters only: the background image and, in its pixels, the square where "
                                        "each distributor's invite QR code is drawn and where its name starts.")}),
        (_("Use"), {"fields": ["counts"]}),
    ]

    def get_queryset(self, request):
        return selectors.material_counts_annotated(super().get_queryset(request)).prefetch_related("grades")

    def get_fieldsets(self, request, obj=None):
        sets = super().get_fieldsets(request, obj)
        return sets if obj is not None else sets[:-1]

    @admin.display(description=_("grades"))
    def grade_list(self, obj):
        return ", ".join(g.name for g in obj.grades.all()) or gettext("everyone")

    @admin.display(description=_("views"), ordering="n_views")
    def views(self, obj):
        return obj.n_views

    @admin.display(description=_("downloads"), ordering="n_downloads")
    def downloads(self, obj):
        return obj.n_downloads

    @admin.display(description=_("completions"), ordering="n_completions")
    def completions(self, obj):
        return obj.n_completions

    @admin.display(description=_("counts"))
    def counts(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        with tenant_context(obj.tenant_id):
            c = selectors.material_counts([obj.pk])[obj.pk]
        return format_html(
            "{}: {} · {}: {} · {}: {} · {}: {}", gettext("views"), c.views, gettext("distributors who viewed it"),
            c.viewers, gettext("downloads"), c.downloads, gettext("completions"), c.completions)


# --- announcements -----------------------------------------------------------------------------

class AnnouncementForm(forms.ModelForm):
    class Meta:
        model = Announcement
        fields = ["title"]   # the admin gives the full list

    def clean(self):
        """The audience names what it needs (relations.services.announcement_check)."""
        data = super().clean()
        if self.errors:
            return data
        try:
            services.announcement_check(audience=data.get("audience"), grades=list(data.get("grades") or []),
                                        distributors=list(data.get("distributors") or []))
        except APIException as exc:
            add_refusal(self, exc)
        return data


class AnnouncementAdmin(ScopedManyToManyMixin, TenantScopedHistoryAdmin):
    form = AnnouncementForm
    list_display = ["title", "audience", "published_at", "is_active", "read_count", "audience_count"]
    list_filter = ["audience", "is_active"]
    search_fields = ["title", "body"]
    filter_horizontal = ["grades"]
    autocomplete_fields = ["distributors"]
    readonly_fields = ["created_by", "readers"]
    fields = ["title", "body", "audience", "grades", "distributors", "published_at", "is_active", "created_by", "readers"]

    def get_queryset(self, request):
        reads = (AnnouncementRead.unscoped.filter(announcement_id=OuterRef("pk")).values("announcement_id")
                 .annotate(n=Count("id")).values("n")[:1])
        return super().get_queryset(request).annotate(n_reads=Coalesce(Subquery(reads, output_field=IntegerField()), 0))

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user.get_username()
        super().save_model(request, obj, form, change)

    @admin.display(description=_("read by"), ordering="n_reads")
    def read_count(self, obj):
        return obj.n_reads

    @admin.display(description=_("audience now"))
    def audience_count(self, obj):
        with tenant_context(obj.tenant_id):
            return selectors.audience_size(obj)

    @admin.display(description=_("read receipts"))
    def readers(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        with tenant_context(obj.tenant_id):
            size = selectors.audience_size(obj)
            first = list(selectors.readers_of(obj)[:50])
            count = selectors.read_counts([obj.pk])[obj.pk]
        rows = format_html_join("", "<li>{} {} · {}</li>", ((r.distributor.external_id, r.distributor.name,
                                                             r.read_at.isoformat(timespec="minutes")) for r in first))
        return format_html("<p>{}</p><ul>{}</ul>", gettext("%(read)s of %(size)s distributors have read it.") % {
            "read": count, "size": size}, rows)


# --- feedback ----------------------------------------------------------------------------------

class FeedbackTicketAdmin(TenantScopedAdmin):
    list_display = ["id", "subject", "distributor", "status", "updated_at"]
    list_filter = ["status"]
    search_fields = ["subject", "distributor__external_id", "distributor__name"]
    list_select_related = ["distributor"]
    fields = ["distributor", "subject", "status", "created_at", "updated_at", "closed_at", "closed_by", "conversation"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False   # tickets start in the portal (or through POST /api/v1/admin/feedback/)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("conversation"))
    def conversation(self, obj):
        with tenant_context(obj.tenant_id):
            rows = selectors.messages_of(obj)
        return format_html_join("", '<div class="ticket-message"><p><strong>{}</strong> {}</p><p style="white-space:'
                                    'pre-wrap">{}</p></div>',
                                ((m.get_author_display() + (f" ({m.staff_username})" if m.staff_username else ""),
                                  m.created_at.isoformat(timespec="minutes"), m.body) for m in rows))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """The ticket's page; its "Send the reply" and "Close the ticket" buttons post here and go
        through relations.services (409 on a closed ticket: an error message, nothing written)."""
        if object_id is not None and request.method == "POST" and ("_reply" in request.POST or "_close" in request.POST):
            return self._answer(request, object_id)
        if object_id is not None:
            ticket = self.get_object(request, unquote(object_id))
            answerable = ticket is not None and ticket.status != FeedbackTicket.Status.CLOSED
            extra_context = {**(extra_context or {}),
                             "can_answer": answerable and self.has_change_permission(request, ticket)}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _answer(self, request, object_id):
        ticket = self.get_object(request, unquote(object_id))
        if ticket is None:
            raise Http404(gettext("No feedback ticket with this id."))
        if not self.has_change_permission(request, ticket):
            raise PermissionDenied
        actor = request.user.get_username()
        try:
            with tenant_context(ticket.tenant_id), transaction.atomic():
                if "_reply" in request.POST:
                    services.feedback_reply(ticket=ticket, body=request.POST.get("reply_body", ""), actor=actor)
                    self.message_user(request, gettext("Reply sent."), messages.SUCCESS)
                else:
                    services.feedback_close(ticket=ticket, actor=actor)
                    self.message_user(request, gettext("Ticket closed."), messages.SUCCESS)
        except APIException as exc:
            for _attr, text in refusal_text(exc):
                self.message_user(request, text, messages.ERROR)
        return HttpResponseRedirect(request.path)


# --- password reset links ----------------------------------------------------------------------

class PasswordResetForm(forms.ModelForm):
    hours = forms.IntegerField(label=_("valid for (hours)"), min_value=1, max_value=services.RESET_HOURS_MAX,
                               initial=24, help_text=_("1 to 168 hours."))

    class Meta:
        model = PasswordReset
        fields = []   # the admin adds the distributor (a foreign key here would query without a tenant)

    issued = None

    def clean(self):
        """Issues the link through relations.services.password_reset_issue inside the admin's
        transaction: a refusal (a disabled distributor) is a form error, nothing written."""
        data = super().clean()
        if self.errors or data.get("distributor") is None:
            return data
        who = data["distributor"]
        try:
            with tenant_context(who.tenant_id), transaction.atomic():
                self.issued = services.password_reset_issue(distributor=who, hours=data["hours"],
                                                            actor=getattr(self, "actor", ""))
        except APIException as exc:
            add_refusal(self, exc)
        return data

    def _post_clean(self):
        """No model validation: the service wrote the row (clean())."""

    def save(self, commit=True):
        return self.issued[0]

    def save_m2m(self):
        pass


class PasswordResetAdmin(TenantScopedAdmin):
    form = PasswordResetForm
    list_display = ["distributor", "created_at", "expires_at", "used_at", "created_by"]
    list_select_related = ["distributor"]
    search_fields = ["distributor__external_id", "distributor__name"]
    autocomplete_fields = ["distributor"]

    def get_fields(self, request, obj=None):
        return ["distributor", "hours"] if obj is None else ["distributor", "created_at", "expires_at", "used_at",
                                                            "created_by"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, **kwargs)
        form = super().get_form(request, obj, **kwargs)
        form.actor = request.user.get_username()
        return form

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_form(self, request, form, change):
        return form.save(commit=False)

    def save_model(self, request, obj, form, change):
        pass   # the service saved it in the form's clean()

    def response_add(self, request, obj, post_url_continue=None):
        _reset, _token, url = self.form_issued(request)
        self.message_user(request, format_html(
            "{} <code id=\"reset-link\">{}</code> {}", gettext("Send this link to the distributor (shown once):"), url,
            gettext("It works once, until %(when)s.") % {"when": obj.expires_at.isoformat(timespec="minutes")}),
            messages.SUCCESS)
        return HttpResponseRedirect("../")

    def form_issued(self, request):
        return request._issued_reset

    def save_related(self, request, form, formsets, change):
        request._issued_reset = form.issued


admin.site.register(Material, MaterialAdmin)
admin.site.register(Announcement, AnnouncementAdmin)
admin.site.register(FeedbackTicket, FeedbackTicketAdmin)
admin.site.register(PasswordReset, PasswordResetAdmin)
