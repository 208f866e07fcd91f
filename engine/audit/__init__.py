"""Comparing spec versions: reading versions (versions), the normal form (normal_form), canonical expressions (expr_canon), the semantic diff (diff) and its impact on records (impact)."""
