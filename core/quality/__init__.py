"""Quality measures over annotations, as plain numpy functions that know nothing of tables.

``agreement`` holds the inter-annotator agreement coefficients (percent agreement, Cohen's and
Fleiss' kappa, Krippendorff's alpha) and their per-category and per-annotator breakdowns;
``aggregation`` turns several annotators' labels into one (majority vote, Dawid–Skene);
``statistics`` holds the small tests and intervals the quality signals rest on (Wilson interval,
robust z-score, Jensen–Shannon divergence, test of homogeneity). Callers load the annotations
and pass arrays; a measure over too little data raises ``NotEnoughData`` instead of a number.
"""
