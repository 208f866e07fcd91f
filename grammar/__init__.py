"""The Lark grammar of the expression language (shipped inside the package as engine.grammar)."""
