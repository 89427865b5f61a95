"""Miscompression Examiner: a forensic workbench for semantic changes made by neural image codecs."""

__version__ = "0.1.0"
APP_NAME = "Miscompression Examiner"
