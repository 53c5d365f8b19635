"""`studio train` says, as the window does, when the batch is larger than the dataset: one
warning line on stderr (``train_words.batch_warning``), and the run trains all the same."""

from __future__ import annotations

from studio.cli import main
from studio.runs import Run


def _train(tmp_path, batch: int) -> Run:
    folder = tmp_path / f"batch-{batch}"
    code = main(["train", "--family", "autoencoder", "--data", "color-shapes", "--size", "10", "--batch-size",
                 str(batch), "--steps", "1", "--set", "width=8", "--set", "latent_dim=4", "--device", "cpu",
                 "--precision", "fp32", "--run-dir", str(folder)])
    assert code == 0
    return Run.open(folder)


def test_a_batch_larger_than_the_dataset_is_a_warning_and_still_trains(tmp_path, capsys):
    run = _train(tmp_path, 16)
    err = capsys.readouterr().err
    line = ("warning: Batch size 16 is larger than the 10 images: each batch repeats every image about 2 times "
            "(more memory and time per step, nothing learned faster); a batch of at most 10 is usual")
    assert line in err.splitlines()
    assert run.status == "finished" and run.step == 1


def test_a_batch_that_fits_says_nothing(tmp_path, capsys):
    _train(tmp_path, 8)
    assert "warning" not in capsys.readouterr().err
