"""The PySide6 front end: the only package that imports Qt."""

from examiner.gui._refcount_guard import install as _install_refcount_guard

# Before any Qt call: see the module for the binding bug this works around.
_install_refcount_guard()
