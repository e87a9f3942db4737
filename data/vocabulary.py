"""The shared vocabulary of the canonical tables: the codes a column may hold.

One list each, imported by data/ (the generator, the importer's targets, the fact
loaders), metrics/ and the dashboard. A leaf module: pure constants, importing nothing of
ours, so that metrics/ may read it without depending on the rest of data/ (see
docs/architecture.md). The schema's CHECK constraints (sql/schema/010_tables.sql) list
the same codes; tests/sql/test_schema.py keeps them in step.
"""

from __future__ import annotations

# cases.channel, contacts.channel, feedback.channel, costs.channel. The order is the
# integer code the *_facts.sql extracts use (0 online ... 5 other): do not reorder.
CHANNELS: tuple[str, ...] = ("online", "mobile_app", "phone", "in_person", "mail", "other")
# Digital take-up counts these as digital; assisted digital (staff keying a case) is not.
DIGITAL_CHANNELS: tuple[str, ...] = ("online", "mobile_app")
PHONE = "phone"
IN_PERSON = "in_person"

# cases.status: a case ends closed (handled) or cancelled (withdrawn or cancelled before it
# was handled), at closed_at either way.
CASE_STATUSES: tuple[str, ...] = ("open", "closed", "cancelled")
OPEN, CLOSED, CANCELLED = CASE_STATUSES

# offices.kind
# An area (a council district, a ward) places requests by where they are, for sources that
# do not say who handled them; it has no queue and no opening hours.
OFFICE_KINDS: tuple[str, ...] = ("service_centre", "contact_centre", "online", "area")
SERVICE_CENTRE, CONTACT_CENTRE, ONLINE_OFFICE, AREA = OFFICE_KINDS
