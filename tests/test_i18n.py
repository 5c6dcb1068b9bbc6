"""Chinese and English (README "Languages"): the language a request gets, the console and the API's
error details in each, money and dates in the locale's format, the demo's two languages, and the
catalogues (complete, compiled, and up to date with the code)."""
import re
import secrets
import shutil
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import polib
import pytest
from django.contrib.auth.models import Permission, User
from django.test import override_settings
from django.utils import translation

from fenxiao import settings as product
from tenants.models import StaffMembership
from tests import catalogues
from tests.factories import CommitAPIClient, chain, line, order_json, paid_order

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def pm(client, tenant):
    user = User.objects.create_user("pm", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        content_type__app_label__in=["tenants", "distributors", "orders", "commissions", "ledger", "incentives"]))
    StaffMembership.objects.create(user=user, tenant=tenant)
    client.force_login(user)
    return client


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# -- which language ------------------------------------------------------------------------------


def test_the_product_is_chinese_first_and_keeps_english():
    assert product.LANGUAGE_CODE == "zh-hans" and product.API_LANGUAGE_CODE == "en"
    assert [code for code, _name in product.LANGUAGES] == ["zh-hans", "en"]
    # every catalogue is a LOCALE_PATH, so it wins over the packages' for a string both have
    assert product.LOCALE_PATHS[0] == ROOT / "fenxiao" / "locale"
    assert {path.parents[2] for path in catalogues.catalogue_paths()} == set(product.LOCALE_PATHS)
    chain_ = product.MIDDLEWARE
    # after the session, before CommonMiddleware (Django's documented place)
    assert chain_.index("django.contrib.sessions.middleware.SessionMiddleware") \
        < chain_.index("fenxiao.middleware.LocaleMiddleware") < chain_.index("fenxiao.middleware.CommonMiddleware")


