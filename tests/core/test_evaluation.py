"""The ensemble average used by the evaluate stage and the benchmarks."""

from __future__ import annotations

import numpy as np
import pytest

from callcenterai.errors import UserError
from callcenterai.evaluation import average_probabilities


def test_columns_are_aligned_by_label_name_before_averaging():
    first = (["b", "a", "c"], np.array([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]]))
    second = (["a", "c", "b"], np.array([[0.1, 0.1, 0.8], [0.25, 0.25, 0.5]]))
    labels, mean = average_probabilities([first, second])
    assert labels == ["a", "b", "c"]
    # row 0: a (0.7, 0.1), b (0.2, 0.8), c (0.1, 0.1)
    assert np.allclose(mean, [[0.4, 0.5, 0.1], [0.25, 0.5, 0.25]])


def test_models_with_different_labels_are_refused_by_name():
    with pytest.raises(UserError, match=r"different labels: \['a', 'b'\] and \['a', 'z'\]"):
        average_probabilities([(["a", "b"], np.ones((1, 2))), (["z", "a"], np.ones((1, 2)))])
