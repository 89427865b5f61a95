"""The examination steps, Qt-free, shared by the command line and the window.

Each step is split where the window needs it split: ``compute_*`` takes pixels and returns an
outcome made of plain, picklable data (the window runs it in a worker process), and
``record_*`` stores that outcome in a case as a typed finding (the window runs it on its writer
thread). The one-call form (``detect``, ``recompress``, ``variability``, ``symbol_checks``) loads
hash-checked evidence from the case and does both; the CLI's ``--case`` uses it. Because both
front ends go through the same functions, the same run records the same data.
"""
