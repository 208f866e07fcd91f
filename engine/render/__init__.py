"""Output formats: evaluations (evaluation), reports (report), diffs (diff), traces (explain), the JSON Schemas of the outputs (schemas), the documentation site (site)."""
