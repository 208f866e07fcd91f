import sys
import sys
import pathlib
SPECS = pathlib.Path(__file__).resolve().parents[2]
src = (SPECS / "dynamisation-des-parcours.yaml").read_text(encoding="utf-8")
def rep(old, new, count=1):
    global src
    assert src.count(old) >= 1, old
    src = src.replace(old, new, count)

rep("""# DEUX SESSIONS D'APPEL À PROJETS (01:116-117). Choix : deux versions de la spec.
#   - ce fichier, version 2026.1 : 1ère session du 12/01/2026 au 15/02/2026 ;
#   - dynamisation-des-parcours-session-2.yaml, version 2026.2 : 2ème session du 01/07/2026 au 15/09/2026,
#     uniquement pour les conventionnements répondant à des zones non couvertes par la 1ère session.""",
"""# DEUX SESSIONS D'APPEL À PROJETS (01:116-117). Choix : deux versions de la spec.
#   - dynamisation-des-parcours.yaml, version 2026.1 : 1ère session du 12/01/2026 au 15/02/2026 ;
#   - CE FICHIER, version 2026.2 : 2ème session du 01/07/2026 au 15/09/2026, uniquement pour les conventionnements
#     répondant à des zones non couvertes par la 1ère session.""")
rep('version: "2026.1"', 'version: "2026.2"')
rep("valid_from: 2026-01-01", "valid_from: 2026-07-01")
rep("""  - {use: session_1_2026, source: "01-dynamisation-des-parcours.txt:116-118"}
convention:
  use: convention_2026_2027
  source: "01-dynamisation-des-parcours.txt:121"
  interpretation: >-
    Le texte fixe seulement « 24 mois maximum » (121) ; les dates 01/01/2026-31/12/2027 se déduisent des bilans :
    bilan intermédiaire à l'issue de la première année au 31/03/2027 (143), bilan final 3 mois après la fin
    effective de la convention, soit le 31/03/2028 (145).""",
"""  - id: session_2
    label: 2ème session de l'appel à projets (zones non couvertes)
    opens: 2026-07-01
    closes: 2026-09-15
    source: "01-dynamisation-des-parcours.txt:117-118"
    explanation: >-
      Uniquement pour les conventionnements répondant à des zones non couvertes ; passée la date de clôture
      (incluse), la candidature ne peut plus être déposée ni prise en compte.
convention:
  end: 2027-12-31
  max_duration: 24 months
  source: "01-dynamisation-des-parcours.txt:121"
  interpretation: >-
    Le texte fixe seulement « 24 mois maximum » (121). Pour la 2ème session, la date de début n'est pas donnée
    (au plus tôt après la clôture de la session, le 15/09/2026) ; la fin au 31/12/2027 se déduit du bilan final,
    commun aux deux sessions : 3 mois après la fin effective de la convention, soit le 31/03/2028 (145).""")
rep("""    dsp_places: {type: integer, label: Nombre de places attribuées pour la réalisation des DSP}""",
"""    dsp_places: {type: integer, label: Nombre de places attribuées pour la réalisation des DSP}
    covers_uncovered_zone:
      type: boolean
      label: Le conventionnement répond à une zone non couverte à l'issue de la 1ère session""")
rep("""      - id: application_in_session
        label: Candidature déposée pendant la 1ère session (12/01/2026 au 15/02/2026 inclus)
        condition: application_date >= 2026-01-12 and application_date <= 2026-02-15
        source: "01-dynamisation-des-parcours.txt:116-118\"""",
"""      - id: application_in_session
        label: Candidature déposée pendant la 2ème session (01/07/2026 au 15/09/2026 inclus)
        condition: application_date >= 2026-07-01 and application_date <= 2026-09-15
        source: "01-dynamisation-des-parcours.txt:117-118"
      - id: uncovered_zone
        label: Conventionnement répondant à une zone non couverte par la 1ère session
        condition: covers_uncovered_zone
        source: "01-dynamisation-des-parcours.txt:117"
        interpretation: >-
          Le texte ne liste pas les zones non couvertes (elles dépendent des résultats de la 1ère session) : le
          Département le déclare dans l'enregistrement de l'opération (`covers_uncovered_zone`).""")
(SPECS / "dynamisation-des-parcours-session-2.yaml").write_text(src, encoding="utf-8")

import subprocess
p = SPECS / "dynamisation-des-parcours-session-2.yaml"
t = open(p).read()
i = t.rindex("\nexamples:\n")
ex = subprocess.run([sys.executable, str(pathlib.Path(__file__).resolve().parent / "gen01.py"), "examples2"], capture_output=True, text=True, check=True).stdout
open(p, "w").write(t[:i] + "\nexamples:\n" + ex)
