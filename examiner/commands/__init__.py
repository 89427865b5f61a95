"""CLI sub-commands, one module each; see :mod:`examiner.cli` for the contract."""
