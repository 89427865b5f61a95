"""Typed, versioned findings (Qt-free): the records a case stores and how they are read back.

:mod:`~examiner.findings.records` defines one dataclass per kind, :mod:`~examiner.findings.schema`
loads stored data into them (migrating older versions) and writes them, and
:mod:`~examiner.findings.artefacts` names the blobs a finding keeps beside its record.
"""
