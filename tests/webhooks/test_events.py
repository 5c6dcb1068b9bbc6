"""The subscribable event types are exactly the types the code writes to the outbox (domain rules
section 10), so no event can be written that no endpoint could subscribe to."""
import re
from pathlib import Path

from webhooks.events import EVENT_TYPES

REPO = Path(__file__).resolve().parents[2]
APPS = ["tenants", "distributors", "orders", "commissions", "ledger", "incentives"]
# `type="x.y"` in an OutboxEvent(...) instance or an event_record(...) call
WRITTEN = re.compile(r'\btype="([a-z_]+\.[a-z_]+)"')


def test_every_written_type_is_subscribable_and_every_subscribable_type_is_written():
    written = set()
    for app in APPS:
        for path in (REPO / app).rglob("*.py"):
            if "migrations" not in path.parts:
                written |= set(WRITTEN.findall(path.read_text()))
    assert written == set(EVENT_TYPES)
    assert len(EVENT_TYPES) == 7


def test_the_contract_and_the_rule_book_name_them():
    spec = (REPO.parent / "shared" / "spec" / "domain.md")
    if spec.exists():
        section = spec.read_text().split("## 10.")[1].split("## 11.")[0]
        assert all(f"`{t}`" in section for t in EVENT_TYPES)
