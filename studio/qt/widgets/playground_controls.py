"""The Playground page's left column: lesson, data (preset, points, noise, brush / eraser) and
the family with its generated options form. It receives the Qt-free ``PlaygroundState``, writes
user choices into it and follows its events (blocking its own echo), napari's QtDims way."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal, Slot
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QPushButton, QScrollArea, QSpinBox, QVBoxLayout, QWidget)

from ...playground import LESSONS, PRESETS, family_names, get_family
from ...playground.datasets import MAX_NOISE, MAX_POINTS, MIN_POINTS
from ...playground.base import described
from ...playground.state import MIN_TRAIN_POINTS, PlaygroundState
from ...specs import as_typed
from .cards import ElidedCombo, set_role
from .param_form import ParamForm, fields_of
from .playground_toolbar import tab_focus_only

CUSTOM = "— your own setup —"
LESSON_LINES = 9  # the lesson text's box, in lines: a longer text scrolls, the controls under it never move


class PlaygroundControls(QWidget):
    tool_changed = Signal(str)  # "brush", "erase" or "" (none)
    options_edited = Signal(str, object)  # one option's name and new value

    def __init__(self, state: PlaygroundState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.lesson = ElidedCombo(objectName="lesson")  # a long title ends in "…", whole in the tooltip
        self.lesson.elide_mode = Qt.ElideRight
        for lesson in LESSONS:
            self.lesson.addItem(lesson.title, lesson.key)
        self.lesson.addItem(CUSTOM, "")  # shown once the family, options or data are no longer the lesson's
        self.lesson.view().setMinimumWidth(max(  # the popup shows whole titles
            self.lesson.fontMetrics().horizontalAdvance(self.lesson.itemText(i)) for i in range(self.lesson.count())) + 32)
        self.lesson_text = QLabel(wordWrap=True, objectName="muted")
        self.lesson_text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.lesson_text.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        # one height whatever the text (they run 5-16 lines): the buttons below stayed in no place
        # (Brush at y = 505, 441, 425, 393 for different lessons; 48 px down on the first stroke)
        self.lesson_box = QScrollArea(widgetResizable=True, frameShape=QScrollArea.NoFrame)
        self.lesson_box.setWidget(self.lesson_text)
        self.lesson_box.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.lesson_text.ensurePolished()  # whole lines of the style sheet's font
        self.lesson_text.setText("<br>".join("x" * LESSON_LINES))
        self.lesson_box.setFixedHeight(self.lesson_text.heightForWidth(1000))

        self.preset = QComboBox()
        for key, (label, _) in PRESETS.items():
            self.preset.addItem(label, key)
        self.preset.addItem("Drawn by hand", "drawn")
        # any whole number may be typed: one out of range is refused with a message, not silently undone
        self.points = QSpinBox(minimum=0, maximum=10 * MAX_POINTS, singleStep=100, value=state.points_count)
        self.noise = QDoubleSpinBox(minimum=-0.01, maximum=MAX_NOISE, singleStep=0.01, decimals=2)
        self.noise.setSpecialValueText("preset's own")
        self.noise.setValue(-0.01)
        self.tools = QButtonGroup(self)
        self.tools.setExclusive(False)
        tool_row = QHBoxLayout()
        for name, text, tip in (("brush", "✎ Brush", "draw points: drag on the plot (right button erases)"),
                                ("erase", "⌫ Erase", "remove points: drag on the plot")):
            button = QPushButton(text, checkable=True, objectName=f"tool_{name}", toolTip=tip)
            button.setProperty("tool", name)
            self.tools.addButton(button)
            tool_row.addWidget(button)
        self.clear = QPushButton("Clear", toolTip="remove every point, to draw from nothing")
        tool_row.addWidget(self.clear)
        data = QGroupBox("Data")
        form = QFormLayout(data)
        form.addRow("Preset", self.preset)
        form.addRow("Points", self.points)
        form.addRow("Noise", self.noise)
        form.addRow(tool_row)
        self.point_count = QLabel(objectName="muted", wordWrap=True)
        form.addRow(self.point_count)

        self.family = QComboBox(objectName="family")
        for name in family_names():
            self.family.addItem(get_family(name).label, name)
        self.paper = QLabel(objectName="muted", wordWrap=True)
        self.form_box = QVBoxLayout()
        self.form: ParamForm | None = None
        model = QGroupBox("Model")
        model_layout = QVBoxLayout(model)
        model_layout.addWidget(self.family)
        model_layout.addWidget(self.paper)
        model_layout.addLayout(self.form_box)

        for combo in (self.lesson, self.preset, self.family):  # long names must not widen the column
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 10, 0)
        layout.addWidget(QLabel("Lesson"))
        layout.addWidget(self.lesson)
        layout.addWidget(self.lesson_box)
        layout.addWidget(data)
        layout.addWidget(model)
        layout.addStretch(1)

        self.lesson.currentIndexChanged.connect(self._on_lesson_current_index_changed)
        self.preset.currentIndexChanged.connect(self._on_preset_current_index_changed)
        self.points.editingFinished.connect(self._on_points_editing_finished)
        self.noise.editingFinished.connect(self._on_points_editing_finished)
        self.tools.buttonToggled.connect(self._on_tools_button_toggled)
        self.clear.clicked.connect(self._on_clear_clicked)
        self.family.currentIndexChanged.connect(self._on_family_current_index_changed)
        state.events.connect("lesson", self._show_lesson)
        state.events.connect("family", self._show_family)
        state.events.connect("data", self._show_data)
        for name in ("family", "data"):  # "your own setup" once they are no longer the lesson's
            state.events.connect(name, lambda *_: self._show_lesson(state.lesson))
        self._show_lesson(state.lesson)
        self._show_family(state.family)
        self._show_data(state.points)
        tab_focus_only(self)

    # --- state → widgets --------------------------------------------------------------------
    def _show_lesson(self, lesson) -> None:
        """The lesson and its text while the setup is the lesson's; otherwise "your own setup" and
        what applies to it: the family's paper and a lesson of that family's what-to-look-for."""
        follows = self.state.follows_lesson
        with QSignalBlocker(self.lesson):
            self.lesson.setCurrentIndex(self.lesson.findData(lesson.key if follows else ""))
        self.lesson_box.verticalScrollBar().setValue(0)
        if follows:
            self.lesson_text.setText(f"<b>{lesson.title}.</b> <b>What to look for.</b> {lesson.text}")
            return
        model = get_family(self.state.family)
        own = next((x for x in LESSONS if x.family == self.state.family), None)
        text = f"<b>Your own setup:</b> {described(self.state.family, self.state.options)}. {model.paper}"
        if own is not None:
            text += f" <b>What to look for</b> (from the lesson “{own.title}”). {own.text}"
        self.lesson_text.setText(text)

    def _show_family(self, family: str) -> None:
        model = get_family(family)
        with QSignalBlocker(self.family):
            self.family.setCurrentIndex(self.family.findData(family))
        self.paper.setText(model.paper)
        if self.form is not None:
            self.form_box.removeWidget(self.form)
            self.form.hide()
            self.form.deleteLater()
        self.form = ParamForm(fields_of(model.Config))
        self.form.set_values(self.state.options)
        self.form.changed.connect(self._on_form_changed)
        tab_focus_only(self.form)
        self.form_box.addWidget(self.form)

    def _show_data(self, points) -> None:
        """The preset, the count (drawn by hand: the points there are, not the preset's count) and,
        with too few points to train and no tool chosen, the brush: what a drag should do then."""
        drawn = self.state.dataset == "drawn"
        with QSignalBlocker(self.preset), QSignalBlocker(self.points):
            self.preset.setCurrentIndex(self.preset.findData(self.state.dataset))
            self.points.setValue(len(points) if drawn else self.state.points_count)
        for field in (self.points, self.noise):
            field.setEnabled(not drawn)
            field.setToolTip("drawn by hand: pick a preset to set its count and noise" if drawn else "")
        if not self.state.trainable and not any(b.isChecked() for b in self.tools.buttons()):
            self.tools.buttons()[0].setChecked(True)  # Brush (emits tool_changed)
        self.point_count.setText(f"{len(points)} points" + ("" if self.state.trainable else
                                                             f" — draw at least {MIN_TRAIN_POINTS} to train"))
        set_role(self.point_count, "muted")

    # --- widgets → state -------------------------------------------------------------------
    @Slot(int)
    def _on_lesson_current_index_changed(self, _index: int) -> None:
        if self.lesson.currentData():
            self.state.apply_lesson(self.lesson.currentData())
        else:  # "your own setup" is what the page shows, not something to pick
            self._show_lesson(self.state.lesson)

    @Slot(int)
    def _on_preset_current_index_changed(self, _index: int) -> None:
        key = self.preset.currentData()
        if key != "drawn":
            self.state.set_preset(key)

    @Slot()
    def _on_points_editing_finished(self) -> None:
        if not MIN_POINTS <= self.points.value() <= MAX_POINTS:
            self.point_count.setText(f"Points must be from {MIN_POINTS} to {MAX_POINTS:,} "
                                     f"({as_typed(self.points.text(), None)}); the data keeps "
                                     f"{self.state.points_count:,}")
            set_role(self.point_count, "error")
            return
        noise = None if self.noise.value() < 0 else self.noise.value()
        if self.state.dataset != "drawn" and (self.points.value(), noise) != (self.state.points_count, self.state.noise):
            self.state.set_preset(self.state.dataset, self.points.value(), noise)

    @Slot(object, bool)
    def _on_tools_button_toggled(self, button, checked: bool) -> None:
        if checked:
            for other in self.tools.buttons():
                if other is not button:
                    with QSignalBlocker(other):
                        other.setChecked(False)
        self.tool_changed.emit(button.property("tool") if checked else "")

    @Slot()
    def _on_clear_clicked(self) -> None:
        self.state.clear()

    @Slot(int)
    def _on_family_current_index_changed(self, _index: int) -> None:
        self.state.set_family(self.family.currentData(), {})

    @Slot()
    def _on_form_changed(self) -> None:
        values = self.form.values()
        changed = [k for k, v in values.items() if self.state.options.get(k, _default(self.state.family, k)) != v]
        live = getattr(get_family(self.state.family), "live_options", ())
        if changed and all(k in live for k in changed):
            self.state.options.update({k: values[k] for k in changed})
            for k in changed:
                self.options_edited.emit(k, values[k])
            self._show_lesson(self.state.lesson)
        elif changed:
            self.state.set_family(self.state.family, {**self.state.options, **{k: values[k] for k in changed}},
                                  self.state.lr)


def _default(family: str, name: str):
    import dataclasses

    return next(f.default for f in dataclasses.fields(get_family(family).Config) if f.name == name)
