"""Fleiss' kappa: chance-corrected agreement of many raters on nominal categories (Fleiss 1971).

Reads the subjects × categories table of counts (how many raters put subject i in category j),
so the raters of one subject need not be those of another, but every subject must have the
same number of ratings. κ = (P̄ − P̄ₑ) / (1 − P̄ₑ), chance from the pooled category shares.
Per-category kappas (Fleiss 1971, eq. 20-21) say which categories raters confuse.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .data import FloatArray, NotEnoughData

__all__ = ["fleiss_category_kappas", "fleiss_kappa"]


def _table(counts: npt.ArrayLike) -> tuple[FloatArray, float]:
    """The checked table and its ratings per subject n."""
    table = np.asarray(counts, dtype=np.float64)
    if table.ndim != 2:
        raise ValueError(
            f"counts must be a subjects × categories table (2 dimensions), got {table.ndim}"
        )
    if not np.isfinite(table).all() or (table < 0).any() or (table != np.round(table)).any():
        raise ValueError("counts must hold whole, non-negative numbers of ratings")
    subjects = table.shape[0]
    if subjects < 2:
        raise NotEnoughData(subjects, 2, "subjects")
    per_subject = table.sum(axis=1)
    uneven = np.flatnonzero(per_subject != per_subject[0])
    if uneven.size:
        raise ValueError(
            "every subject needs the same number of ratings for Fleiss' kappa: subject 0 has "
            f"{int(per_subject[0])}, subject {int(uneven[0])} has {int(per_subject[uneven[0]])}"
        )
    n = float(per_subject[0])
    if n < 2:
        raise NotEnoughData(int(n), 2, "ratings per subject")
    return table, n


def fleiss_kappa(counts: npt.ArrayLike) -> float:
    """Fleiss' kappa of a subjects × categories table of rating counts.

    Fewer than two subjects or two ratings per subject, or all ratings in one category
    (chance agreement 1, kappa 0/0), raise NotEnoughData.
    """
    table, n = _table(counts)
    subjects = table.shape[0]
    share = table.sum(axis=0) / (subjects * n)
    if np.count_nonzero(share) < 2:
        raise NotEnoughData(
            int(np.count_nonzero(share)),
            2,
            "categories used",
            "every rating is in one category, so chance agreement is 1 and kappa is 0/0",
        )
    agreement = ((table * table).sum(axis=1) - n) / (n * (n - 1))
    chance = float((share * share).sum())
    return (float(agreement.mean()) - chance) / (1.0 - chance)


def fleiss_category_kappas(counts: npt.ArrayLike) -> FloatArray:
    """Kappa for each category j: agreement on "j or not j" beyond chance (Fleiss 1971).

    κⱼ = 1 − Σᵢ nᵢⱼ(n − nᵢⱼ) / (N n (n − 1) pⱼ qⱼ). A category nobody used (pⱼ = 0) or
    everyone always used (pⱼ = 1) has no chance disagreement to correct for: its entry is
    nan ("undefined"), never a number.
    """
    table, n = _table(counts)
    subjects = table.shape[0]
    share = table.sum(axis=0) / (subjects * n)
    disagreement = (table * (n - table)).sum(axis=0)
    chance = subjects * n * (n - 1) * share * (1 - share)
    with np.errstate(invalid="ignore", divide="ignore"):
        kappas = np.asarray(1.0 - disagreement / chance, dtype=np.float64)
    kappas[chance == 0] = np.nan
    return kappas
