"""Inter-annotator agreement, one module per coefficient, all over plain numpy arrays.

Data is observers × units (``reliability_data`` builds it from query columns), float, nan for
a missing rating, labels coded as numbers; Fleiss' kappa reads subjects × categories counts
(``category_counts``). Too little data raises ``NotEnoughData`` with the count, never a number.
"""

from .cohen import Weights, cohen_kappa, pairwise_cohen_kappa
from .data import (
    NotEnoughData,
    ReliabilityData,
    as_reliability_data,
    category_counts,
    reliability_data,
)
from .distance import Distance, MatrixDistance, distance_agreement, distance_alpha, rating_pairs
from .fleiss import fleiss_category_kappas, fleiss_kappa
from .krippendorff import LEVELS, Level, coincidences, krippendorff_alpha, presence_alphas
from .percent import (
    AnnotatorAgreement,
    PairwiseAgreement,
    annotator_agreement,
    pairwise_agreement,
    percent_agreement,
    rating_agreement,
)

__all__ = [
    "LEVELS",
    "AnnotatorAgreement",
    "Distance",
    "Level",
    "MatrixDistance",
    "NotEnoughData",
    "PairwiseAgreement",
    "ReliabilityData",
    "Weights",
    "annotator_agreement",
    "as_reliability_data",
    "category_counts",
    "cohen_kappa",
    "coincidences",
    "distance_agreement",
    "distance_alpha",
    "fleiss_category_kappas",
    "fleiss_kappa",
    "krippendorff_alpha",
    "pairwise_agreement",
    "pairwise_cohen_kappa",
    "percent_agreement",
    "presence_alphas",
    "rating_agreement",
    "rating_pairs",
    "reliability_data",
]
