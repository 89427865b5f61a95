"""Preferences: who the examiner is, the default device, and the provisional Texture category."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from examiner.core.settings import Settings


class SettingsDialog(QDialog):
    def __init__(self, parent: QWidget, settings: Settings) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.settings = settings
        form = QFormLayout(self)
        self.examiner = QLineEdit(settings.examiner_name)
        form.addRow("Examiner name", self.examiner)
        self.lab = QLineEdit(settings.lab_name)
        form.addRow("Laboratory", self.lab)
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda"])
        self.device.setCurrentText(settings.device)
        form.addRow("Default device", self.device)
        self.tile_budget = QSpinBox()
        self.tile_budget.setRange(1, 100)
        self.tile_budget.setSuffix(" MP")
        self.tile_budget.setValue(max(1, settings.tile_budget_pixels // 1_000_000))
        form.addRow("Codec tile budget", self.tile_budget)
        self.texture = QCheckBox("Offer the provisional Texture category")
        self.texture.setChecked(settings.texture_category_enabled)
        form.addRow(self.texture)
        note = QLabel(
            "Texture is not a category of the published taxonomy; regions marked with it are "
            "reported as provisional."
        )
        note.setWordWrap(True)
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def apply(self) -> Settings:
        """Copy the fields into the settings object (the caller saves it)."""
        s = self.settings
        s.examiner_name = self.examiner.text().strip()
        s.lab_name = self.lab.text().strip()
        s.device = self.device.currentText()
        s.tile_budget_pixels = int(self.tile_budget.value()) * 1_000_000
        s.texture_category_enabled = self.texture.isChecked()
        return s
