"""Request plumbing for the console and the API.

CommonMiddleware: Django's, without the slash-appending redirect under /api/: a POST to
/api/v1/orders (no slash) answers a JSON 404 instead of a 301 that clients follow without the body.

LocaleMiddleware: Django's, choosing the language of the console and of the API's error details
(settings, "Languages"): the user's choice (the language cookie the chooser sets), else the
browser's Accept-Language, else zh-hans (LANGUAGE_CODE) for the console and English
(API_LANGUAGE_CODE) for an API client that asks for no language fenxiao speaks.
"""
from django.conf import settings
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

API_PREFIX = "/api/"


class CommonMiddleware(DjangoCommonMiddleware):
    def should_redirect_with_slash(self, request):
        if request.path_info.startswith(API_PREFIX):
            return False
        return super().should_redirect_with_slash(request)


def requested_language(request) -> str | None:
    """The language of LANGUAGES that `request` asks for, or None when it names none we speak:
    its language cookie (the chooser's), else the first supported entry of its Accept-Language in
    the order of preference ("zh-CN,zh;q=0.9,en;q=0.8" -> "zh-hans"; "fr" -> None; "*" ends the
    search). The same order as Django's own resolution, without its fallback to LANGUAGE_CODE."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen:
        try:
            return translation.get_supported_language_variant(chosen)
        except LookupError:
            pass
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return None


class LocaleMiddleware(DjangoLocaleMiddleware):
    """Django's LocaleMiddleware (the console: cookie, Accept-Language, then LANGUAGE_CODE), with
    API_LANGUAGE_CODE instead of LANGUAGE_CODE as the fallback under /api/. The response says
    `Content-Language` and `Vary: Accept-Language` as Django's does."""

    def process_request(self, request):
        if not request.path_info.startswith(API_PREFIX):
            return super().process_request(request)
        translation.activate(requested_language(request) or settings.API_LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()
        return None
