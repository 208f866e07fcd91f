"""The operation's convention checked against the text (engine.operation.convention): start, end, length, and the
length the amounts use."""

from datetime import date

import pytest

from engine.expr.runtime import Duration
from engine.operation.convention import check_convention
from engine.spec.model import Convention

TEXT = Convention(start=date(2026, 1, 1), end=date(2027, 12, 31), max_duration=Duration(24, 0))


@pytest.mark.parametrize("start,end,status,months,used,failed", [
    (date(2026, 1, 1), date(2027, 12, 31), "passed", 24, 24, []),
    (date(2026, 3, 1), date(2027, 12, 31), "passed", 22, 22, []),
    (date(2025, 12, 1), date(2027, 11, 30), "failed", 24, 24, ["start"]),
    (date(2026, 1, 1), date(2028, 6, 30), "failed", 30, 24, ["end", "max_duration"]),
    (date(2026, 1, 15), date(2028, 1, 14), "failed", 24, 24, ["end"]),
    (date(2026, 1, 15), date(2028, 1, 15), "failed", 24, 24, ["end", "max_duration"]),
    (date(2026, 6, 1), date(2026, 5, 31), "failed", None, None, ["order"]),
    (None, date(2027, 12, 31), "unknown", None, None, []),
])
def test_convention_checks(start, end, status, months, used, failed):
    c = check_convention(TEXT, start, end)
    assert (c["status"], c["months"], c["months_used"]) == (status, months, used)
    assert [x["id"] for x in c["checks"] if x["status"] == "failed"] == failed


def test_the_messages_say_the_limit_in_french():
    c = check_convention(TEXT, date(2026, 1, 1), date(2028, 6, 30))
    msg = {x["id"]: x["message"] for x in c["checks"]}
    assert msg["end"] == "fin le 30/06/2028, après le 31/12/2027 que fixe le texte"
    assert "30 mois du 01/01/2026 au 30/06/2028 : plus que les 24 mois permis (fin au plus tard le 31/12/2027)" \
        in msg["max_duration"]


def test_without_a_convention_in_the_spec_only_the_length_is_given():
    c = check_convention(None, date(2026, 1, 1), date(2026, 12, 31))
    assert (c["status"], c["months"], c["checks"]) == ("passed", 12, [])


def test_a_maximum_without_a_start_in_the_text_checks_the_length_only():
    rule = Convention(start=None, end=None, max_duration=Duration(24, 0))
    c = check_convention(rule, date(2026, 3, 1), date(2028, 2, 29))
    assert c["status"] == "passed" and c["months"] == 24
    assert [x["id"] for x in c["checks"]] == ["max_duration"]
