"""French wording of values (engine.fr): the one place every human-readable output takes dates, numbers, money,
percentages and plurals from."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from engine.fr import fr_date, fr_days, fr_long_date, fr_money, fr_number, fr_percent, fr_plural

NB, TH = "\u00a0", "\u202f"


@pytest.mark.parametrize("value,text", [
    (date(2026, 3, 1), "01/03/2026"), ("2026-12-31", "31/12/2026"), ("pas une date", "pas une date"), (None, ""),
])
def test_date(value, text):
    assert fr_date(value) == text


@pytest.mark.parametrize("value,text", [
    (date(2026, 3, 1), "1er mars 2026"), (date(2027, 8, 15), "15 août 2027"), ("2026-02-02", "2 février 2026"),
])
def test_long_date(value, text):
    assert fr_long_date(value) == text


@pytest.mark.parametrize("value,text", [
    (Decimal("22800.5"), f"22{TH}800,5"), (Decimal("0.450"), "0,45"), (Decimal("-1234567"), f"-1{TH}234{TH}567"),
    (12, "12"), (Decimal("1E+3"), f"1{TH}000"), (True, "oui"), (False, "non"), (None, ""),
])
def test_number(value, text):
    assert fr_number(value) == text


@pytest.mark.parametrize("value,places,text", [
    ("0.4", None, f"40{NB}%"), ("0.174", None, f"17,4{NB}%"), ("0.3", None, f"30{NB}%"), ("1", None, f"100{NB}%"),
    ("0.17391304", 1, f"17,4{NB}%"), ("0.12345", 2, f"12,35{NB}%"), ("0.5", 1, f"50{NB}%"),
])
def test_percent(value, places, text):
    assert fr_percent(Decimal(value), places) == text


@pytest.mark.parametrize("value,text", [
    ("22800", f"22{TH}800,00{NB}€"), ("5270.5", f"5{TH}270,50{NB}€"), ("0.005", f"0,01{NB}€"),
    ("1234567.891", f"1{TH}234{TH}567,89{NB}€"), ("0.125", f"0,13{NB}€"), ("-0.5", f"-0,50{NB}€"),
])
def test_money(value, text):
    assert fr_money(Decimal(value)) == text


@pytest.mark.parametrize("n,text", [(0, "0 jour"), (1, "1 jour"), (2, "2 jours"), (-1, "-1 jour"), (18, "18 jours")])
def test_days(n, text):
    assert fr_days(n) == text


def test_plural_takes_the_singular_for_zero_and_one():
    assert [fr_plural(n, "échéance", "échéances") for n in (0, 1, 2)] == ["0 échéance", "1 échéance", "2 échéances"]


@given(st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False))
def test_money_reads_back_to_the_cent(d):
    text = fr_money(d)
    assert text.endswith(NB + "€")
    back = Decimal(text[:-2].replace(TH, "").replace(",", "."))
    assert back == d.quantize(Decimal("0.01"))
