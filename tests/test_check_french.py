"""`engine check` speaks French: no English sentence of PyYAML or jsonschema reaches the user, whatever the fault.

The codes stay the stable English names (asserted here); the wording is checked for the libraries' own phrases.
"""

from __future__ import annotations

import pytest

from engine.errors import SpecError
from engine.spec.schema import validate_data
from engine.spec.yaml_safe import load_yaml

# phrases of PyYAML's and jsonschema's messages: none may appear in what check prints
ENGLISH = ("found ", "expected ", "while scanning", "while parsing", "is not of type", "is a required property",
           "does not match", "is not valid under", "Additional properties", "is too short", "is too long",
           "should be non-empty", "is not one of", "cannot start any token", "but found")


@pytest.mark.parametrize("text,code,words", [
    ('a: "x\\qy"\n', "yaml.syntax", "échappement inconnu 'q'"),
    ("a: &\n", "yaml.syntax", "un nom d'ancre ou d'alias"),
    ("a: [1, 2\nb: 3\n", "yaml.syntax", "une liste entre [ ] n'est pas fermée"),
    ("a: {b: 1}\nd: @x\n", "yaml.syntax", "le caractère '@' ne peut pas commencer une valeur ici"),
    ("a: b: c\n", "yaml.syntax", "« : » inattendu"),
    ("a: 1\na: 2\n", "yaml.duplicate_key", "clé « a » en double"),
    ("a: .nan\n", "yaml.nan", "n'est pas admis"),
    ("- 1\n", "yaml.top_level", "le niveau supérieur doit être une table"),
])
def test_yaml_problems_are_worded_in_french(text, code, words):
    with pytest.raises(SpecError) as info:
        load_yaml("t.yaml", text)
    d = info.value.diagnostics[0]
    assert d.code == code and words in d.message, d.format()
    assert not any(e in d.message for e in ENGLISH), d.message


@pytest.mark.parametrize("text", [
    "id: 3\n",                                     # type
    "kind: spek\n",                                # enum
    "title: Test\nphasess: {}\n",                  # additionalProperties
    "id: t\nversion: 2026.1\n",                    # errorMessage
    "id: t\nphases: {a: {initial: yes}}\n",        # required, type
    "id: t\nvalid_from: 2026-02-30\n",             # format
    "id: t\nterritories: []\n",                    # minItems or the like
    "id: t\ntitle: ''\n",                          # minLength
    "id: t\ninputs: {attributes: {2x: {type: boolean}}}\n",  # propertyNames
])
def test_schema_messages_never_show_jsonschema_english(text):
    diags = validate_data(load_yaml("t.yaml", text))
    assert diags
    for d in diags:
        assert d.code.startswith("schema"), d.code
        assert not any(e in d.message for e in ENGLISH), d.message
        assert " : " in d.message  # "<chemin> : <ce qui est attendu>"
