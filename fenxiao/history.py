"""Who changed what, for django-simple-history (the audit trail)."""


def history_user(instance=None, request=None, **kwargs):
    """The Django user behind a change (admin session or staff token), else None: partner API keys
    and distributors are not Django users; their changes keep the request's actor in the history's
    change reason where the service sets one."""
    from django.contrib.auth.models import AbstractBaseUser

    user = getattr(request, "user", None) if request is not None else None
    return user if isinstance(user, AbstractBaseUser) and user.is_authenticated else None
