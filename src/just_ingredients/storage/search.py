"""Full-text search over a user's recipes, English and French.

Text is folded before indexing and querying: lower case, accents removed, ligatures
expanded (œ→oe, æ→ae), so `creme` finds `crème fraîche` and `oeufs` finds `œufs`.

- PostgreSQL: `recipes.search_vector`, a stored generated `tsvector` over the recipe name
  (weight A) and `recipes.search_text` (weight B), each indexed twice: with the `simple`
  configuration and with the recipe's language stemmer (english / french). The text goes
  through `ji_fold()`, an IMMUTABLE wrapper around `unaccent` plus ligature folding (a
  generated column may only call immutable functions). A GIN index serves `@@`.
  Queries are OR-ed over simple, english and french `plainto_tsquery`, ranked by `ts_rank`.
- SQLite: an FTS5 table `recipe_search(name, body)` with rowid = recipe id, tokenizer
  `porter unicode61 remove_diacritics 2`, filled with folded text by the repository in the
  same transaction as the recipe. Ranked by `bm25` (name weighs 10× the body).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_LIGATURES = str.maketrans(
    {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ﬁ": "fi", "ﬂ": "fl", "’": "'"}
)
_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case, ligature-expanded, accent-free text."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.lower()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def body_text(parts: Iterable[str | None]) -> str:
    """The search body stored in `recipes.search_text`: one non-empty part per line."""
    return "\n".join(p.strip() for p in parts if p and p.strip())


def fts5_query(query: str) -> str | None:
    """An FTS5 MATCH expression: every word must appear (quoted, so no query syntax leaks)."""
    tokens = words(query)
    if not tokens:
        return None
    return " ".join(f'"{t}"' for t in tokens)


# --- PostgreSQL ---------------------------------------------------------------------------

PG_QUERY = (
    "(plainto_tsquery('simple'::regconfig, ji_fold(:q))"
    " || plainto_tsquery('english'::regconfig, ji_fold(:q))"
    " || plainto_tsquery('french'::regconfig, ji_fold(:q)))"
)

PG_SEARCH = f"""
WITH q AS (SELECT {PG_QUERY} AS query)
SELECT r.id, ts_rank(r.search_vector, q.query) AS score
FROM recipes r, q
WHERE r.user_id = :owner AND r.search_vector @@ q.query
ORDER BY score DESC, r.id DESC
LIMIT :limit OFFSET :offset
"""

PG_COUNT = f"""
WITH q AS (SELECT {PG_QUERY} AS query)
SELECT count(*) FROM recipes r, q
WHERE r.user_id = :owner AND r.search_vector @@ q.query
"""

# --- SQLite --------------------------------------------------------------------------------

SQLITE_SEARCH = """
SELECT r.id, bm25(recipe_search, 10.0, 1.0) AS score
FROM recipe_search JOIN recipes r ON r.id = recipe_search.rowid
WHERE recipe_search MATCH :q AND r.user_id = :owner
ORDER BY score, r.id DESC
LIMIT :limit OFFSET :offset
"""

SQLITE_COUNT = """
SELECT count(*) FROM recipe_search JOIN recipes r ON r.id = recipe_search.rowid
WHERE recipe_search MATCH :q AND r.user_id = :owner
"""

SQLITE_UPSERT = (
    "INSERT OR REPLACE INTO recipe_search (rowid, name, body) VALUES (:id, :name, :body)"
)
SQLITE_DELETE = "DELETE FROM recipe_search WHERE rowid = :id"
