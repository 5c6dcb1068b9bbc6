"""The contract's error shape for everything, including bodies over the size limit (413)."""
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext, gettext_lazy as _
from drf_standardized_errors.handler import exception_handler as standardized_handler
from rest_framework import exceptions, status


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("Request body too large.")
    default_code = "payload_too_large"


def exception_handler(exc, context):
    if isinstance(exc, exceptions.AuthenticationFailed) and isinstance(exc.detail, dict):
        # simplejwt's errors carry a nested dict (detail, code, messages); give the contract's shape
        detail = exc.detail.get("detail", gettext("Invalid or expired token."))
        code = str(exc.detail.get("code", "authentication_failed"))
        exc = exceptions.AuthenticationFailed(str(detail), code=code)
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(gettext("Request body exceeds the %(limit)s byte limit.") % {
            "limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    return standardized_handler(exc, context)
