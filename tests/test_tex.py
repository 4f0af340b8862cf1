"""TeX in titles and abstracts, made readable: simple maths becomes Unicode, the rest stays."""

from __future__ import annotations

import pytest

from digest.render.tex import readable_tex


@pytest.mark.parametrize(
    ("tex", "readable"),
    [
        ("$\\alpha$-stable", "α-stable"),
        ("$x_n$ and $a_{n+1}$", "xₙ and aₙ₊₁"),
        ("$O(n^2)$ time", "O(n²) time"),
        ("costs $5 and $6", "costs $5 and $6"),  # prices, not maths
    ],
)
def test_simple_maths_becomes_unicode(tex: str, readable: str) -> None:
    assert readable_tex(tex) == readable
