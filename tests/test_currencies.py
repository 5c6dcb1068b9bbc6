"""fenxiao.currencies: ISO 4217 minor units from the iso4217 package, and amounts written with them."""
from decimal import Decimal as D

import pytest

from fenxiao.currencies import UnknownCurrency, exact_sum, fits, is_currency, minor_unit, minor_units, money_str


@pytest.mark.parametrize("code,places", [("CNY", 2), ("USD", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3), ("BHD", 3),
                                          ("IQD", 3), ("CLF", 4), ("IDR", 2), ("HUF", 2)])
def test_iso_4217_exponents(code, places):
    # IQD, IDR and HUF are where CLDR's display digits (Babel) differ from ISO 4217's minor units
    assert minor_units(code) == places
    assert minor_unit(code) == D(1).scaleb(-places)


@pytest.mark.parametrize("code", ["ZZZ", "usd", "US", "XAU", "XXX", "XTS", "", None, "ＵＳＤ"])
def test_not_currencies(code):
    assert not is_currency(code)
    with pytest.raises(UnknownCurrency):
        minor_units(code)


def test_amounts_are_written_with_their_currency_places():
    assert [money_str(D("123.4000"), "CNY"), money_str(D("123.0000"), "JPY"), money_str(D("1.25"), "KWD"),
            money_str(D("-0.00"), "USD"), money_str(D("0.0000"), "JPY")] == ["123.40", "123", "1.250", "0.00", "0"]
    with pytest.raises(ValueError):
        money_str(D("123.50"), "JPY")  # never shown rounded: a stored amount is always whole minor units
    assert fits(D("1234.00"), 0) and not fits(D("1234.5"), 0) and fits(D("1.005"), 3) and not fits(D("1.0005"), 3)
    assert str(exact_sum(1.0000000001, "USD")) == "1.00" and str(exact_sum(None, "JPY")) == "0"


def test_a_tenant_needs_a_currency_with_minor_units(db):
    from django.core.exceptions import ValidationError

    from tenants.services import tenant_create

    from tenants.models import Tenant

    with pytest.raises(ValidationError) as exc:
        tenant_create(slug="gold", name="Gold", currency="XAU")
    assert exc.value.error_dict["currency"][0].code == "invalid_currency"
    assert not Tenant.objects.filter(slug="gold").exists()
