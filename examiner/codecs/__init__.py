"""Qt-free codec API and codec-pack discovery (imported as ``examiner.codecs``)."""
