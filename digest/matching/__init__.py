"""Profiles × papers → ranked matches with reasons. Pure: no I/O, no clock.

index.py    folding and spellings of words; PaperIndex: every paper scanned once for every
            spelling any profile asks for
ranking.py  one profile's selection from the index, best first, each paper with its reasons
"""

from .index import (
    FIELDS,
    CompiledProfile,
    PaperIndex,
    Term,
    TermHit,
    compile_profile,
    compile_term,
    fold,
    name_key,
    plural_forms,
    runs,
    word_offsets,
)
from .ranking import LIFT, select, select_top, select_top_with_reasons, select_trending

__all__ = [
    "FIELDS",
    "LIFT",
    "CompiledProfile",
    "PaperIndex",
    "Term",
    "TermHit",
    "compile_profile",
    "compile_term",
    "fold",
    "name_key",
    "plural_forms",
    "runs",
    "select",
    "select_top",
    "select_top_with_reasons",
    "select_trending",
    "word_offsets",
]
