"""Screening a whole seizure: walk, hash, detect and rank every file, resumably, on Dask.

Qt-free. The pieces: :mod:`.walk` (streaming folder walk that names everything it does not
screen), :mod:`.store` (the SQLite results file with its hash-chained log), :mod:`.tasks` (what
runs on the Dask workers), :mod:`.engine` (the client loop: windows of futures, one writer),
:mod:`.run` (checks before a run or a resume), :mod:`.cluster` (local or existing Dask cluster),
:mod:`.custody` (verification), :mod:`.html_report`, :mod:`.open_case`, :mod:`.progress` and
:mod:`.ranking`.
"""
