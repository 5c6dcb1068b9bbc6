"""Django's CommonMiddleware, without the slash-appending redirect under /api/: a POST to
/api/v1/orders (no slash) answers a JSON 404 instead of a 301 that clients follow without the body."""
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware


class CommonMiddleware(DjangoCommonMiddleware):
    def should_redirect_with_slash(self, request):
        if request.path_info.startswith("/api/"):
            return False
        return super().should_redirect_with_slash(request)
