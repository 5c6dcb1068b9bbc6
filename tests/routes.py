"""Every route of the v1 API (for the generic tests that walk them all): its path template, name,
view class and path parameters, and a client able to call it."""
from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")

#: A value of each path parameter's shape (nothing has it: every object lookup answers 404).
SAMPLE = {"int": "999999", "str": "NOPE", "public_id": "zz_aaaaaaaaaaaaaaaa"}

#: Routes that are not the API's own (the schema and its viewers).
NOT_API = {"schema", "docs", "redoc"}


@dataclass
class Route:
    template: str   # "admin/contests/<str:public_id>/"
    name: str
    view: type      # the view class

    def path(self, **values) -> str:
        """The URL with each parameter given in `values`, else a sample value of its shape."""
        def fill(m):
            converter, name = m.group(1) or "str", m.group(2)
            return str(values.get(name, SAMPLE.get(name) or SAMPLE.get(converter, "NOPE")))
        return "/api/v1/" + _PARAM.sub(fill, self.template)

    @property
    def kind(self) -> str:
        """Who calls it: "partner", "portal" or "staff" (from the view's authentication)."""
        from tenants.authentication import ApiKeyAuthentication, DistributorJWTAuthentication, StaffJWTAuthentication

        classes = set(getattr(self.view, "authentication_classes", []))
        if ApiKeyAuthentication in classes:
            return "partner"
        if DistributorJWTAuthentication in classes:
            return "portal"
        if StaffJWTAuthentication in classes:
            return "staff"
        return "public"


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def api_routes() -> list[Route]:
    """Every route under /api/v1/ served by a view class, in URL order."""
    out = []
    for template, p in _walk(get_resolver().url_patterns):
        if not template.startswith("api/v1/"):
            continue
        view = getattr(p.callback, "cls", None) or getattr(p.callback, "view_class", None)
        if view is None or p.name in NOT_API:
            continue
        out.append(Route(template[len("api/v1/"):], p.name, view))
    return out