@override_settings(LANGUAGE_CODE=product.LANGUAGE_CODE)
def test_a_browser_that_names_no_language_gets_the_console_in_chinese(pm, in_tenant):
    r = pm.get("/admin/")
    text = page(r)
    assert '<html lang="zh-hans"' in text and "分销管理控制台" in text
    assert r["Content-Language"] == "zh-hans"
    # one it does not speak: Chinese too; English among its choices: English
    assert "分销管理控制台" in page(pm.get("/admin/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert "fenxiao console" in page(pm.get("/admin/", HTTP_ACCEPT_LANGUAGE="fr, en;q=0.5"))


@pytest.mark.parametrize("header", ["zh-hans", "zh-CN,zh;q=0.9,en;q=0.8", "zh", "zh-Hans-CN"])
def test_the_browsers_chinese_gets_the_console_in_chinese(pm, in_tenant, header):
    text = page(pm.get("/admin/", HTTP_ACCEPT_LANGUAGE=header))
    assert '<html lang="zh-hans"' in text and "分销管理控制台" in text


def test_the_admin_index_in_chinese_and_in_english(pm, in_tenant):
    chain(in_tenant, 2)
    paid_order(in_tenant, referrer_external_id="C1")          # base 100.00: C1 10.00, C0 5.00 frozen
    zh = page(pm.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    for label in ("分销管理控制台", "概览", "分销商", "佣金方案", "佣金记录", "订单", "资金流水", "提现", "资金账本",
                  "竞赛", "阶梯奖励方案", "目标", "冻结佣金", "可提现佣金", "预览订单佣金", "新建回测"):
        assert label in zh, label
    assert "Commission plans" not in zh and "Ledger entries" not in zh
    # the chooser names each language in itself, the current one pressed
    assert re.search(r'<button type="submit" name="language" value="zh-hans"[^>]*aria-pressed="true">简体中文</button>', zh)
    assert re.search(r'<button type="submit" name="language" value="en"[^>]*aria-pressed="false">English</button>', zh)
    en = page(pm.get("/admin/", HTTP_ACCEPT_LANGUAGE="en"))
    for label in ("fenxiao console", "Dashboard", "Distributors", "Commission plans", "Ledger entries", "Withdrawals",
                  "Commission frozen", "Preview an order"):
        assert label in en, label
    assert "佣金方案" not in en


def test_the_chooser_sets_the_language_of_every_page_after(pm, in_tenant):
    chain(in_tenant, 2)
    changelist = "/admin/distributors/distributor/"
    r = pm.post("/i18n/setlang/", {"language": "zh-hans", "next": changelist}, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 302 and r["Location"] == changelist
    assert pm.cookies["django_language"].value == "zh-hans"
    text = page(pm.get(changelist, HTTP_ACCEPT_LANGUAGE="en"))      # the choice wins over the browser
    for label in ("外部 ID", "名称", "状态", "上级", "加入时间", "冻结所选分销商", "通过所选申请"):
        assert label in text, label
    assert re.findall(r'<td class="field-status">([^<]+)</td>', text) == ["正常", "正常"]
    # the filter's choices are the model's, in fenxiao's words (not a package's "禁用" for "Disabled")
    assert ">待审核</a>" in text and ">冻结</a>" in text and ">已停用</a>" in text
    pm.post("/i18n/setlang/", {"language": "en", "next": changelist})
    text = page(pm.get(changelist, HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "External id" in text and "Freeze selected" in text and "冻结所选分销商" not in text
    assert re.findall(r'<td class="field-status">([^<]+)</td>', text) == ["Active", "Active"]


def test_the_login_page_has_the_chooser(client, db):
    zh = page(client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert 'id="language-chooser"' in zh and 'action="/i18n/setlang/"' in zh and "分销管理控制台" in zh
    assert 'value="en"' in zh and ">English</button>" in zh


# -- money and dates in the console ---------------------------------------------------------------


def test_money_is_written_in_the_locales_format_with_the_currencys_places():
    from fenxiao.admin_money import money_display

    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert money_display(D("12345.6"), "CNY") == "12,345.60"
            assert money_display(D("1234567"), "JPY") == "1,234,567"
            assert money_display(D("-1.25"), "KWD") == "-1.250"
            assert money_display(D("0"), "USD") == "0.00"
            assert money_display(None, "USD") is None
            with pytest.raises(ValueError):
                money_display(D("1.005"), "CNY")        # never rounded: a stored amount is exact


def test_the_order_list_writes_amounts_and_dates_for_the_locale(pm, in_tenant):
    chain(in_tenant, 1)
    paid_order(in_tenant, "BIG", lines=[line(unit_price="12345.60")], referrer_external_id="C0")   # paid 2026-01-15 02:00 UTC
    zh = page(pm.get("/admin/orders/order/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert re.findall(r'<td class="field-money__goods_total">([^<]+)</td>', zh) == ["12,345.60"]
    # the date in the language's format (the hour in whichever time zone the console shows)
    assert re.fullmatch(r"2026年1月15日 \d\d:\d\d", re.findall(r'<td class="field-paid_at[^"]*">([^<]+)</td>', zh)[0])
    en = page(pm.get("/admin/orders/order/", HTTP_ACCEPT_LANGUAGE="en"))
    assert re.findall(r'<td class="field-money__goods_total">([^<]+)</td>', en) == ["12,345.60"]
    assert re.findall(r'<td class="field-paid_at[^"]*">([^<]+)</td>', en)[0].startswith("Jan. 15, 2026, ")


# -- the API's error details -----------------------------------------------------------------------


def error(r):
    body = r.json()
    assert set(body) == {"type", "errors"} and all(set(e) == {"code", "detail", "attr"} for e in body["errors"]), body
    return r.status_code, body["type"], [(e["code"], e["attr"], e["detail"]) for e in body["errors"]]


def test_an_api_validation_error_in_chinese_and_in_english(partner, in_tenant):
    bad = order_json("X1", referrer_external_id="nobody")
    assert error(partner.post("/api/v1/orders/", bad, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")) == (
        400, "validation_error", [("unknown_distributor", "referrer_external_id", "未知的分销商 'nobody'。")])
    english = (400, "validation_error", [("unknown_distributor", "referrer_external_id", "Unknown distributor 'nobody'.")])
    assert error(partner.post("/api/v1/orders/", bad, format="json", HTTP_ACCEPT_LANGUAGE="en")) == english
    assert error(partner.post("/api/v1/orders/", bad, format="json")) == english        # no language named: English
    # DRF's own messages come from its catalogue
    assert error(partner.post("/api/v1/orders/", {**order_json("X2"), "placed_at": None}, format="json",
                              HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")) == (
        400, "validation_error", [("null", "placed_at", "该字段不能为 null。")])


@override_settings(LANGUAGE_CODE=product.LANGUAGE_CODE)
def test_an_api_client_that_names_no_language_gets_english_whatever_the_console_speaks(partner, in_tenant):
    r = partner.get("/api/v1/orders/NOPE/")
    assert error(r) == (404, "client_error", [("not_found", None, "No order with this external_id.")])
    assert r["Content-Language"] == "en" and "Accept-Language" in r["Vary"]
    assert error(partner.get("/api/v1/orders/NOPE/", HTTP_ACCEPT_LANGUAGE="fr")) == (
        404, "client_error", [("not_found", None, "No order with this external_id.")])
    assert error(partner.get("/api/v1/orders/NOPE/", HTTP_ACCEPT_LANGUAGE="zh-hans")) == (
        404, "client_error", [("not_found", None, "没有此外部 ID 的订单。")])
    # the language the chooser set (a browser on the same site) counts for the API too
    partner.cookies["django_language"] = "zh-hans"
    assert error(partner.get("/api/v1/orders/NOPE/")) == (404, "client_error", [("not_found", None, "没有此外部 ID 的订单。")])
    assert error(CommitAPIClient().get("/api/v1/orders/", HTTP_ACCEPT_LANGUAGE="zh-hans"))[0] == 401


def test_state_refusals_are_whole_sentences_in_each_language(in_tenant):
    from distributors.services import distributor_status_step
    from fenxiao.exceptions import InvalidState

    (c0,) = chain(in_tenant, 1)
    distributor_status_step(distributor=c0, action="freeze")
    for language, text in [("zh-hans", "不能冻结已冻结的分销商。"), ("en", "Cannot freeze a frozen distributor.")]:
        with translation.override(language), pytest.raises(InvalidState) as exc:
            distributor_status_step(distributor=c0, action="freeze")
        assert str(exc.value.detail) == text


def test_the_pure_modules_messages_are_translated_by_their_callers(partner, in_tenant):
    bad = order_json("X3", lines=[{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "10.00", "discount": "11.00"}])
    assert error(partner.post("/api/v1/orders/", bad, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")) == (
        400, "validation_error", [("invalid_amounts", "lines", "第 1 行：折扣超过了数量 × 单价")])
    assert error(partner.post("/api/v1/orders/", bad, format="json")) == (
        400, "validation_error", [("invalid_amounts", "lines", "line 1: discount exceeds quantity x unit_price")])


# -- the demo ------------------------------------------------------------------------------------


def test_the_demo_speaks_chinese_then_english():
    from django.utils.translation import gettext_noop

    from distributors.management.commands.load_demo import both

    lines = []
    both(lines.append, gettext_noop("Partner API key (new, shown only now): %(key)s"), key="K-1")
    assert lines == ["合作方 API 密钥（新建，仅此一次显示）：K-1", "Partner API key (new, shown only now): K-1"]
    lines = []
    both(lines.append, gettext_noop("%(n)s distributor passwords set this run (every demo distributor without a "
                                    "password gets %(password)s)."), indent="  ", n=1, password="pw")
    assert lines == ["  本次设置了 1 个分销商密码（没有密码的演示分销商都设为 pw）。",
                     "  1 distributor passwords set this run (every demo distributor without a password gets pw)."]


# -- the catalogues ------------------------------------------------------------------------------


def test_every_app_has_a_catalogue_and_each_is_complete_and_compiled(settings):
    local_apps = sorted({name.split(".")[0] for name in settings.INSTALLED_APPS
                         if (ROOT / name.split(".")[0] / "apps.py").exists()
                         or (ROOT / name.split(".")[0] / "models.py").exists()} - {"fenxiao"})
    paths = catalogues.catalogue_paths()
    assert sorted(p.relative_to(ROOT).parts[0] for p in paths) == sorted([*local_apps, "fenxiao"])
    assert [problem for path in paths for problem in catalogues.problems(path)] == []
    assert sum(len(polib.pofile(str(p)).translated_entries()) for p in paths) > 700


def write_catalogue(folder: Path, entries: list[polib.POEntry], *, compile_: bool = True) -> Path:
    """A catalogue at <folder>/locale/zh_Hans/LC_MESSAGES/django.po (and its .mo) under `folder`."""
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Plural-Forms": "nplurals=1; plural=0;"}
    po.extend(entries)
    path = folder / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    path.parent.mkdir(parents=True)
    po.save(str(path))
    if compile_:
        po.save_as_mofile(str(path.with_suffix(".mo")))
    return path


@pytest.fixture
def scratch(monkeypatch, tmp_path):
    monkeypatch.setattr(catalogues, "ROOT", tmp_path)
    return tmp_path


def test_the_catalogue_check_finds_each_kind_of_problem(scratch):
    good = polib.POEntry(msgid="Only %(amount)s left.", msgstr="只剩 %(amount)s。", flags=["python-format"])
    assert catalogues.problems(write_catalogue(scratch / "good", [good])) == []
    untranslated = polib.POEntry(msgid="Back", msgstr="")
    fuzzy = polib.POEntry(msgid="tenant day", msgstr="末日", flags=["fuzzy"])
    lost = polib.POEntry(msgid="Only %(amount)s left.", msgstr="只剩 %(amout)s。", flags=["python-format"])
    plural = polib.POEntry(msgid="%(n)d minute", msgid_plural="%(n)d minutes", msgstr_plural={0: ""},
                           flags=["python-format"])
    found = catalogues.problems(write_catalogue(scratch / "bad", [untranslated, fuzzy, lost, plural]))
    assert [re.sub(r"^bad/\S+: ", "", p) for p in found] == [
        "'Back' is not translated",
        "'tenant day' is fuzzy (check the translation, then remove the flag)",
        "'Only %(amount)s left.': the translation's placeholders ['%(amout)s'] differ from the source's ['%(amount)s']",
        "'%(n)d minute' is not translated",
    ]


def test_the_catalogue_check_finds_a_mo_not_compiled_from_its_po(scratch):
    path = write_catalogue(scratch / "app", [polib.POEntry(msgid="Back", msgstr="返回")])
    po = polib.pofile(str(path))
    po.append(polib.POEntry(msgid="Home", msgstr="首页"))        # the .po changed, the .mo did not
    po.save(str(path))
    (problem,) = catalogues.problems(path)
    assert problem.startswith("app/locale/zh_Hans/LC_MESSAGES/django.mo is not compiled from its .po (1 entries differ")
    po.save_as_mofile(str(path.with_suffix(".mo")))
    assert catalogues.problems(path) == []
    path.with_suffix(".mo").unlink()
    assert catalogues.problems(path) == ["app/locale/zh_Hans/LC_MESSAGES/django.po: no compiled django.mo beside it (make messages)"]


@pytest.mark.skipif(not shutil.which("xgettext") or not shutil.which("msgmerge"), reason="needs GNU gettext (xgettext)")
def test_every_string_of_the_code_is_in_a_catalogue(tmp_path):
    """`make messages` on a copy of the code adds nothing untranslated: every gettext string of the
    console, the API and the demo is in its app's catalogue, translated (run `make messages`, then
    translate what it lists)."""
    skip = shutil.ignore_patterns(".*", "__pycache__", "tests", "bench", "docs", "staticfiles", "build", "*.sqlite3*",
                                  "*.mo", "sample_data")
    copy = tmp_path / "fenxiao"
    shutil.copytree(ROOT, copy, ignore=skip)
    for app in {p.parent.name for p in copy.glob("*/apps.py")} | {p.parent.name for p in copy.glob("*/models.py")}:
        (copy / app / "locale").mkdir(exist_ok=True)
    subprocess.run([sys.executable, "manage.py", "makemessages", "--locale", "zh_Hans", "--add-location", "file",
                    "--verbosity", "0"], cwd=copy, check=True, capture_output=True, timeout=300,
                   env={"PATH": "/usr/bin:/bin", "SECRET_KEY": secrets.token_urlsafe(50), "DJANGO_SETTINGS_MODULE": "fenxiao.settings"})
    missing = sorted({(str(po.relative_to(copy)).split("/")[0], e.msgid)
                      for po in copy.glob("*/locale/zh_Hans/LC_MESSAGES/django.po")
                      for e in polib.pofile(str(po)) if not e.obsolete and (e.fuzzy or not e.translated())})
    assert missing == [], "run `make messages` and translate these in the .po files"


def test_an_unknown_query_parameter_is_refused_in_the_requests_language(partner, in_tenant):
    zh = error(partner.get("/api/v1/orders/", {"parnet": "x"}, HTTP_ACCEPT_LANGUAGE="zh-hans"))
    en = error(partner.get("/api/v1/orders/", {"parnet": "x"}))
    assert zh[:2] == en[:2] == (400, "validation_error")
    assert [(c, a) for c, a, _ in zh[2]] == [(c, a) for c, a, _ in en[2]] == [("unknown_parameter", "parnet")]
    assert zh[2][0][2].startswith("未知的查询参数（此接口读取：") and zh[2][0][2].endswith("）。")
    assert en[2][0][2].startswith("Unknown query parameter (this endpoint reads: ")
    assert zh[2][0][2].removeprefix("未知的查询参数（此接口读取：")[:-2] == en[2][0][2].removeprefix(
        "Unknown query parameter (this endpoint reads: ")[:-2]     # the same list of parameters


def test_out_of_range_speaks_the_requests_language(in_tenant):
    from tests.incentives.apidata import staff_client

    staff = staff_client(in_tenant, "ranker")
    url = "/api/v1/admin/rankings/?measure=direct_sales&from=0001-01-01&to=2026-01-31"
    assert error(staff.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")) == (
        400, "validation_error", [("out_of_range", "from", "请给出 1970-01-01 到 9899-12-31 之间的日期。")])
    assert error(staff.get(url)) == (
        400, "validation_error", [("out_of_range", "from", "Give a day from 1970-01-01 to 9899-12-31.")])


def test_risk_and_webhook_refusals_are_translated(in_tenant):
    from fenxiao.exceptions import InvalidState
    from risk.models import RiskHold
    from risk.services import risk_hold_place, risk_hold_release
    from rest_framework.exceptions import ValidationError

    (c0,) = chain(in_tenant, 1)
    hold = risk_hold_place(tenant=in_tenant, distributor_id=c0.pk, reason=RiskHold.Reason.VELOCITY, figures={})
    for language, text in [("zh-hans", "请填写解除冻结的原因。"), ("en", "Give the reason for releasing the hold.")]:
        with translation.override(language), pytest.raises(ValidationError) as exc:
            risk_hold_release(hold=hold, reason=" ", actor="pm")
        assert [str(m) for m in exc.value.detail["reason"]] == [text]
    risk_hold_release(hold=hold, reason="checked", actor="pm")
    for language, text in [("zh-hans", "此冻结已被解除。"), ("en", "This hold was released already.")]:
        with translation.override(language), pytest.raises(InvalidState) as exc:
            risk_hold_release(hold=RiskHold.objects.get(pk=hold.pk), reason="again", actor="pm")
        assert str(exc.value.detail) == text


def test_a_console_page_the_role_lacks_is_a_403_in_the_users_language(client, tenant):
    from tenants.services import staff_create

    staff_create(tenant=tenant, username="pm403", role="pm", password="pm-pass-9876")
    client.login(username="pm403", password="pm-pass-9876")
    zh = client.get("/admin/ledger/ledgerentry/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert zh.status_code == 403 and '<html lang="zh-hans"' in zh.content.decode()
    assert "您没有访问此页面的权限" in zh.content.decode() and "返回控制台首页" in zh.content.decode()
    en = client.get("/admin/ledger/ledgerentry/", HTTP_ACCEPT_LANGUAGE="en")
    assert en.status_code == 403 and "You have no permission for this page" in en.content.decode()
