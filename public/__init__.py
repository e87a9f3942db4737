"""The public performance page for citizens: ``python -m public`` (``make run-public``).

It reads one thing: the latest open-data release written by ``python -m metrics publish``
(a folder of CSV files and a ``datapackage.json``, already through disclosure control).
It never connects to the database, so no case, row, unpublished service or unrounded
count can reach it, whatever a visitor does; it needs no sign-in because it holds
nothing that is not already public. See docs/architecture.md.

- ``public.release``: find and read the latest release (pure reading, one-line errors).
- ``public.view``: plain-language sentences, tables and figures from a release (pure).
- ``public.app``: the Streamlit page that lays them out.
"""
