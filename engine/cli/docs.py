"""`engine docs SPECS -o SITE [--seeds DIR]`: the static documentation site (engine.render.site)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from engine.errors import COMMAND_LINE, Diagnostic, UsageError
from engine.render.site import build_site


def run(args) -> int:
    seeds = getattr(args, "seeds", None)
    if seeds is not None and not Path(seeds).is_dir():
        raise UsageError(Diagnostic(f"engine docs : --seeds {seeds} n'est pas un dossier", file=COMMAND_LINE,
                                    code="usage", hint="le dossier des textes sources NN-fichier.txt"))
    res = build_site(list(args.paths or ["specs"]), args.output, seeds if seeds is not None else "auto")
    for w in res.warnings:
        sys.stderr.write(w.format() + "\n")
    n = res.programmes
    sys.stdout.write(f"site écrit dans {res.folder} : {n} page{'s' if n > 1 else ''} de programme, "
                     f"{len([p for p in res.pages if p.endswith('.html')])} pages en tout ; ouvrir "
                     f"{os.path.join(res.folder, 'index.html')}\n")
    return 0
