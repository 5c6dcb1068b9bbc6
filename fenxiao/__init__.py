"""fenxiao: multi-tenant three-tier distribution (三级分销) backend."""
from .celery import app as celery_app

__all__ = ["celery_app"]
