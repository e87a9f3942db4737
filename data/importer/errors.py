"""The one error an import raises for the user."""

from __future__ import annotations

from collections.abc import Iterable


class ImportFailed(ValueError):
    """The import cannot go ahead; the message is one line that says what to do.

    Nothing has been written when it is raised.
    """


def close_matches(word: str, choices: Iterable[str], limit: int = 3) -> list[str]:
    """Up to ``limit`` choices that look like ``word`` (case and spelling slips)."""
    from rapidfuzz import fuzz, process, utils

    pool = list(dict.fromkeys(choices))
    exact = [c for c in pool if c.lower() == word.lower() and c != word]
    found = process.extract(word, pool, scorer=fuzz.WRatio, processor=utils.default_process, limit=limit + 2, score_cutoff=70)
    ranked = exact + [choice for choice, _score, _index in found if choice not in exact and choice != word]
    return ranked[:limit]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean X or Y?)' or an empty string."""
    matches = close_matches(word, choices)
    if not matches:
        return ""
    return " (did you mean " + " or ".join(repr(m) for m in matches) + "?)"
