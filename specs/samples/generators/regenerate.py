"""Regenerate the embedded examples and the sample files of programmes 01-04 (maintenance script, author D1).

The scenarios and their EXPECTED decisions are written by hand in gen01.py ... gen04.py, from reading the source
texts (../shared/seeds/0N-*.txt); this script only lays them out (YAML examples at the end of each spec, JSONL
samples). Nothing here runs the engine: the expectations never come from its output.

    python specs/samples/generators/regenerate.py          # rewrite examples + samples of 01-04, derive session 2
    python specs/samples/generators/regenerate.py --check  # exit 1 if a file would change

It also derives specs/dynamisation-des-parcours-session-2.yaml from specs/dynamisation-des-parcours.yaml
(make_session2.py): the two versions differ only where the text differs (session, operator rules, convention,
version, validity); edit the 1st-session file, then run this script.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPECS = HERE.parents[1]
SAMPLES = SPECS / "samples"

# generator -> (spec id, sample kinds it writes). The `.operation.json` and `.cohort.jsonl` samples are NOT written
# here: the operations of 01-04 are maintained by hand (first drafted by these generators, then given their
# intermediate-review dates) and every cohort is drawn by tools/make_operation_samples.py, so one file has one owner.
PROGRAMMES = {
    "gen01.py": ("dynamisation-des-parcours", ("records", "expected")),
    "gen02.py": ("accompagnement-social-professionnel-intensif", ("records", "expected")),
    "gen03.py": ("travailleurs-independants", ("records", "expected")),
    "gen04.py": ("coach-jeunesse", ("records", "expected")),
}
SUFFIX = {"records": ".records.jsonl", "expected": ".expected.jsonl", "operation": ".operation.json",
          "cohort": ".cohort.jsonl"}


def run(gen: str, what: str) -> str:
    return subprocess.run([sys.executable, str(HERE / gen), what], capture_output=True, text=True, check=True,
                          encoding="utf-8").stdout


def with_examples(spec_text: str, examples: str) -> str:
    i = spec_text.rindex("\nexamples:\n")
    return spec_text[: i] + "\nexamples:\n" + examples


def main(argv: list[str]) -> int:
    check = "--check" in argv
    planned: dict[Path, str] = {}
    for gen, (sid, kinds) in PROGRAMMES.items():
        spec = SPECS / f"{sid}.yaml"
        planned[spec] = with_examples(spec.read_text(encoding="utf-8"), run(gen, "examples"))
        for kind in kinds:
            planned[SAMPLES / f"{sid}{SUFFIX[kind]}"] = run(gen, kind)
    changed = [p for p, text in planned.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    if check:
        for p in changed:
            print(f"would change: {p.relative_to(SPECS.parent)}")
        return 1 if changed else 0
    for p in changed:
        p.write_text(planned[p], encoding="utf-8")
        print(f"wrote {p.relative_to(SPECS.parent)}")
    subprocess.run([sys.executable, str(HERE / "make_session2.py")], check=True)
    print("wrote specs/dynamisation-des-parcours-session-2.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
