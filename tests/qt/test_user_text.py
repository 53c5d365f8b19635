"""Names the user chose (a run's name, a folder, a picture's file name, an error quoting them) show
exactly as they are: never read as HTML by a label, a WrapText, a message box or a tooltip (Qt's
AutoText shows text as HTML when it merely looks like HTML: ``a<b>c`` was a bold "c")."""

from __future__ import annotations

import shutil

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QTextDocument
from PySide6.QtGui import Qt as QtGuiQt
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QTextEdit, QWidget
from test_latent_page import open_page
from test_latent_picture import DEMO_VAE, garment, wait_pictures
from test_runs_page import _open

from studio.editing.session import file_source
from studio.runs import Run, default_runs_root
from studio.qt.widgets.plain_text import escape, tip
from studio.qt.widgets.wrap_text import WrapText
from tests.qt.test_editing_page import page as edit_page  # noqa: F401 (a fixture: the viewer on its Edit page)
from tests.qt.test_diffusion_page import page as viewer  # noqa: F401 (the fixture edit_page builds on)

NAME = "a<b>c & <i>d"  # a run folder may be named so (Linux, macOS; the CLI's --run-dir)
FILE = "<b>x<i>y.png"  # "<b>x</b>.png" cannot be a file name: it holds a "/"


def rendered(text: str, text_format=Qt.AutoText) -> str:
    """What a label with ``text`` in ``text_format`` shows, as plain text (a tooltip: AutoText)."""
    if text_format == Qt.PlainText or text_format == Qt.AutoText and not QtGuiQt.mightBeRichText(text):
        return text
    document = QTextDocument()
    document.setHtml(text)
    return document.toPlainText()


def shown(widget: QWidget) -> str:
    """The text ``widget`` shows now: a WrapText's or a label's (an ElidedLabel's, cut to its room)."""
    if isinstance(widget, QTextEdit):
        return widget.toPlainText()
    return rendered(QLabel.text(widget), widget.textFormat())


def literal_everywhere(root: QWidget, marker: str) -> list[str]:
    """Every label and tooltip under ``root`` that holds ``marker`` but does not show it: []."""
    wrong = []
    for widget in [root, *root.findChildren(QWidget)]:
        if isinstance(widget, QLabel) and marker in QLabel.text(widget) and marker not in shown(widget):
            wrong.append(f"{type(widget).__name__} {QLabel.text(widget)!r} shows {shown(widget)!r}")
        if marker in widget.toolTip() and marker not in rendered(widget.toolTip()):
            wrong.append(f"tooltip of {type(widget).__name__} {widget.toolTip()!r}")
    return wrong


def guessing_labels(root: QWidget) -> list[str]:
    """Every label under ``root`` outside the Playground page that leaves Qt to guess whether its
    text is HTML (``Qt.AutoText``): []. Each says plain, or rich by choice (``plain_text``)."""
    from studio.qt.panels.playground import PlaygroundPanel

    playground = root.findChildren(PlaygroundPanel)
    return [f"{type(w.parent()).__name__} > QLabel {QLabel.text(w)!r}" for w in root.findChildren(QLabel)
            if w.textFormat() == Qt.AutoText and not any(p.isAncestorOf(w) for p in playground)]


def weird_run(trained_run) -> str:
    path = default_runs_root() / NAME
    shutil.copytree(trained_run("autoencoder", steps=4), path)
    Run.open(path).save_meta(name=NAME)
    return path


def answer_box(seen: list) -> None:
    """When a modal message box opens, note what it shows and close it."""
    def look():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, look)
            return
        seen.append(rendered(box.text(), box.textFormat()))
        box.reject()
    QTimer.singleShot(0, look)


def test_the_helpers_keep_text_as_it_is():
    assert rendered(escape(NAME), Qt.RichText) == NAME and rendered(escape("a\nb"), Qt.RichText) == "a\nb"
    assert rendered(tip(NAME)) == NAME and tip("plain words") == "plain words"  # plain text stays as it was
    text = WrapText(NAME)
    assert text.toPlainText() == NAME and text.text() == NAME
    text.set_rich_text(f"<b>{escape(NAME)}</b>")
    assert text.toPlainText() == NAME and "font-weight" in text.toHtml()


