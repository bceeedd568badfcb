"""Text → ingredients (pure library).

`parse_line` reads one ingredient line, `parse_text` a whole list (title, sections, wrapped
lines, instructions left out), `detect_language` tells English from French. Unit spellings
live in `units.toml`; `canonical_unit` maps any of them to its canonical code.
"""

from just_ingredients.parsing.language import detect_language
from just_ingredients.parsing.line import parse_line
from just_ingredients.parsing.text import ParsedText, parse_text
from just_ingredients.parsing.units import UNIT_CODES, canonical_unit, unit_description

__all__ = [
    "UNIT_CODES",
    "ParsedText",
    "canonical_unit",
    "detect_language",
    "parse_line",
    "parse_text",
    "unit_description",
]
