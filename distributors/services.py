"""Writes on distributors, the tree and customers (domain rules section 2).

Every function takes keyword-only arguments, runs inside `transaction.atomic`, and runs with the
tenant in context (`tenants.context.tenant_context`). Tree mutations (binding a parent, moves) lock
the tenant row first, so concurrent moves in one tenant are serialised and the cycle check sees
the committed tree.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

from fenxiao.exceptions import Conflict, invalid
from tenants.models import Tenant

from .models import Customer, Distributor, DistributorMove, Grade, GradeChange, invite_code_generate


def _lock_tenant(tenant: Tenant) -> None:
    """Serialise tree mutations of one tenant (row lock on PostgreSQL; SQLite serialises writers)."""
    Tenant.objects.select_for_update().filter(pk=tenant.pk).values_list("pk", flat=True).get()


def _place(distributor: Distributor, parent: Distributor | None) -> None:
    """Set the tree columns of `distributor` for `parent` (not saved)."""
    if parent is None:
        distributor.parent = None
        distributor.ancestor_2_id = None
        distributor.ancestor_3_id = None
        distributor.depth = 0
        distributor.ancestor_path = "/"
    else:
        distributor.parent = parent
        distributor.ancestor_2_id = parent.parent_id
        distributor.ancestor_3_id = parent.ancestor_2_id
        distributor.depth = parent.depth + 1
        distributor.ancestor_path = f"{parent.ancestor_path}{parent.pk}/"


def _shift_downline_counts(*, uplines: tuple[int | None, int | None, int | None], n1: int, n2: int, sign: int) -> None:
    """Add (sign=+1) or remove (-1) a distributor with n1 level-1 and n2 level-2 downlines to/from
    the downline counts of its `uplines` (parent, ancestor_2, ancestor_3). Domain rules section 2."""
    parent, a2, a3 = uplines
    if parent:
        Distributor.objects.filter(pk=parent).update(
            downline_count_1=F("downline_count_1") + sign, downline_count_2=F("downline_count_2") + sign * n1,
            downline_count_3=F("downline_count_3") + sign * n2)
    if a2:
        Distributor.objects.filter(pk=a2).update(
            downline_count_2=F("downline_count_2") + sign, downline_count_3=F("downline_count_3") + sign * n1)
    if a3:
        Distributor.objects.filter(pk=a3).update(downline_count_3=F("downline_count_3") + sign)


def _uplines(d: Distributor) -> tuple[int | None, int | None, int | None]:
    return d.parent_id, d.ancestor_2_id, d.ancestor_3_id


def distributor_by_invite_code(*, invite_code: str, attr: str = "invite_code") -> Distributor:
    """The distributor owning `invite_code` (case-insensitive) in the current tenant; 400 if none."""
    found = Distributor.objects.filter(invite_code=invite_code.strip().upper()).first()
    if found is None:
        raise invalid(attr, gettext("No distributor has this invite code."), "unknown_invite_code")
    return found


def distributor_by_external_id(*, external_id: str, attr: str) -> Distributor:
    """The distributor with `external_id` in the current tenant; 400 on `attr` if none."""
    # unique per tenant; one raw statement (compiling the queryset was a visible share of a single
    # order POST); the tenant from the context, as the scoped manager would (fails closed)

    from fenxiao.bulk import from_row, query, select_sql
    from tenants.context import get_current_tenant_id, is_all_tenants

    if is_all_tenants():  # the explicit cross-tenant scope: the scoped queryset
        return _by_external_id_orm(external_id=external_id, attr=attr)
    rows = query(f"SELECT {select_sql(Distributor, '')} FROM {Distributor._meta.db_table}"
                 " WHERE tenant_id = %s AND external_id = %s", [get_current_tenant_id(), external_id])
    found = from_row(Distributor, rows[0]) if rows else None
    if found is None:
        raise invalid(attr, gettext("Unknown distributor %(id)r.") % {"id": external_id}, "unknown_distributor")
    return found


def _by_external_id_orm(*, external_id: str, attr: str) -> Distributor:
    found = Distributor.objects.filter(external_id=external_id).order_by().first()
    if found is None:
        raise invalid(attr, gettext("Unknown distributor %(id)r.") % {"id": external_id}, "unknown_distributor")
    return found


def grade_by_code(*, code: str, attr: str = "grade") -> Grade:
    found = Grade.objects.filter(code=code).first()
    if found is None:
        raise invalid(attr, gettext("Unknown grade %(code)r.") % {"code": code}, "unknown_grade")
    return found


@dataclass(frozen=True)
class DistributorInput:
    """A registration as posted: the upline by `invite_code` or by `parent_external_id`."""

    external_id: str
    name: str
    phone: str = ""
    invite_code: str | None = None
    parent_external_id: str | None = None
    grade: str | None = None
    password: str | None = None
    joined_at: datetime | None = None


def _resolve_upline(data: DistributorInput) -> Distributor | None:
    if data.invite_code:
        return distributor_by_invite_code(invite_code=data.invite_code)
    if data.parent_external_id:
        return distributor_by_external_id(external_id=data.parent_external_id, attr="parent_external_id")
    return None


@transaction.atomic
def distributor_register(*, tenant: Tenant, data: DistributorInput) -> tuple[Distributor, bool]:
    """Register a distributor, or answer a repeated registration (domain rules section 2).

    Returns (distributor, created). A new distributor is bound to the upline given by invite code
    or parent external id (every bind mode binds at registration); its status is `active` under
    `enrollment=open` and `pending` under `application`. Posting the same external_id again:
    identical content returns the existing one; a different upline binds it when the tenant's
    `bind_mode` allows (`when_unbound`: only while it has none; `always`: rebinds, a logged move),
    else 409 with code `bind_refused` saying why (`on_register`: registered already, as a root or
    not; `when_unbound`: bound already); any other difference raises Conflict (409, `conflict`).
    Unknown invite code / parent / grade: 400.
    Safe when the same registration arrives twice at once (unique constraint + re-read).
    """
    existing = Distributor.objects.filter(external_id=data.external_id).first()
    if existing is not None:
        return _register_again(tenant=tenant, existing=existing, data=data), False
    upline = _resolve_upline(data)
    grade = grade_by_code(code=data.grade) if data.grade else None
    _lock_tenant(tenant)
    distributor = Distributor(
        tenant=tenant,
        external_id=data.external_id,
        name=data.name,
        phone=data.phone,
        grade=grade,
        status=Distributor.Status.PENDING if tenant.enrollment == Tenant.Enrollment.APPLICATION else Distributor.Status.ACTIVE,
        username=data.external_id,
        joined_at=data.joined_at or timezone.now(),
    )
    if data.password:
        distributor.set_password(data.password)
    if upline is not None:
        upline.refresh_from_db(fields=["parent", "ancestor_2", "ancestor_3", "depth", "ancestor_path"])
    _place(distributor, upline)
    for _ in range(5):
        distributor.invite_code = invite_code_generate()
        try:
            with transaction.atomic():
                distributor.save()
            _shift_downline_counts(uplines=_uplines(distributor), n1=0, n2=0, sign=1)
            if grade is not None:  # the grade history starts with the grade it registered with
                GradeChange.objects.create(tenant=tenant, distributor=distributor, to_grade=grade,
                                           kind=GradeChange.Kind.REGISTRATION, created_at=distributor.joined_at)
            return distributor, True
        except IntegrityError:
            existing = Distributor.objects.filter(external_id=data.external_id).first()
            if existing is not None:
                return _register_again(tenant=tenant, existing=existing, data=data), False
            distributor.pk = None  # invite-code collision: draw again
    raise Conflict(gettext("Could not allocate a unique invite code; retry."))


def _register_again(*, tenant: Tenant, existing: Distributor, data: DistributorInput) -> Distributor:
    differences = []
    if data.name != existing.name:
        differences.append("name")
    if data.phone and data.phone != existing.phone:
        differences.append("phone")
    if data.grade is not None and data.grade != (existing.grade.code if existing.grade_id else None):
        differences.append("grade")
    if differences:
        raise Conflict(gettext("Distributor %(id)r exists with different %(fields)s.") % {
            "id": existing.external_id, "fields": ", ".join(differences)})
    upline = _resolve_upline(data)
    if upline is None or upline.pk == existing.parent_id:
        return existing
    mode = tenant.bind_mode
    if mode == Tenant.BindMode.ALWAYS or (mode == Tenant.BindMode.WHEN_UNBOUND and existing.parent_id is None):
        return distributor_move(distributor=existing, new_parent=upline, reason=f"bind ({mode})", actor="registration")
    if mode == Tenant.BindMode.ON_REGISTER:
        if existing.parent_id is None:
            message = gettext("bind_mode 'on_register' binds an upline only at registration; distributor %(id)r is "
                              "registered already, as a root (no upline).")
        else:
            message = gettext("bind_mode 'on_register' binds an upline only at registration; distributor %(id)r is "
                              "registered already, with an upline.")
        raise Conflict(message % {"id": existing.external_id}, code="bind_refused")
    raise Conflict(gettext("bind_mode %(mode)r binds an upline only while a distributor has none; distributor %(id)r "
                           "is already bound to one.") % {"mode": mode, "id": existing.external_id}, code="bind_refused")


@transaction.atomic
def distributor_move(
    *, distributor: Distributor, new_parent: Distributor | None, reason: str = "", actor: str = ""
) -> Distributor:
    """Re-parent `distributor` (and its whole subtree) under `new_parent` (None: make it a root).

    Refuses with 400 (code `cycle`) when `new_parent` is the distributor itself or any of its
    descendants, at any depth. Updates depth and ancestor_path of every descendant and the
    ancestor_2/ancestor_3 columns of the two levels below, in a constant number of statements.
    Logs the move (old and new upline, reason, actor). Orders recorded earlier keep their
    commissions (their chain is a snapshot). Domain rules section 2.
    """
    tenant = distributor.tenant
    _lock_tenant(tenant)
    me = Distributor.objects.select_for_update().get(pk=distributor.pk)
    parent = None
    if new_parent is not None:
        parent = Distributor.objects.get(pk=new_parent.pk)
        if parent.pk == me.pk or f"/{me.pk}/" in parent.ancestor_path:
            raise invalid("parent_external_id", gettext("This move would make the distributor its own ancestor."), "cycle")
    if me.parent_id == (parent.pk if parent else None):
        return me
    old_parent_id = me.parent_id
    old_prefix = me.subtree_path
    old_depth = me.depth
    _shift_downline_counts(uplines=_uplines(me), n1=me.downline_count_1, n2=me.downline_count_2, sign=-1)
    _place(me, parent)
    _shift_downline_counts(uplines=_uplines(me), n1=me.downline_count_1, n2=me.downline_count_2, sign=1)
    me._change_reason = f"move: {reason}"[:100]
    me.save(update_fields=["parent", "ancestor_2", "ancestor_3", "depth", "ancestor_path"])
    new_prefix = me.subtree_path
    descendants = Distributor.objects.filter(ancestor_path__startswith=old_prefix)
    descendants.update(
        ancestor_path=Concat(Value(new_prefix), Substr("ancestor_path", len(old_prefix) + 1)),
        depth=F("depth") + (me.depth - old_depth),
    )
    # Children: ancestor_2 = my parent, ancestor_3 = my grandparent; grandchildren: ancestor_3 = my parent.
    Distributor.objects.filter(parent=me).update(ancestor_2_id=me.parent_id, ancestor_3_id=me.ancestor_2_id)
    Distributor.objects.filter(ancestor_2=me).update(ancestor_3_id=me.parent_id)
    DistributorMove.objects.create(
        tenant=tenant, distributor=me, old_parent_id=old_parent_id, new_parent=parent, reason=reason, actor=actor
    )
    return me


@transaction.atomic
def distributor_update(
    *, distributor: Distributor, status: str | None = None, grade: Grade | None | str = "unchanged",
    move_to: Distributor | None | str = "unchanged", reason: str = "", actor: str = "",
) -> Distributor:
    """Change status, grade, and/or upline (a move) of one distributor; 400 on a cycle. A status
    change follows the state machine of `distributor_status_step` (409 otherwise: a disabled
    distributor stays disabled)."""
    if move_to != "unchanged":
        distributor = distributor_move(distributor=distributor, new_parent=move_to, reason=reason, actor=actor)
    fields = []
    if status is not None and status != distributor.status:
        if status not in Distributor.Status.values:
            raise invalid("status", gettext("Unknown status %(status)r.") % {"status": status}, "invalid_choice")
        if (distributor.status, status) not in STATUS_TRANSITIONS:
            from fenxiao.exceptions import InvalidState, with_article

            raise InvalidState(gettext(
                "Cannot make %(state)s distributor %(status)s (pending -> active or disabled; active <-> frozen; "
                "any -> disabled, which is final).") % {
                    "state": with_article(distributor.status), "status": str(Distributor.Status(status).label).lower()})
        distributor.status = status
        distributor._change_reason = f"status: {reason}".strip(": ")[:100]
        fields.append("status")
    if fields:
        distributor.save(update_fields=fields)
    if grade != "unchanged" and (grade.pk if grade else None) != distributor.grade_id:
        distributor = distributor_grade_set(distributor=distributor, grade=grade, kind=GradeChange.Kind.MANUAL,
                                            reason=reason, actor=actor)
    return distributor


@transaction.atomic
def distributor_grade_set(*, distributor: Distributor, grade: Grade | None, kind: str, reason: str = "",
                          actor: str = "", at=None) -> Distributor:
    """Give a distributor another grade, kept in its grade history (GradeChange: when, from, to,
    kind, why, who) and its audit trail. Orders recorded from now on use the new grade; earlier
    ones keep theirs (domain rules sections 3 and 8). A move to a higher rank also queues the
    `distributor.upgraded` event. Returns the distributor (unchanged when it has that grade)."""
    if (grade.pk if grade else None) == distributor.grade_id:
        return distributor
    from ledger.postings import event_record

    old = distributor.grade
    distributor.grade = grade
    distributor._change_reason = f"grade: {reason}".strip(": ")[:100]
    distributor.save(update_fields=["grade"])
    GradeChange.objects.create(tenant_id=distributor.tenant_id, distributor=distributor, from_grade=old, to_grade=grade,
                               kind=kind, reason=reason[:500], actor=actor[:150], created_at=at or timezone.now())
    if grade is not None and (old is None or grade.rank > old.rank):
        event_record(tenant=distributor.tenant, type="distributor.upgraded", payload={
            "distributor_external_id": distributor.external_id, "from_grade": old.code if old else None,
            "to_grade": grade.code, "kind": kind, "reason": reason})
    return distributor


@transaction.atomic
def distributor_set_password(*, distributor: Distributor, password: str) -> None:
    """Set the portal password (stored hashed with Django's hasher)."""
    distributor.set_password(password)
    distributor.save(update_fields=["password"])


def distributor_authenticate(*, tenant_slug: str, username: str, password: str) -> Distributor | None:
    """The distributor of the active tenant `tenant_slug` with this portal `username` and
    `password`, or None for any wrong or unusable credential (unknown tenant or username, no
    password set, wrong password, disabled), without saying which.

    Every outcome costs exactly one run of the password hasher: an unknown tenant or username or a
    distributor without a password hashes the given password as Django's ModelBackend does for an
    unknown user, so answer times do not reveal which usernames exist (domain rules section 1).
    A hash made with weaker parameters than the current hasher's is upgraded on a right password.
    """
    from django.contrib.auth.hashers import check_password, make_password

    from tenants.context import tenant_context

    tenant = Tenant.objects.filter(slug=tenant_slug, is_active=True).first()
    distributor = None
    if tenant is not None:
        distributor = Distributor.unscoped.filter(tenant=tenant, username=username).first()
    if distributor is None or not distributor.password:
        make_password(password)  # the same work as checking a password, for nobody
        return None

    def upgrade(raw: str) -> None:
        with tenant_context(tenant):
            distributor_set_password(distributor=distributor, password=raw)

    if not check_password(password, distributor.password, setter=upgrade):
        return None
    return None if distributor.status == Distributor.Status.DISABLED else distributor


@transaction.atomic
def distributor_set_password_where_unset(*, password: str) -> int:
    """Give every distributor of the current tenant without a password this one (the demo's
    shared password): hashed once, set in one UPDATE. Returns how many changed."""
    from django.contrib.auth.hashers import make_password

    return Distributor.objects.filter(password="").update(password=make_password(password))


@transaction.atomic
def customer_bind(
    *, tenant: Tenant, external_id: str, referrer: Distributor
) -> tuple[Customer, bool, bool]:
    """Register a customer bound to `referrer`, or rebind per the tenant's `bind_mode`.

    Returns (customer, created, changed). New customers are always bound. An existing one is
    rebound only when it has no referrer (`when_unbound`, `always`) or under `always`; under
    `on_register` an existing binding never changes. Safe under concurrent identical posts.
    Domain rules section 2.
    """
    now = timezone.now()
    customer = Customer.objects.select_for_update().filter(external_id=external_id).first()
    if customer is None:
        try:
            with transaction.atomic():
                return Customer.objects.create(tenant=tenant, external_id=external_id, referrer=referrer, bound_at=now), True, False
        except IntegrityError:
            customer = Customer.objects.select_for_update().get(external_id=external_id)
    if customer.referrer_id == referrer.pk:
        return customer, False, False
    mode = tenant.bind_mode
    if mode == Tenant.BindMode.ALWAYS or (mode == Tenant.BindMode.WHEN_UNBOUND and customer.referrer_id is None):
        customer.referrer = referrer
        customer.bound_at = now
        customer.save(update_fields=["referrer", "bound_at"])
        return customer, False, True
    return customer, False, False


STATUS_STEPS = {
    # action: (allowed from, to)
    "approve": ((Distributor.Status.PENDING,), Distributor.Status.ACTIVE),
    "reject": ((Distributor.Status.PENDING,), Distributor.Status.DISABLED),
    "freeze": ((Distributor.Status.ACTIVE,), Distributor.Status.FROZEN),
    "unfreeze": ((Distributor.Status.FROZEN,), Distributor.Status.ACTIVE),
    "disable": ((Distributor.Status.PENDING, Distributor.Status.ACTIVE, Distributor.Status.FROZEN), Distributor.Status.DISABLED),
}


#: A step refused by the distributor's state, by action.
STATUS_STEP_REFUSALS = {
    "approve": _("Cannot approve %(state)s distributor."),
    "reject": _("Cannot reject %(state)s distributor."),
    "freeze": _("Cannot freeze %(state)s distributor."),
    "unfreeze": _("Cannot unfreeze %(state)s distributor."),
    "disable": _("Cannot disable %(state)s distributor."),
}

#: (from, to) of every status change the state machine allows (STATUS_STEPS' actions).
STATUS_TRANSITIONS = frozenset((source, to) for allowed, to in STATUS_STEPS.values() for source in allowed)


@transaction.atomic
def distributor_status_step(*, distributor: Distributor, action: str, reason: str = "", actor: str = "") -> Distributor:
    """Staff decisions on a distributor (domain rules section 2): approve / reject an application
    (enrollment=application), freeze / unfreeze, disable. Compare-and-set on the status: 409 when
    the distributor is not in a state the action applies to. A frozen or disabled distributor
    earns nothing on orders recorded while it is so (skip / compress) and cannot withdraw."""
    from fenxiao.exceptions import InvalidState, with_article

    allowed, to = STATUS_STEPS[action]
    changed = Distributor.objects.filter(pk=distributor.pk, status__in=allowed).update(status=to)
    fresh = Distributor.objects.select_related("grade", "parent").get(pk=distributor.pk)
    if not changed:
        raise InvalidState(STATUS_STEP_REFUSALS[action] % {"state": with_article(fresh.status)})
    fresh._change_reason = f"{action}: {reason}".strip(": ")[:100]
    fresh.save(update_fields=["status"])  # the audit trail (history) records who and why
    return fresh


@transaction.atomic
def distributor_delete(*, distributor: Distributor) -> None:
    """Delete a distributor that has no downlines, no customers, no commission and no money;
    otherwise 409 (disable it instead). Domain rules section 2."""
    from commissions.models import CommissionRecord
    from fenxiao.exceptions import InvalidState
    from ledger.models import LedgerEntry

    if Distributor.objects.filter(parent=distributor).exists():
        raise InvalidState(gettext("This distributor has downlines; disable it instead."))
    if CommissionRecord.objects.filter(beneficiary=distributor).exists() or LedgerEntry.objects.filter(distributor=distributor).exists():
        raise InvalidState(gettext("This distributor has commission or money; disable it instead."))
    if Customer.objects.filter(referrer=distributor).exists():
        raise InvalidState(gettext("Customers are bound to this distributor; disable it instead."))
    DistributorMove.objects.filter(distributor=distributor).delete()
    _lock_tenant(distributor.tenant)
    fresh = Distributor.objects.get(pk=distributor.pk)
    _shift_downline_counts(uplines=_uplines(fresh), n1=0, n2=0, sign=-1)
    distributor.delete()
