"""Widget mechanics: debiased smoothing, the preview history, the generated form."""

from __future__ import annotations

import numpy as np
from PIL import Image

from studio.models import get_family
from studio.qt.widgets.image_view import PreviewStrip
from studio.qt.widgets.curve_data import Series, debiased_ema
from studio.qt.widgets.metrics_plot import MetricsPlot
from studio.qt.widgets.param_form import ParamForm, fields_of


def test_debiased_ema_starts_at_the_first_value_and_matches_incremental_smoothing():
    values = np.array([10.0, 8.0, 9.0, 4.0, 5.0, 3.0])
    smoothed = debiased_ema(values, 0.9)
    assert smoothed[0] == 10.0  # no pull towards zero at the start
    ema, expected = 0.0, []
    for t, x in enumerate(values, 1):
        ema = 0.9 * ema + 0.1 * x
        expected.append(ema / (1 - 0.9 ** t))
    np.testing.assert_allclose(smoothed, expected)
    series = Series(0.9)
    series.extend([(i, 0.0, v) for i, v in enumerate(values[:2])])
    series.extend([(i, 0.0, v) for i, v in enumerate(values[2:], 2)])
    np.testing.assert_allclose(series.smoothed, expected)
    series.set_weight(0.5)
    np.testing.assert_allclose(series.smoothed, debiased_ema(values, 0.5))
    series.extend([(6, 0.0, 1.0)])
    np.testing.assert_allclose(series.smoothed, debiased_ema(np.append(values, 1.0), 0.5))


def test_metrics_plot_one_plot_per_metric_and_test_points_join_their_metric(qtbot):
    plot = MetricsPlot()
    qtbot.addWidget(plot)
    plot.add_records([(s, s / 10, {"loss": 1 / s, "kl": 2.0}) for s in range(1, 2001)])
    plot.add_records([(2000, 200.0, {"test/kl": 1.5, "test/other": 3.0})])
    plot.redraw()
    assert list(plot.plots) == ["loss", "kl", "test/other"]
    assert plot.series["loss"].n == 2000 and plot.series["test/kl"].n == 1
    plot.x_axis.setCurrentIndex(1)
    plot.redraw()
    assert plot.curves["loss"][1].xData[-1] == 200.0  # wall time on x
    plot.clear()
    assert not plot.plots and not plot.series


def test_preview_strip_steps_through_the_last_ten_and_saves(qtbot, tmp_path):
    strip = PreviewStrip("empty")
    qtbot.addWidget(strip)
    for step in range(1, 13):
        strip.add(step * 100, np.full((6, 6, 1), step, np.uint8))
    assert len(strip.history) == 10 and strip.current()[0] == 1200
    strip.back.click()
    strip.back.click()
    assert strip.current()[0] == 1000
    strip.add(1300, np.zeros((6, 6, 1), np.uint8))  # the user looks at an older one: it stays
    assert strip.current()[0] == 1000
    strip.save(str(tmp_path / "grid"))
    assert Image.open(tmp_path / "grid.png").size == (24, 24)


def test_the_form_follows_the_config_metadata(qtbot):
    config = get_family("autoencoder").Config
    form = ParamForm(fields_of(config))
    qtbot.addWidget(form)
    assert set(form.editors) == {"latent_dim", "width", "norm", "latent_momentum", "denoise"}
    assert form.values() == {"latent_dim": 32, "width": 64, "norm": "batch", "latent_momentum": 0.02, "denoise": 0.0}
    assert "size of the bottleneck code" in form.editors["latent_dim"].toolTip().lower()
    assert "2 to 512" in form.editors["latent_dim"].toolTip()
    form.set_values({"norm": "group", "latent_momentum": 0.5})
    assert form.values()["norm"] == "group" and form.values()["latent_momentum"] == 0.5


def test_a_tooltip_starting_with_a_symbol_keeps_it(qtbot):
    """Help text is made a sentence by the one rule (errors.sentence): "λ, the weight …" stays
    λ (str.upper made it the Greek capital Λ, another symbol), a plain word is capitalised."""
    form = ParamForm(fields_of(get_family("wgan-gp").Config))
    qtbot.addWidget(form)
    assert form.editors["gp_weight"].toolTip().startswith("λ, the weight of the gradient penalty")
    assert form.editors["n_critic"].toolTip()[:1].isupper()


def _type(qtbot, editor, text: str) -> None:
    editor.lineEdit().selectAll()
    qtbot.keyClicks(editor.lineEdit(), text)
    editor.interpretText()


def test_a_numeric_fields_error_names_what_was_typed_and_the_limits(qtbot):
    """1e-400 reads as 0.0: the message said "got 0.0". Every numeric field of a generated form
    now names what the user typed and the allowed values, whatever check (the spec's, a
    config's) refused it; and a float field keeps small values (5e-13 was rounded to 0)."""
    from studio.errors import SpecError
    from studio.models import config_from_dict
    from studio.qt.widgets.param_form import FieldSpec
    from studio.specs import check_lr

    config = get_family("autoencoder").Config
    form = ParamForm([FieldSpec("lr", 1e-3, 0.0, 1.0, label="Learning rate", open_minimum=True),
                      *fields_of(config)])
    qtbot.addWidget(form)
    lr, momentum, width = (form.editors[n] for n in ("lr", "latent_momentum", "width"))
    _type(qtbot, lr, "5e-13")
    assert form.values()["lr"] == 5e-13
    _type(qtbot, lr, "1e-400")
    _type(qtbot, momentum, "2e5")
    _type(qtbot, width, "4")
    values = form.values()
    assert values["lr"] == 0.0 and lr.text() == "1e-400"  # still shows what was typed
    errors = {}
    try:
        check_lr(values["lr"])
    except SpecError as exc:
        errors["lr"] = exc.worded({"lr": "Learning rate"})
    for name in ("latent_momentum", "width"):
        try:
            config_from_dict(config, {name: values[name]})
        except ValueError as exc:
            errors[name] = str(exc)
    shown = form.set_errors(errors)
    assert shown == {"lr": "Learning rate must be above 0 and at most 1 (you typed 1e-400, which reads as 0)",
                     "latent_momentum": "Latent momentum must be from 0.0001 to 1 (you typed 2e5)",
                     "width": "Width must be from 8 to 512 (you typed 4)"}
    assert form.errors["lr"].text() == shown["lr"] and not form.errors["lr"].isHidden()
    assert form.set_errors({"norm": "norm='x' is not one of batch, group"}) == \
        {"norm": "norm='x' is not one of batch, group"}  # not a number: the check's own words


def test_the_train_pages_learning_rate_says_what_was_typed(window, qtbot):
    """The Train page's learning rate: 1e-400 (which reads as 0) is refused naming what was typed
    and the range, under the field and as the reason Start is blocked (it said "got 0.0")."""
    setup = window.train.setup
    _type(qtbot, setup.training_form.editors["lr"], "1e-400")
    expected = "Learning rate must be above 0 and at most 1 (you typed 1e-400, which reads as 0)"
    assert setup.validate() == expected
    assert setup.training_form.errors["lr"].text() == expected
    assert setup.mark_field("lr", "lr must be a number in (0, 1] (got 0.0)") == expected
