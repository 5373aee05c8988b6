"""Train an image classifier on a Scholia dataset version, the way the dataset contract says.

    python examples/train_from_manifest.py VERSION_FOLDER [--epochs 300] [--size 16]

The classes and their order come from ``manifest.json`` (``content.categories``, in display
order), never from folder names or from the order labels happen to appear in: folder names
change when a category is renamed, and sorting them reorders the classes whenever one is added,
so a model's output index would silently mean another class. The manifest's order is fixed by
the version, and its ``labels_hash`` says which label schema the indices refer to.

Before training, the script checks ``records.jsonl`` (one line per item: its files under
``media/`` and its chosen labels as their type's payload) against the sha256 the manifest
records, so it trains on exactly the data the version's content hash vouches for.

The model is deliberately small (softmax regression on downsampled pixels, numpy only): the
point is how to read a version, not the model. Multi-label images are left out (and counted).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image


def load(folder: Path, size: int) -> tuple[list[str], np.ndarray, np.ndarray, int]:
    """Classes in the manifest's order, pixels, class indices, and multi-label images left out."""
    manifest = json.loads((folder / "manifest.json").read_text())
    content = manifest["content"]
    recorded = content["files"]["records.jsonl"]
    actual = hashlib.sha256((folder / "records.jsonl").read_bytes()).hexdigest()
    if actual != recorded:
        raise SystemExit(
            f"records.jsonl does not match the manifest (sha256 {actual}, manifest says "
            f"{recorded}): the version was changed after it was written"
        )
    categories = sorted(content["categories"], key=lambda c: c["display_order"])
    classes = [c["name"] for c in categories]
    index = {c["id"]: n for n, c in enumerate(categories)}

    pixels, targets, multi = [], [], 0
    with (folder / "records.jsonl").open() as lines:
        for line in lines:  # one item a line, its chosen labels as their type's payload
            record = json.loads(line)
            found = [
                index[category_id]
                for label in record["labels"]
                if label["annotation_type"] == "classification"
                for category_id in label["payload"]["category_ids"]
                if category_id in index
            ]
            if len(found) != 1:
                multi += len(found) > 1
                continue
            (media,) = record["item"]["files"]
            with Image.open(folder / media["path"]) as picture:
                small = picture.convert("RGB").resize((size, size))
            pixels.append(np.asarray(small, dtype=np.float32).ravel() / 255.0)
            targets.append(found[0])
    if not pixels:
        raise SystemExit("the version holds no single-label image to train on")
    return classes, np.stack(pixels), np.array(targets), multi


def train(x: np.ndarray, y: np.ndarray, classes: int, epochs: int) -> np.ndarray:
    """Softmax regression by full-batch gradient descent; returns the weights (bias last)."""
    x = np.hstack([x, np.ones((len(x), 1), dtype=x.dtype)])
    weights = np.zeros((x.shape[1], classes), dtype=np.float64)
    onehot = np.eye(classes)[y]
    for _ in range(epochs):
        logits = x @ weights
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        weights -= 0.5 * x.T @ (probabilities - onehot) / len(x)
    return weights


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("version", type=Path, help="a dataset version's folder")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--size", type=int, default=16, help="images are resized to SIZE×SIZE")
    args = parser.parse_args(argv)

    classes, x, y, multi = load(args.version, args.size)
    print("classes (manifest order): " + ", ".join(f"{n}={c}" for n, c in enumerate(classes)))
    counts = np.bincount(y, minlength=len(classes))
    print(
        "images per class: " + ", ".join(f"{c} {k}" for c, k in zip(classes, counts, strict=True))
    )
    if multi:
        print(f"left out: {multi} multi-label images")
    weights = train(x, y, len(classes), args.epochs)
    predicted = (np.hstack([x, np.ones((len(x), 1))]) @ weights).argmax(axis=1)
    print(f"training accuracy: {(predicted == y).mean():.3f} on {len(y)} images")


if __name__ == "__main__":
    main(sys.argv[1:])
