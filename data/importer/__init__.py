"""Importing a department's own exports into the canonical tables.

    python -m data import FILE --mapping NAME_OR_PATH [--dry-run] [--database URL]

The code is organised by concern: ``reading`` (files to batches of raw records),
``mapping`` (the TOML mapping, checked up front), ``fields`` (a mapping's fields over a
batch), ``validating`` (each record's fate), ``staging`` (batches on local disk, repeated
keys, dimension rows), ``loading`` (one transaction into the database) and
``reconciling`` (read = loaded + excluded + quarantined, per rule). ``pipeline`` runs them
in that order.
"""

from data.importer.errors import ImportFailed
from data.importer.mapping import Mapping, known_mappings, load_mapping
from data.importer.pipeline import ImportResult, import_file
from data.importer.reconciling import Reconciliation

__all__ = ["ImportFailed", "ImportResult", "Mapping", "Reconciliation", "import_file", "known_mappings", "load_mapping"]
