"""The contract's error shape for everything, including bodies over the size limit (413)."""
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_standardized_errors.handler import exception_handler as standardized_handler
from rest_framework import exceptions, status


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "payload_too_large"


def exception_handler(exc, context):
    if isinstance(exc, exceptions.AuthenticationFailed) and isinstance(exc.detail, dict):
        # simplejwt's errors carry a nested dict (detail, code, messages); give the contract's shape
        detail = exc.detail.get("detail", "Invalid or expired token.")
        code = str(exc.detail.get("code", "authentication_failed"))
        exc = exceptions.AuthenticationFailed(str(detail), code=code)
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(f"Request body exceeds the {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} byte limit.")
    return standardized_handler(exc, context)
