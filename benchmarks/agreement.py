"""Agreement and aggregation at N annotations: the matrix, each coefficient, both aggregators.

    .venv/bin/python benchmarks/agreement.py [--annotations 1000000] [--seed 5]

Synthetic data, fixed seed: 5 annotators, 20 categories, N / 5 items each labeled by all 5.
The true label of an item follows a skewed (Zipf-like) prevalence; each annotator is right
with their own accuracy (0.93, 0.88, 0.84, 0.78, 0.65) and, when wrong, picks from their own
confusion distribution, weighted towards two "neighbouring" categories of the true one (as
people confuse similar classes) with the rest spread over all categories. The annotations
arrive as three shuffled columns (item, annotator, category id), as a query returns them.

Each step is timed once, in this process, with the wall clock; figures include whatever else
runs on the machine (the load average is printed before and after).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from scholia.core.quality.aggregation import dawid_skene, majority_votes
from scholia.core.quality.agreement import (
    annotator_agreement,
    category_counts,
    fleiss_category_kappas,
    fleiss_kappa,
    krippendorff_alpha,
    pairwise_cohen_kappa,
    percent_agreement,
    reliability_data,
)

ANNOTATORS = 5
CATEGORIES = 20
ACCURACIES = (0.93, 0.88, 0.84, 0.78, 0.65)


def synthetic(annotations: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(truth per item, and the item, annotator and category columns, shuffled)."""
    rng = np.random.default_rng(seed)
    items = annotations // ANNOTATORS
    prevalence = 1.0 / np.arange(1, CATEGORIES + 1) ** 0.8
    truth = rng.choice(CATEGORIES, size=items, p=prevalence / prevalence.sum())
    item_column, annotator_column, label_column = [], [], []
    for annotator, accuracy in enumerate(ACCURACIES):
        # Errors: 70% to the two neighbouring categories, 30% anywhere else.
        neighbour = rng.choice([-1, 1], size=items)
        random = rng.integers(0, CATEGORIES, size=items)
        error = np.where(rng.random(items) < 0.7, (truth + neighbour) % CATEGORIES, random)
        right = rng.random(items) < accuracy
        item_column.append(np.arange(items))
        annotator_column.append(np.full(items, annotator))
        label_column.append(np.where(right, truth, error))
    order = rng.permutation(items * ANNOTATORS)
    return (
        truth,
        np.concatenate(item_column)[order],
        np.concatenate(annotator_column)[order],
        np.concatenate(label_column)[order],
    )


def timed(name: str, step: Callable[[], Any], show: Callable[[Any], str] = str) -> Any:
    started = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - started
    print(f"  {name:<50} {seconds:8.3f} s   {show(result)}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotations", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    load_before = os.getloadavg()
    truth, items, annotators, labels = synthetic(args.annotations, args.seed)
    category_ids = list(range(CATEGORIES))
    print(
        f"{len(items):,} annotations: {ANNOTATORS} annotators × {len(truth):,} items, "
        f"{CATEGORIES} categories (seed {args.seed})"
    )
    built = timed(
        "build the observers × units matrix",
        lambda: reliability_data(items, annotators, labels),
        lambda r: f"{r.matrix.shape[0]} × {r.matrix.shape[1]:,}",
    )
    data = built.matrix
    timed("percent agreement", lambda: percent_agreement(data), lambda v: f"{v:.4f}")
    timed(
        "Krippendorff's alpha (nominal)",
        lambda: krippendorff_alpha(data, "nominal"),
        lambda v: f"{v:.4f}",
    )
    table = timed(
        "category counts (items × categories)",
        lambda: category_counts(data, category_ids),
        lambda t: f"{t.shape[0]:,} × {t.shape[1]}",
    )
    timed("Fleiss' kappa", lambda: fleiss_kappa(table), lambda v: f"{v:.4f}")
    timed(
        "Fleiss' per-category kappas",
        lambda: fleiss_category_kappas(table),
        lambda k: f"min {np.nanmin(k):.3f}, max {np.nanmax(k):.3f}",
    )
    timed(
        "Cohen's kappa, all 10 pairs",
        lambda: pairwise_cohen_kappa(data, labels=category_ids),
        lambda m: f"{np.nanmin(m):.3f} to {np.nanmax(m):.3f}",
    )
    timed(
        "per-annotator breakdown",
        lambda: annotator_agreement(data),
        lambda r: " ".join(f"{v:.3f}" for v in r.agreement),
    )
    votes = timed(
        "majority vote, every item",
        lambda: majority_votes(data),
        lambda v: f"{int(v.tie.sum()):,} ties",
    )
    triples = list(zip(items.tolist(), annotators.tolist(), labels.tolist(), strict=True))
    result = timed(
        "Dawid–Skene (from (item, annotator, label) rows)",
        lambda: dawid_skene(triples, labels=category_ids),
        lambda r: f"{r.iterations} iterations, converged {r.converged}",
    )
    order = np.searchsorted(np.asarray(result.units), np.arange(len(truth)))
    estimate = np.argmax(result.posterior[order], axis=1)
    print(
        f"  accuracy against the truth: majority vote {np.mean(votes.labels == truth):.4f} "
        f"(ties count as wrong), Dawid–Skene {np.mean(estimate == truth):.4f}"
    )
    load_after = os.getloadavg()
    print(
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, numpy "
        f"{np.__version__}; load average (1/5/15 min) before {load_before[0]:.2f}/"
        f"{load_before[1]:.2f}/{load_before[2]:.2f}, after {load_after[0]:.2f}/"
        f"{load_after[1]:.2f}/{load_after[2]:.2f}"
    )


if __name__ == "__main__":
    main()
