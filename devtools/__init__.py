"""Tools for developers, shared by the tests and the benchmarks (neither imports the other):
``devtools.serving`` serves the dashboard on a free port and drives it in Chromium."""
