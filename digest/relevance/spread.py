"""Where a model's scores of the archive sample lie: each row's median and median absolute deviation.

The thresholds stand on these (see taste.py), for every profile at once: one sort of a block of
rows, the deviations then found by bisection instead of a second sort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def medians_and_deviations(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's median and the median of its absolute deviations from it, as np.median computes
    them, from one sort (SIMD in numpy, faster than its partition): sorted, the deviations are two
    sorted runs, those below the median and those above, and their middle is found by bisection."""
    ordered, half = np.sort(rows, axis=1), rows.shape[1] // 2
    middle = _middle_of_sorted(ordered[:, half - 1], ordered[:, half], rows.shape[1])
    below = (ordered < middle[:, None]).sum(axis=1)
    deviations = _DeviationRuns(ordered, middle, below)
    lower = deviations.smallest(half - 1) if rows.shape[1] % 2 == 0 else None
    return middle, _middle_of_sorted(lower, deviations.smallest(half), rows.shape[1])


def _middle_of_sorted(lower: np.ndarray | None, upper: np.ndarray, count: int) -> np.ndarray:
    """The median from the two middle values of a sorted row (only the upper one counts for an odd count)."""
    if count % 2 or lower is None:
        return upper
    middle: np.ndarray = (lower + upper) / 2
    return middle


@dataclass(frozen=True)
class _DeviationRuns:
    """The absolute deviations of sorted rows from their medians: below[r] of them, the
    deviations of the values under the median, ascend leftwards from there; the rest rightwards."""

    ordered: np.ndarray
    middle: np.ndarray
    below: np.ndarray

    def smallest(self, k: int) -> np.ndarray:
        """Each row's k-th smallest deviation (from 0): take i from the run below and k + 1 - i
        from the one above, the i bisected so that neither run's next value is smaller."""
        width, below = self.ordered.shape[1], self.below
        low, high = np.maximum(0, k + 1 - (width - below)), np.minimum(k + 1, below)
        while (open_ := low < high).any():
            mid = (low + high) // 2
            more = open_ & (self._below(mid) < self._above(k - mid))
            low, high = np.where(more, mid + 1, low), np.where(open_ & ~more, mid, high)
        taken_below = np.where(low > 0, self._below(low - 1), -np.inf)
        taken_above = np.where(k - low >= 0, self._above(k - low), -np.inf)
        return np.maximum(taken_below, taken_above).astype(self.ordered.dtype)

    def _below(self, i: np.ndarray) -> np.ndarray:
        """The i-th smallest deviation of the values under the median (clipped where out of range)."""
        column = np.clip(self.below - 1 - i, 0, self.ordered.shape[1] - 1)
        values: np.ndarray = self.middle - self.ordered[np.arange(len(column)), column]
        return values

    def _above(self, j: np.ndarray) -> np.ndarray:
        """The j-th smallest deviation of the values at or over the median (clipped where out of range)."""
        column = np.clip(self.below + j, 0, self.ordered.shape[1] - 1)
        values: np.ndarray = self.ordered[np.arange(len(column)), column] - self.middle
        return values
