"""Work sent to the workers once the transaction commits, asked for by name (CONVENTIONS: side
effects go through `transaction.on_commit`, Celery tasks are thin and call one service).

A service cannot import the task module of the work it starts: a task module imports the services
its tasks call (commissions.tasks runs commissions.services; the order intake in orders.services
starts the accrual; commissions.backtest starts a backtest run), so services -> tasks would close
a circle. Instead the app that owns the work registers, in its AppConfig.ready, the function that
sends it, and a service asks for it by name:

    oncommit.register("commissions.accrue", send)                              # commissions/apps.py
    oncommit.enqueue("commissions.accrue", order_ids=[1, 2], tenant_id=7)      # orders.services

`enqueue` runs the registered function after the current transaction commits (at once outside a
transaction), exactly as `transaction.on_commit(lambda: send(...))` did in the service. Work that
nobody registered raises LookupError when it is asked for: a missing registration is a bug to
see, never work silently lost. The keyword arguments are ids and the tenant's id (JSON-able).

Domain rules: none (infrastructure; issue 12, item 7: layers one way).
"""
from __future__ import annotations

from typing import Callable

from django.db import transaction

_senders: dict[str, Callable[..., object]] = {}


def register(name: str, send: Callable[..., object]) -> None:
    """Make `send(**kwargs)` the way to start the work `name` ("<app>.<work>"); registering a
    name again replaces its function (AppConfig.ready may run more than once in tests)."""
    _senders[name] = send


def enqueue(name: str, **kwargs) -> None:
    """Start the work `name` with `kwargs` once the current transaction commits (at once when
    there is none). LookupError (a programming error) when no app registered `name`."""
    try:
        send = _senders[name]
    except KeyError:
        raise LookupError(f"no app registered the on-commit work {name!r} (fenxiao.oncommit.register in its "
                          "AppConfig.ready)") from None
    transaction.on_commit(lambda: send(**kwargs))


def registered() -> list[str]:
    """The names registered so far (for checks and tests)."""
    return sorted(_senders)
