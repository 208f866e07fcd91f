"""Regenerate the variants v_*.yaml from base.yaml (each changes one thing). Run from anywhere:

    python tests/diff/make_variants.py

then regenerate and review the golden files (see tests/test_diff.py).
"""

from pathlib import Path

HERE = Path(__file__).parent
HEADER = "# Spec de test de `engine diff` (version de référence). Les variantes v_*.yaml en diffèrent d'un point."


def variant(base: str, name: str, comment: str, *subs: tuple[str, str]) -> None:
    s = base.replace(HEADER, f"# Variante de base.yaml (générée par make_variants.py) : {comment}")
    for a, b in subs:
        assert a in s, (name, a)
        s = s.replace(a, b, 1)
    (HERE / name).write_text(s, encoding="utf-8")


def main() -> None:
    base = (HERE / "base.yaml").read_text(encoding="utf-8")
    variant(base, "v_deadline_21.yaml",
            "délai du premier rendez-vous 15 -> 21 jours, version 2026.2 dont la validité chevauche.",
            ('version: "2026.1"', 'version: "2026.2"'),
            ("valid_from: 2026-01-01\nvalid_until: 2026-06-30", "valid_from: 2026-06-01\nvalid_until: 2026-12-31"),
            ("""    label: Premier rendez-vous dans les 15 jours suivant l'orientation
    from: {phase: orientation}
    to: {event: appointment}
    within: 15 days""", """    label: Premier rendez-vous dans les 21 jours suivant l'orientation
    from: {phase: orientation}
    to: {event: appointment}
    within: 21 jours"""))
    variant(base, "v_youth_cap_removed.yaml", "le plafond de 20 % de jeunes est supprimé.",
            ("""cohort_constraints:
  - id: youth_share
    label: Au plus 20 % de jeunes
    condition: count(participants where jeune) <= 20% * count(participants)
    source: 05-chantiers-insertion.txt:17

""", ""))
    variant(base, "v_phase_added.yaml", "une phase de diagnostic 360° est ajoutée entre accueil et contrat.",
            ("""  contrat:
    label: Contrat d'engagement (CE)""", """  diagnostic:
    label: Diagnostic 360°
    max_duration: 1 month
    source: 01-dynamisation-des-parcours.txt:52
  contrat:
    label: Contrat d'engagement (CE)"""),
            ("""  - {from: accueil, to: contrat, label: Signature du CE, source: "01-dynamisation-des-parcours.txt:54"}""",
             """  - {from: accueil, to: diagnostic, label: Diagnostic 360°, source: "01-dynamisation-des-parcours.txt:52"}
  - {from: diagnostic, to: contrat, label: Signature du CE, source: "01-dynamisation-des-parcours.txt:54"}"""))
    variant(base, "v_funding_share.yaml", "la part du Département passe de 40 % à 30 % (FTJ).",
            ("    share: 40%\n", "    share: 30%\n"),
            ("label: Part du Département dans le financement total",
             "label: Part du Département dans le financement total (FTJ)"))
    variant(base, "v_age_threshold.yaml",
            "le public jeune handicapé est élargi jusqu'à 29 ans (seuil 25 -> 29) ; une source corrigée.",
            ("condition: age(birth_date, today) >= 16 and age(birth_date, today) <= 25 and disability",
             "condition: age(birth_date, today) >= 16 and age(birth_date, today) <= 29 and disability"),
            ('source: "01-dynamisation-des-parcours.txt:16"}', 'source: "01-dynamisation-des-parcours.txt:17"}'))


if __name__ == "__main__":
    main()
