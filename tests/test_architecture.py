"""The import contracts (pyproject.toml [tool.importlinter], run by `make check`) and what keeps them
honest: the `acyclic_modules` contract type finds circles (function-local imports included), the
contracts' module lists name every module of the apps, every local app is analysed, and the work
services start on commit is registered (fenxiao.oncommit). Issue 12, item 7."""
import pkgutil
import tomllib
from importlib import import_module
from pathlib import Path

import grimp
import pytest

from tests.architecture import AcyclicModulesContract, cycles

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
APPS = ["tenants", "distributors", "orders", "commissions", "ledger", "incentives", "risk", "relations"]
#: Pages for people built on the apps (no models, services or selectors of their own).
UI = ["portal"]


def contract(contract_id: str) -> dict:
    (found,) = [c for c in CONFIG["contracts"] if c["id"] == contract_id]
    return found


def children(package: str) -> set[str]:
    """The modules and packages directly inside `package` (as "package.child")."""
    path = import_module(package).__path__
    return {f"{package}.{m.name}" for m in pkgutil.iter_modules(path)}


def test_cycles_finds_each_circle_once():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert cycles({"a": {"b"}, "b": {"a", "c"}, "c": {"d"}, "d": {"c"}, "e": {"a"}}) == [["a", "b"], ["c", "d"]]
    assert cycles({"x": {"y"}, "y": {"z"}, "z": {"x"}, "w": {"w"}}) == [["x", "y", "z"]]  # a self-import is no circle
    deep = {f"m{i}": {f"m{i + 1}"} for i in range(5000)} | {"m5000": {"m0"}}          # no recursion limit
    assert cycles(deep) == [sorted(deep)]


def _graph(imports):
    graph = grimp.ImportGraph()
    for importer, imported, line in imports:
        for m in (importer, imported):
            graph.add_module(m)
        graph.add_import(importer=importer, imported=imported, line_number=line, line_contents=f"import {imported}")
    return graph


def test_the_contract_fails_on_a_function_local_circle_and_names_its_imports():
    c = AcyclicModulesContract(name="acyclic", session_options={"root_packages": ["shop", "pay"]},
                               contract_options={"packages": ["shop", "pay"]})
    graph = _graph([("shop.services", "pay.services", 3), ("pay.services", "shop.models", 9),
                    ("shop.models", "shop.services", 120)])  # e.g. an import inside Model.save
    check = c.check(graph, verbose=False)
    assert not check.kept
    (cycle,) = check.metadata["cycles"]
    assert cycle["modules"] == ["pay.services", "shop.models", "shop.services"]
    assert cycle["imports"] == ["pay.services:9: import shop.models  (-> shop.models)",
                                "shop.models:120: import shop.services  (-> shop.services)",
                                "shop.services:3: import pay.services  (-> pay.services)"]
    kept = c.check(_graph([("shop.services", "pay.services", 3), ("pay.services", "shop.models", 9)]), verbose=False)
    assert kept.kept and kept.metadata["cycles"] == []


def test_every_local_app_is_analysed():
    """A new app (reports) must join root_packages, or no contract sees it."""
    from django.conf import settings

    local = {app.split(".")[0] for app in settings.INSTALLED_APPS if (ROOT / app.split(".")[0]).is_dir()}
    assert local <= set(CONFIG["root_packages"]), sorted(local - set(CONFIG["root_packages"]))
    assert set(APPS) <= set(CONFIG["root_packages"]) and "fenxiao" in CONFIG["root_packages"]
    assert contract("app-layers")["containers"] == APPS


@pytest.mark.parametrize("app", APPS)
def test_the_domain_not_api_contract_names_every_module_outside_the_api(app):
    sources = contract("domain-not-api")["source_modules"]
    kinds = {s.split(".", 1)[1] for s in sources if s.startswith("*.")}
    for module in sorted(children(app) - {f"{app}.api"}):
        assert module.split(".", 1)[1] in kinds or module in sources, f"{module}: add it to domain-not-api's sources"


def test_the_portal_stands_on_the_domain_and_nothing_stands_on_it():
    """Issue 14 item 5: the portal's pages call the same services and selectors as the API (never
    its views or serializers, where a rule could hide), and no app depends on the portal."""
    on_domain = contract("portal-on-the-domain")
    assert on_domain["source_modules"] == ["portal", "portal.**"]
    assert {"*.api", "fenxiao.api"} <= set(on_domain["forbidden_modules"])
    others = contract("nothing-imports-the-portal")
    assert sorted(others["source_modules"]) == sorted(set(CONFIG["root_packages"]) - set(UI))
    assert others["forbidden_modules"] == UI
    assert set(UI) <= set(CONFIG["root_packages"])


def test_the_reports_contract_forbids_every_module_but_selectors_and_measures():
    """Every module of the other apps is forbidden to reports except their selectors,
    incentives.measures and tenants.context: a module added to an app is decided on, not let through."""
    allowed = {"incentives.measures", "tenants.context"} | {f"{app}.selectors" for app in APPS}
    forbidden = set(contract("reports-reads-selectors")["forbidden_modules"])
    every = set().union(*(children(app) for app in APPS))
    assert forbidden == every - allowed, (sorted(every - allowed - forbidden), sorted(forbidden - every))
    assert contract("reports-reads-selectors")["source_modules"] == ["reports.**"]


def test_work_started_on_commit_is_registered_and_runs_after_commit(in_tenant, django_capture_on_commit_callbacks,
                                                                   monkeypatch):
    from commissions import tasks
    from fenxiao import oncommit

    assert oncommit.registered() == ["commissions.accrue", "commissions.backtest", "webhooks.relay"]
    sent = []
    monkeypatch.setattr(tasks, "accrual_enqueue", lambda **kw: sent.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        oncommit.enqueue("commissions.accrue", order_ids=[3, 4], tenant_id=in_tenant.pk)
        assert sent == []                                      # not before the commit
    assert sent == [{"order_ids": [3, 4], "tenant_id": in_tenant.pk}]
    with pytest.raises(LookupError, match="reports.build"):
        oncommit.enqueue("reports.build", tenant_id=in_tenant.pk)
