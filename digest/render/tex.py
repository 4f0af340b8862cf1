"""Simple TeX maths as Unicode, for reading in an email: `$\\alpha$-stable` → `α-stable`.

Only inline maths made entirely of symbols we know, letters, digits, operators and single
digit super- or subscripts is converted; anything richer stays as written, which readers of
arXiv abstracts are used to.
"""

from __future__ import annotations

import re

SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ",
    "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
    "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ",
    "Omega": "Ω", "infty": "∞", "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠",
    "ne": "≠", "approx": "≈", "sim": "∼", "times": "×", "cdot": "·", "pm": "±", "to": "→",
    "rightarrow": "→", "leftarrow": "←", "ell": "ℓ", "partial": "∂", "nabla": "∇", "in": "∈",
    "sqrt": "√", "ldots": "…", "dots": "…", "log": "log", "ln": "ln", "exp": "exp",
}  # fmt: skip
SUPERSCRIPTS = str.maketrans("0123456789+-n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ⁿ")
SUBSCRIPTS = str.maketrans("0123456789+-n", "₀₁₂₃₄₅₆₇₈₉₊₋ₙ")

# Maths hugs its dollars ("$x$"); prices do not ("costs $5 and $6").
_INLINE = re.compile(r"(?<![\\$])\$(\S(?:[^$]{0,58}\S)?)\$")
_COMMAND = re.compile(r"\\([A-Za-z]+)")
FUNCTIONS = {"log", "ln", "exp"}
_SCRIPT = re.compile(r"([\^_])(?:\{([0-9+\-n]{1,3})\}|([0-9n]))")
_PLAIN = re.compile(r"[\w\s.,;:()\[\]=+\-<>/|'!%*·×±→←∞≤≥≠≈∼ℓ∂∇∈√…⁰-⁹⁺⁻ⁿ₀-₉₊₋ₙα-ωΓ-Ω]*")


def readable_tex(text: str) -> str:
    """Every simple `$…$` in `text` as Unicode; the rest untouched."""
    return _INLINE.sub(_convert, text) if "$" in text else text


def _convert(match: re.Match[str]) -> str:
    maths = match.group(1)
    unknown = [name for name in _COMMAND.findall(maths) if name not in SYMBOLS]
    if unknown:
        return match.group(0)
    converted = _COMMAND.sub(_symbol, maths)
    converted = _SCRIPT.sub(_script, converted)
    if not _PLAIN.fullmatch(converted):
        return match.group(0)  # braces, fractions, matrices: keep the source
    return " ".join(converted.split())


def _symbol(match: re.Match[str]) -> str:
    name = match.group(1)
    return f"{SYMBOLS[name]} " if name in FUNCTIONS else SYMBOLS[name]


def _script(match: re.Match[str]) -> str:
    body = match.group(2) or match.group(3)
    return body.translate(SUPERSCRIPTS if match.group(1) == "^" else SUBSCRIPTS)