def test_a_run_named_like_html_shows_its_name_on_the_runs_and_train_pages_and_the_status_bar(
        window, qtbot, trained_run, monkeypatch):
    window.resize(1900, 1000)
    path = weird_run(trained_run)
    runs = _open(window, qtbot, path)
    assert runs.title.text() == NAME and runs.path_row.path_text.text() == str(path)
    assert runs.info.text().startswith("autoencoder on fashion-mnist-5k · step 4 of 4 · finished")  # still rich
    assert literal_everywhere(window, "<b>c") == []
    runs.lr.setText("<b>x")  # a refused learning rate: its tooltips quote what was typed
    assert rendered(runs.lr.toolTip()).endswith("(you typed <b>x)") and not runs.resume_button.isEnabled()
    assert rendered(runs.resume_button.toolTip()) == rendered(runs.lr.toolTip())
    runs.lr.setText("")

    # the dialogs about it: the confirmation and an error quoting the name typed
    seen = []
    answer_box(seen)
    assert not runs.confirm("Delete run", f"Delete the run “{NAME}”?", "Delete")
    answer_box(seen)
    monkeypatch.setattr(runs, "ask_new_name", lambda current: "x<b>y")
    runs.rename_button.click()
    assert seen == [f"Delete the run “{NAME}”?",
                    "'x<b>y' is not a usable folder name (avoid / \\ : * ? \" < > |)"]

    # resumed: the Train page's message and the status bar say its name
    posted = []
    window.train.status_posted.connect(lambda line: posted.append((line, shown(window.status),
                                                                   rendered(window.status.toolTip()))))
    runs.extra_steps.setValue(2)
    with qtbot.waitSignal(window.train.run_ended, timeout=60_000):
        runs.resume_button.click()
        assert window.page == "train" and window.train.controls.message.text() == f"Opening {NAME}…"
    named = [p for p in posted if NAME in p[0]]
    assert named and all(line == bar == bar_tip for line, bar, bar_tip in named), posted
    assert literal_everywhere(window, "<b>c") == [] and guessing_labels(window) == []


def test_a_picture_file_named_like_html_shows_its_name_on_the_editing_page(edit_page, qtbot, tmp_path):  # noqa: F811
    page = edit_page
    page.resize(1900, 900)
    path = tmp_path / FILE
    shutil.copy(garment(tmp_path, 1, "trousers.png"), path)
    page.edit.bring(file_source(str(path)))
    qtbot.waitUntil(lambda: page.edit.session.source is not None and page.edit.session.source.name == FILE,
                    timeout=20_000)
    assert FILE in shown(page.message) and "28×28" in shown(page.message), shown(page.message)
    path.write_text("not a picture")
    page.edit.bring(file_source(str(path)))
    qtbot.waitUntil(lambda: page.message.property("role") == "error", timeout=20_000)
    assert FILE in shown(page.message) and "not a readable image" in shown(page.message), shown(page.message)
    assert literal_everywhere(page, "<b>x") == []


def test_a_picture_file_named_like_html_shows_its_name_on_the_latent_page(window, qtbot, tmp_path):
    window.resize(1900, 1000)
    page = open_page(window, qtbot, DEMO_VAE)
    path = tmp_path / FILE
    shutil.copy(garment(tmp_path, 1, "trousers.png"), path)
    page.intake.bring(file_source(str(path)))
    wait_pictures(qtbot, page, 1)
    tool = page.picture
    assert shown(tool.detail).startswith(f"{FILE} · "), shown(tool.detail)
    assert shown(page.pane.caption) == f"your picture · {FILE} · encoded"
    assert rendered(tool.shelf.item(0).toolTip()).startswith(f"{FILE} (")
    assert literal_everywhere(window, "<b>x") == [] and guessing_labels(window) == []


def test_the_latent_maps_legend_shows_a_folder_name_with_an_ampersand(qtbot):
    import numpy as np

    from studio.qt.widgets.latent_map import LatentMap

    latent_map = LatentMap()
    qtbot.addWidget(latent_map)
    names = ["cats & dogs", "<b>birds"]
    latent_map.set_points(np.random.default_rng(0).normal(size=(6, 2)), np.array([0, 0, 0, 1, 1, 1]), names,
                          np.zeros((6, 1, 8, 8), np.uint8))
    entries = [latent_map.legend_layout.itemAt(i).widget() for i in range(2)]
    # what a button shows: its text with each "&&" one "&" and a lone "&" a hidden shortcut marker
    assert [e.text().replace("&&", "\0").replace("&", "").replace("\0", "&") for e in entries] == names
    assert [rendered(e.toolTip()) for e in entries] == [f"Show or hide {n}" for n in names]


def test_a_metric_named_like_html_in_a_runs_file_is_titled_as_it_is(qtbot):
    from studio.qt.widgets.metrics_plot import MetricsPlot

    plot = MetricsPlot()
    qtbot.addWidget(plot)
    plot.set_history([{"step": s, "loss": 1 / s, "<b>x": 2.0} for s in range(1, 5)])
    title = plot.plots["<b>x"].titleLabel
    assert rendered(title.text, Qt.RichText) == "<b>x" and rendered(title.toolTip()) == "<b>x"


def test_no_label_of_the_window_guesses_whether_its_text_is_html(window):
    for key in ("latent", "diffusion", "runs", "playground"):  # each page built
        window.page_widget(key)
        window.show_page(key)
    assert len(window.findChildren(QLabel)) > 60 and guessing_labels(window) == []
