"""The reconciliation of an import: read = loaded + excluded + quarantined, per rule.

It is printed at the end of every import (and of a dry run) and stored as JSON with the
import's record (the ``imports`` table), next to one row per rule in
``import_rule_counts``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reconciliation:
    """Where every row read went."""

    read: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    repaired: dict[str, int] = field(default_factory=dict)  # among the loaded rows
    flagged: dict[str, int] = field(default_factory=dict)  # among the loaded rows
    examples: dict[str, list[str]] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)  # rule -> the mapping's explanation
    # [source] unpivot: read counts cells (a line per unpivoted column), from this many lines
    lines: int | None = None

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated + self.unchanged

    @property
    def excluded_total(self) -> int:
        return sum(self.excluded.values())

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    @property
    def balanced(self) -> bool:
        return self.read == self.loaded + self.excluded_total + self.quarantined_total

    def rule_counts(self) -> list[tuple[str, str, int, str]]:
        """(rule, action, rows, explanation) for every rule that counted something."""
        rows = []
        for action, counts in (("excluded", self.excluded), ("quarantined", self.quarantined),
                               ("repaired", self.repaired), ("flagged", self.flagged)):
            for rule, count in sorted(counts.items()):
                rows.append((rule, action, count, self.why.get(rule, "")))
        return rows

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            **({"lines": self.lines} if self.lines is not None else {}),
            "loaded": self.loaded,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "excluded": dict(sorted(self.excluded.items())),
            "quarantined": dict(sorted(self.quarantined.items())),
            "repaired": dict(sorted(self.repaired.items())),
            "flagged": dict(sorted(self.flagged.items())),
            "balanced": self.balanced,
            "examples": {rule: texts for rule, texts in sorted(self.examples.items()) if texts},
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False)

    def report(self, *, dry_run: bool = False) -> list[str]:
        """The lines printed at the end of an import."""
        verb = "would be " if dry_run else ""
        lines = [
            f"  read         {self.read:>12,}" + (
                f"   (cells: {self.lines:,} lines, one row per unpivoted column)" if self.lines is not None else ""),
            f"  loaded       {self.loaded:>12,}   ({verb}inserted {self.inserted:,}, {verb}updated {self.updated:,}, "
            f"unchanged {self.unchanged:,})",
            f"  excluded     {self.excluded_total:>12,}",
        ]
        lines += self._rules(self.excluded)
        lines.append(f"  quarantined  {self.quarantined_total:>12,}" + ("   (rows kept in import_rejects)" if self.quarantined and not dry_run else ""))
        lines += self._rules(self.quarantined, examples=True)
        sign = "=" if self.balanced else "!="
        lines.append(
            f"  read {sign} loaded + excluded + quarantined: {self.read:,} {sign} {self.loaded:,} + "
            f"{self.excluded_total:,} + {self.quarantined_total:,}"
        )
        if self.repaired:
            lines.append("  repaired (loaded with a corrected value):")
            lines += self._rules(self.repaired)
        if self.flagged:
            lines.append("  flagged (loaded as they are; shown next to the figures they affect):")
            lines += self._rules(self.flagged)
        return lines

    def _rules(self, counts: dict[str, int], *, examples: bool = False) -> list[str]:
        lines = []
        for rule, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            why = self.why.get(rule, "")
            lines.append(f"    {rule:<36} {count:>10,}" + (f"  {why}" if why else ""))
            if examples:
                lines += [f"      e.g. {text}" for text in self.examples.get(rule, [])[:3]]
        return lines
