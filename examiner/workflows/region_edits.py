"""Region edits as reversible command objects (Qt-free; the window wraps them in a QUndoCommand).

Every command writes through the region store at once (each write is one transaction in the
case file), so undo and redo are themselves recorded edits in the audit log: nothing an
examiner did disappears from the record, even when it is undone.

Undoing an addition deletes the region, and redoing it adds it again under a new id. Commands
therefore hold a shared :class:`RegionRef` instead of a bare id, and the ref follows the region.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from examiner.core.regions import Region


class RegionStore(Protocol):
    def add_region(self, region: Region) -> Region: ...
    def update_region(self, region: Region) -> object: ...
    def delete_region(self, region_id: int) -> None: ...
    def region(self, region_id: int) -> Region: ...


class LockableStore(RegionStore, Protocol):
    def set_region_locked(self, region_id: int, locked: bool, reason: str = "") -> object: ...


@dataclass
class RegionRef:
    id: int | None


class RefBook:
    """Hands out one :class:`RegionRef` per live region id, re-keyed when ids change."""

    def __init__(self) -> None:
        self._refs: dict[int, RegionRef] = {}

    def ref(self, region_id: int) -> RegionRef:
        r = self._refs.get(region_id)
        if r is None:
            r = self._refs[region_id] = RegionRef(region_id)
        return r

    def rekey(self, ref: RegionRef, new_id: int | None) -> None:
        if ref.id is not None and self._refs.get(ref.id) is ref:
            del self._refs[ref.id]
        ref.id = new_id
        if new_id is not None:
            self._refs[new_id] = ref

    def clear(self) -> None:
        self._refs.clear()


Changed = Callable[[int | None], None]  # called after each do/undo with the region id to select


class RegionCommand:
    """One reversible edit: ``do`` applies it (and re-applies it after an undo), ``undo``
    reverses it. ``text`` names it for an undo menu."""

    text: str = ""

    def do(self) -> None:
        raise NotImplementedError

    def undo(self) -> None:
        raise NotImplementedError


class AddRegionCommand(RegionCommand):
    def __init__(self, store: RegionStore, book: RefBook, region: Region, changed: Changed, text: str = "") -> None:
        self.text = text or f"Add {region.kind.value}"
        self.store, self.book, self.changed = store, book, changed
        self.snapshot = copy.deepcopy(region)
        self.snapshot.id = None
        self.ref = RegionRef(None)

    def do(self) -> None:
        added = self.store.add_region(copy.deepcopy(self.snapshot))
        self.book.rekey(self.ref, added.id)
        self.changed(added.id)

    def undo(self) -> None:
        if self.ref.id is not None:
            self.store.delete_region(self.ref.id)
        self.book.rekey(self.ref, None)
        self.changed(None)


class DeleteRegionCommand(RegionCommand):
    def __init__(self, store: RegionStore, book: RefBook, region_id: int, changed: Changed) -> None:
        self.text = f"Delete region {region_id}"
        self.store, self.book, self.changed = store, book, changed
        self.ref = book.ref(region_id)
        self.snapshot = copy.deepcopy(store.region(region_id))

    def do(self) -> None:
        if self.ref.id is not None:
            self.snapshot = copy.deepcopy(self.store.region(self.ref.id))
            self.store.delete_region(self.ref.id)
        self.book.rekey(self.ref, None)
        self.changed(None)

    def undo(self) -> None:
        snap = copy.deepcopy(self.snapshot)
        snap.id = None
        added = self.store.add_region(snap)
        self.book.rekey(self.ref, added.id)
        self.changed(added.id)


class EditRegionCommand(RegionCommand):
    """Any change of one region's fields (geometry, categories, text, lock), before -> after."""

    def __init__(self, store: RegionStore, book: RefBook, before: Region, after: Region, changed: Changed, text: str) -> None:
        if before.id is None:
            raise ValueError("an edit needs a stored region (one with an id)")
        self.text = text
        self.store, self.book, self.changed = store, book, changed
        self.ref = book.ref(before.id)
        self.before = copy.deepcopy(before)
        self.after = copy.deepcopy(after)

    def _apply(self, state: Region) -> None:
        r = copy.deepcopy(state)
        r.id = self.ref.id
        self.store.update_region(r)
        self.changed(r.id)

    def do(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)


class LockRegionCommand(RegionCommand):
    """Lock a region after review. Undo unlocks it again, and the case records that with a reason."""

    def __init__(self, store: LockableStore, book: RefBook, region_id: int, changed: Changed) -> None:
        self.text = f"Lock region {region_id}"
        self.store, self.book, self.changed = store, book, changed
        self.ref = book.ref(region_id)

    def do(self) -> None:
        if self.ref.id is not None:
            self.store.set_region_locked(self.ref.id, True, "reviewed")
        self.changed(self.ref.id)

    def undo(self) -> None:
        if self.ref.id is not None:
            self.store.set_region_locked(self.ref.id, False, "lock undone by the examiner")
        self.changed(self.ref.id)
