"""The Train page's checks and words, without a window (``studio.train_words``)."""

from __future__ import annotations

from studio.errors import sentence
from studio.models import family_options
from studio.train_words import (CANCELLED_MESSAGE, READY_MESSAGE, batch_warning, idle_line, option_errors,
                                setup_problem)


def test_a_batch_larger_than_the_images_is_said_with_its_repeat_count():
    assert batch_warning(64, 64) is None and batch_warning(64, None) is None and batch_warning(64, 0) is None
    text = batch_warning(1000, 50)
    assert text.startswith("Batch size 1,000 is larger than the 50 images")
    assert "about 20 times" in text and "at most 50 is usual" in text
    assert "about 3 times" in batch_warning(101, 50)  # rounded up: 101 images need 3 passes of 50


def test_what_blocks_any_start_comes_first_torch_then_the_images_then_their_size():
    assert setup_problem("DLL load failed", "no images", 48) == "PyTorch could not be loaded: DLL load failed"
    assert setup_problem(None, "no images in /x", 48) == "The images can't be used: no images in /x"
    assert setup_problem(None, None, 48) == "The images are 48×48 px; choose a size of 28, 32, 64, 128 px under Images"
    assert setup_problem(None, None, 32) is None and setup_problem(None, None, None) is None


def test_each_model_option_is_checked_alone_by_the_core():
    config = family_options("vae").Config
    errors = option_errors(config, {"latent_dim": 0, "width": 32})
    assert list(errors) == ["latent_dim"] and "latent_dim" in errors["latent_dim"]
    assert option_errors(config, {"latent_dim": 16}) == {}


def test_the_idle_line_says_the_first_thing_that_matters():
    assert idle_line("Steps must be at least 1", "big batch", "Loading PyTorch…", "") == (
        "Steps must be at least 1", "warning")
    assert idle_line(None, "big batch", "Loading PyTorch…", "") == ("big batch", "warning")
    assert idle_line(None, None, "Loading PyTorch…", "") == (
        "Loading PyTorch… Start now, and the run begins once that is done.", "muted")
    assert idle_line(None, None, None, "") == (READY_MESSAGE, "muted")
    assert idle_line(None, None, None, "Finished vae-shapes") is None  # the last run's words stay


def test_wording():
    assert sentence("training vae…") == "Training vae…" and sentence("") == ""
    assert sentence("held-out fid at step 3") == "Held-out fid at step 3"
    for name in ("alpha.png, fitted", "my_run3 paused", "cifar10: loading", "./runs/a failed"):  # names keep their case
        assert sentence(name) == name
    assert "nothing was written" in CANCELLED_MESSAGE
