"""Field settings shared by every money and rate column (CONVENTIONS: money)."""
from django.conf import settings

MONEY_KW = {"max_digits": settings.MONEY_MAX_DIGITS, "decimal_places": settings.MONEY_DECIMAL_PLACES}
RATE_KW = {"max_digits": 9, "decimal_places": settings.RATE_DECIMAL_PLACES}
FX_KW = {"max_digits": 18, "decimal_places": 8}
