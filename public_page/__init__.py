"""The public performance page for citizens: ``python -m public_page`` (``make run-public``).

It reads one thing: the latest open-data release written by ``python -m metrics publish``
(a folder of CSV files and a ``datapackage.json``, already through disclosure control).
It never connects to the database, so no case, row, unpublished service or unrounded
count can reach it, whatever a visitor does; it needs no sign-in because it holds
nothing that is not already public. See docs/architecture.md.

- ``public_page.release``: find and read the latest release (pure reading, one-line errors).
- ``public_page.view``: plain-language sentences, tables and figures from a release (pure).
- ``public_page.app``: the Streamlit page that lays them out.
"""
