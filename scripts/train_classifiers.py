"""Train the small per-dataset classifiers behind FCD, KID and class coverage.

    nice -n 5 .venv/bin/python scripts/train_classifiers.py [--datasets fashion-mnist-5k,...]

Writes resources/classifiers/<dataset>.safetensors (weights only) and <dataset>.json (the
exact command, dataset, test accuracy, sha256). Seeded; a few minutes on a laptop CPU.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.data import load_dataset  # noqa: E402
from studio.engine.devices import autocast_factory  # noqa: E402
from studio.metrics.classifier import (CLASSIFIER_DATASETS, FEATURE_WIDTH, FORMAT, FeatureClassifier,  # noqa: E402
                                       classifier_dir, sha256_of)
from studio.runs import atomic_write_bytes, atomic_write_json  # noqa: E402

# passes over the training split: the procedural sets have 10k easy images, the bundled 5k
EPOCHS = {"fashion-mnist-5k": 24, "mnist-5k": 10, "shapes": 10, "color-shapes": 10}


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random shifts of up to 2 pixels (reflect-padded): a classifier that also sees slightly
    misplaced objects judges generated images more fairly."""
    n, _, h, w = x.shape
    padded = F.pad(x, (2, 2, 2, 2), mode="replicate")
    dx, dy = torch.randint(0, 5, (2,), generator=generator).tolist()
    return padded[:, :, dy:dy + h, dx:dx + w]


def train_one(name: str, seed: int, epochs: int, batch: int = 128, lr: float = 3e-3) -> tuple[FeatureClassifier, dict]:
    train, test = load_dataset(name, split="train", seed=seed), load_dataset(name, split="test", seed=seed)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    device = torch.device("cpu")
    # fp32 on every CPU: the classifiers are the FCD/KID yardstick, and `auto` would now pick bf16
    # on CPUs with AVX-512-BF16 too: the yardstick must not depend on the CPU it is retrained on
    autocast = autocast_factory(device, "fp32")
    model = FeatureClassifier(train.image_shape, train.num_classes)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * (len(train) // batch)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    images = train.images.float().mul_(2 / 255).sub_(1)
    started = time.perf_counter()
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(train), generator=generator)
        for i in range(len(train) // batch):
            index = order[i * batch:(i + 1) * batch]
            with autocast():
                loss = F.cross_entropy(model(augment(images[index], generator)).float(), train.labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
        print(f"  {name}: epoch {epoch + 1}/{epochs}, loss {loss.item():.3f}, {time.perf_counter() - started:.0f} s",
              flush=True)
    model.eval()
    _, predicted = model.embed(test.images)
    accuracy = (predicted == test.labels).float().mean().item()
    return model, {"dataset": name, "split_sizes": {"train": len(train), "test": len(test)},
                   "image_shape": list(train.image_shape), "num_classes": train.num_classes,
                   "label_names": train.label_names, "test_accuracy": round(accuracy, 4),
                   "epochs": epochs, "seed": seed, "train_seconds": round(time.perf_counter() - started, 1),
                   "feature_dim": model.feature_dim}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(CLASSIFIER_DATASETS), help="comma-separated dataset names")
    parser.add_argument("--out", default=str(classifier_dir()), help="output folder (default resources/classifiers)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: on a busy machine more threads only wait on each other)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    command = "python scripts/train_classifiers.py" + "".join(f" {shlex.quote(a)}" for a in argv)
    for name in args.datasets.split(","):
        if name not in EPOCHS:
            parser.error(f"no classifier recipe for {name!r}; choose from {', '.join(EPOCHS)}")
        model, record = train_one(name, args.seed, EPOCHS[name])
        from safetensors.torch import save

        tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
        weights = out / f"{name}.safetensors"
        atomic_write_bytes(weights, save(tensors, metadata={"format": FORMAT, "dataset": name,
                                                            "width": str(FEATURE_WIDTH)}))
        record = {"format": FORMAT, **record, "command": command, "torch": torch.__version__,
                  "weights": weights.name, "sha256": sha256_of(weights)}
        atomic_write_json(out / f"{name}.json", record)
        print(f"{name}: test accuracy {record['test_accuracy']:.2%}, {weights.stat().st_size / 1e3:.0f} kB "
              f"-> {weights}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
