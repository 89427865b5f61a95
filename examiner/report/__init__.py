"""The court report, Qt-free.

``model`` says what a report contains (plain data), ``builder`` fills it from a case,
``methods`` collects methods text from the analyses' own ``METHOD`` metadata and the codec
manifests, ``bibliography`` reads the bundled BibTeX and numbers citations, ``figures`` makes
the crops and thumbnails, ``pdf`` renders with reportlab, ``pdfa`` post-processes towards
PDF/A-3b, and ``export`` is the entry point the CLI and the GUI share
(``export_report``, ``render_preview_pages``).
"""
