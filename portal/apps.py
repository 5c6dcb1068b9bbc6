from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The distributors' mobile web portal (分销中心): server-rendered pages under /portal/<tenant>/."""

    name = "portal"
    verbose_name = _("Distributor portal")
