"""What every portal page shares: the tenant from the URL (/portal/<slug>/...), the distributor
from the session (portal.session), the tenant's context and time zone around the view, the
page's rendering, and the answers for what is not there.

`portal_page` wraps a page for a logged-in distributor: no login (or a login of another tenant)
redirects to the tenant's login page with ?next=; inside, `request.distributor` is the distributor
(read fresh, its tenant loaded) and every query runs in its tenant (tenants.context: the scoped
managers fail closed). Pages are never cached (`never_cache`: a shared phone's back button after
logout shows nothing). A NotFound (404) raised by a selector or a service, for another
distributor's or another tenant's object exactly as for a missing one, renders the portal's
not-found page with status 404.
"""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from rest_framework.exceptions import NotFound as DRFNotFound

from tenants.context import tenant_context

from ..session import session_distributor


def tenant_by_slug(slug: str):
    """The active tenant with this slug, or None."""
    from tenants.models import Tenant

    return Tenant.objects.filter(slug=slug, is_active=True).first()


def not_found(request, tenant=None):
    """The portal's 404 page (the tenant's look when there is one)."""
    return render(request, "portal/not_found.html", {"tenant": tenant}, status=404)


def safe_next(request, tenant, default: str) -> str:
    """The ?next= (or posted next) of a login: a path of this tenant's portal on this host, else `default`."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    prefix = reverse("portal:home", args=[tenant.slug])
    if candidate.startswith(prefix) and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return candidate
    return default


def _in_tenant(tenant, request, view, args, kwargs):
    with tenant_context(tenant), timezone.override(ZoneInfo(tenant.timezone)):
        try:
            return view(request, *args, **kwargs)
        except (DRFNotFound, Http404):
            return not_found(request, tenant)


def portal_page(view):
    """A page for the logged-in distributor of the URL's tenant (see the module docstring)."""

    @never_cache
    @wraps(view)
    def wrapper(request, slug, *args, **kwargs):
        tenant = tenant_by_slug(slug)
        if tenant is None:
            return not_found(request)
        distributor = session_distributor(request, tenant)
        if distributor is None:
            login = reverse("portal:login", args=[tenant.slug])
            return HttpResponseRedirect(f"{login}?{urlencode({'next': request.get_full_path()})}")
        request.tenant, request.distributor = distributor.tenant, distributor
        return _in_tenant(distributor.tenant, request, view, args, kwargs)

    return wrapper


def public_page(view):
    """A page anyone may open (login, join, password reset), in the URL's tenant; `request.distributor`
    is the distributor logged in here, or None."""

    @never_cache
    @wraps(view)
    def wrapper(request, slug, *args, **kwargs):
        tenant = tenant_by_slug(slug)
        if tenant is None:
            return not_found(request)
        request.tenant, request.distributor = tenant, session_distributor(request, tenant)
        return _in_tenant(tenant, request, view, args, kwargs)

    return wrapper


def page(request, template: str, context: dict | None = None, *, status: int = 200, tab: str = ""):
    """Render a portal page: `tenant`, `me` (the distributor, or None), `currency` and the bottom
    bar's current `tab` ("home", "team", "promote", "me") join the context."""
    tenant = request.tenant
    base = {"tenant": tenant, "me": getattr(request, "distributor", None), "currency": tenant.currency, "tab": tab}
    return render(request, template, {**base, **(context or {})}, status=status)


def url(name: str, request, *args) -> str:
    """reverse("portal:<name>") in the request's tenant."""
    return reverse(f"portal:{name}", args=[request.tenant.slug, *args])
