from django.contrib.admin.apps import AdminConfig


class FenxiaoAdminConfig(AdminConfig):
    default_site = "fenxiao.admin_site.FenxiaoAdminSite"
