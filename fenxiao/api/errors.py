"""JSON error pages in the contract's shape for URLs that match no view."""
from django.http import JsonResponse
from django.utils.translation import gettext


def not_found(request, exception=None):
    if not request.path.startswith("/api/"):
        from django.views.defaults import page_not_found

        return page_not_found(request, exception)
    return JsonResponse({"type": "client_error", "errors": [{"code": "not_found", "detail": gettext("Not found."), "attr": None}]}, status=404)


def server_error(request):
    if not request.path.startswith("/api/"):
        from django.views.defaults import server_error as html_server_error

        return html_server_error(request)
    return JsonResponse({"type": "server_error", "errors": [{"code": "error", "detail": gettext("A server error occurred."), "attr": None}]}, status=500)
