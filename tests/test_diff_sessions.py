"""The two sessions of La dynamisation des parcours (specs/dynamisation-des-parcours.yaml, 2026.1, and
specs/dynamisation-des-parcours-session-2.yaml, 2026.2): by the text (01:116-117) and by the specs' own header, they
differ only on the call (session, uncovered zones, convention dates), never on the beneficiary side. This guards
that the diff reads so, and that the two files do not drift apart."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from engine.audit.diff import diff_versions
from engine.audit.versions import load_version
from engine.audit.impact import analyse_impact

SPECS = Path(__file__).parent.parent / "specs"
S1, S2 = SPECS / "dynamisation-des-parcours.yaml", SPECS / "dynamisation-des-parcours-session-2.yaml"
SAMPLE = SPECS / "samples" / "dynamisation-des-parcours.records.jsonl"

BENEFICIARY_SIDE = ("eligibility.beneficiary", "phases", "transitions", "deadlines", "obligations", "definitions",
                    "parameters", "inputs.attribute:", "inputs.event:")


def test_the_two_sessions_differ_only_on_the_call():
    with load_version(str(S1)) as a, load_version(str(S2)) as b:
        r = diff_versions(a, b)
        semantic = [c for c in r.changes if c.semantic]
        assert not [c.sentence for c in semantic if c.path.startswith(BENEFICIARY_SIDE)]
        assert {c.path for c in semantic if c.section == "sessions"} == {"sessions.session_1", "sessions.session_2"}
        session = next(c for c in semantic if c.path.endswith(".condition") and "session" in c.path)
        assert session.sentence.endswith("dates de la condition : 12/01/2026 -> 01/07/2026, 15/02/2026 -> 15/09/2026")
        assert (r.old.version, r.new.version) == ("2026.1", "2026.2")
        assert any("chevauchent" in w for w in r.warnings)
        impact = analyse_impact(a.compiled(), b.compiled(), str(SAMPLE), at=date(2026, 9, 1),
                                params={"min_barriers": "2"})
    assert impact.records > 0 and impact.changed == 0 and impact.kinds == ()
