"""dispositif engine: a declarative rules engine for the Pas-de-Calais social-policy programmes."""

__version__ = "0.1.0"
