"""The Train page says what "Automatic" precision means for this machine and the chosen family."""

from __future__ import annotations

from studio.engine import devices


def test_automatic_precision_names_the_choice_for_the_chosen_family(window, monkeypatch):
    monkeypatch.setattr(devices, "cpu_has_fast_bf16", lambda: True)  # a CPU with AMX or AVX-512-BF16
    setup = window.train.setup
    setup.family.setCurrentText("vae")  # bf16 measured to keep its quality
    assert setup.precision.itemText(0) == "Automatic (bf16 here)"
    # every family shipped today is shown to hold; a family not (yet) in the list gets fp32
    monkeypatch.setattr(devices, "BF16_PROVEN_FAMILIES", devices.BF16_PROVEN_FAMILIES - {"pixelcnn"})
    setup.family.setCurrentText("pixelcnn")
    assert setup.precision.itemText(0) == "Automatic (fp32 here)"
    monkeypatch.setattr(devices, "cpu_has_fast_bf16", lambda: False)
    setup.family.setCurrentText("vae")
    assert setup.precision.itemText(0) == "Automatic (fp32 here)"
