"""Deliberately damaged copies of good digits, to rehearse what the pipeline does with bad data.

A person simulating "new data arrived, but it is worse" writes a span through one of these, for
example `python -m dataprep digits --shuffle-labels 0.33`: the span passes every schema and
distribution check (the label counts stay exactly the same), and only the Evaluator's comparison
with the serving model can tell that a model trained on it is worse.
"""

from __future__ import annotations

import numpy as np
from absl import logging

from dataprep.digit_set import DigitSet
from dataprep.errors import DataError


def shuffle_labels(digits: DigitSet, fraction: float, seed: int = 0) -> DigitSet:
    """Shuffles the labels among a random share of the rows, as a careless labeller would.

    Args:
        digits: The good digits.
        fraction: Share of the rows whose labels are shuffled among themselves, in [0, 1].
        seed: Seed of the random choice, so a degraded span can be written again identically.

    Returns:
        A copy whose label counts are unchanged; about nine in ten of the chosen rows get
        another digit's label (the rest draw their own label back by chance).

    Raises:
        DataError: fraction is outside [0, 1].
    """
    if not 0.0 <= fraction <= 1.0:
        raise DataError(f'the fraction of shuffled labels must lie in [0, 1], got {fraction}')
    rng = np.random.default_rng(seed)
    chosen = rng.choice(digits.num_examples, round(fraction * digits.num_examples), replace=False)
    labels = digits.labels.copy()
    labels[chosen] = rng.permutation(labels[chosen])
    logging.info(
        'Shuffled the labels of %d of %s rows: %d now carry a wrong label',
        chosen.size,
        f'{digits.num_examples:,}',
        int((labels != digits.labels).sum()),
    )
    return DigitSet(
        images=digits.images,
        labels=labels,
        source=f'{digits.source} with {fraction:.0%} of labels shuffled',
    )
