"""Opaque public ids: what the API shows as `id` and takes in URLs for objects a tenant creates
(withdrawals, plans, backtests, contests, tier bonus schemes, targets), instead of the integer
primary key.

The integer keys are shared by every tenant (one sequence per table), so a tenant's first
withdrawal numbered 4 told it that the other tenants had made three. A public id is a short type
prefix, an underscore and 16 random base32 characters (RFC 4648 alphabet, lower case: a-z and
2-7), 80 bits from `secrets`: `wd_3kq7x2m5p4rtz6ab`. It says nothing about how many rows exist, is
unique per tenant (a constraint leading with `tenant`, which is also the index the lookups use)
and never changes. The integer key stays the internal key (foreign keys, the admin's URLs).
"""
from __future__ import annotations

import base64
import re
import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

PUBLIC_ID_RE = re.compile(r"^[a-z]{2,8}_[a-z2-7]{16}$")


def new_public_id(prefix: str) -> str:
    """A fresh public id with `prefix` ("wd" -> "wd_" + 16 random base32 characters)."""
    return f"{prefix}_{base64.b32encode(secrets.token_bytes(10)).decode('ascii').lower()}"


class _NewId:
    """The field's default: a callable drawing a new id with the field's prefix."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def __call__(self) -> str:
        return new_public_id(self.prefix)


class PublicIdField(models.CharField):
    """A CharField holding a public id drawn when the row is built (`prefix` names the type:
    "wd", "plan", ...). Not editable; the model declares UniqueConstraint(tenant, <field>)."""

    description = "An opaque public id"

    def __init__(self, *args, prefix: str, **kwargs):
        if not re.fullmatch(r"[a-z]{2,8}", prefix):
            raise ValueError(f"public id prefix {prefix!r}: 2 to 8 lower-case letters")
        self.prefix = prefix
        kwargs.setdefault("max_length", 32)
        kwargs["default"] = _NewId(prefix)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("verbose_name", _("public id"))
        kwargs.setdefault("help_text", _("The id the API and the payout file use (a prefix and 16 random characters)."))
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for key in ("default", "editable", "help_text", "verbose_name"):
            kwargs.pop(key, None)
        if kwargs.get("max_length") == 32:
            kwargs.pop("max_length")
        kwargs["prefix"] = self.prefix
        return name, path, args, kwargs


def backfill(model, field: str = "public_id", *, batch: int = 1000):
    """For data migrations: give every row of `model` (a migration state model) its own new public
    id (AddField filled every existing row with the same one). Returns nothing."""
    prefix = model._meta.get_field(field).prefix
    pks = list(model._base_manager.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), batch):
        rows = [model(pk=pk, **{field: new_public_id(prefix)}) for pk in pks[start:start + batch]]
        model._base_manager.bulk_update(rows, [field])


def backfill_history(model, historical, field: str = "public_id", *, batch: int = 1000):
    """For data migrations: every historical row (simple_history) of `model` gets the public id of
    the row it records (a new one when that row is gone)."""
    prefix = model._meta.get_field(field).prefix
    live = dict(model._base_manager.values_list("pk", field))
    rows = list(historical._base_manager.order_by("pk").values_list("pk", "id"))
    for start in range(0, len(rows), batch):
        chunk = [historical(pk=h_pk, **{field: live.get(obj_id) or new_public_id(prefix)})
                 for h_pk, obj_id in rows[start:start + batch]]
        historical._base_manager.bulk_update(chunk, [field])

