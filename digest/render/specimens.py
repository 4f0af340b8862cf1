"""premailer for the one-element pages the inliner learns from, without redoing what does not change.

premailer reads the stylesheets of every page it is given: it formats each rule's properties
again, and writes the rules it cannot inline (the media queries) back into the <head>, setting
each of their properties anew. On a page made to learn what premailer gives one element, that
was nine tenths of the call, and an edition learns a few dozen kinds of element before its
workers start. Here the rules of a stylesheet are read once, and the <head>, which the learner
never reads, is left without them: the element's attributes are premailer's own.
"""

from __future__ import annotations

from typing import Any

import premailer

_RULES_KEPT = 8  # stylesheets whose rules are kept: an edition's pages have two
# (stylesheet, its place among the page's) -> its rules, and the ones premailer cannot inline
_RULES: dict[tuple[str, int], Any] = {}


class SpecimenPremailer(premailer.Premailer):  # type: ignore[misc]  # premailer has no types
    """premailer with each stylesheet's rules read once, and no rules written back to the <head>."""

    def _parse_style_rules(self, css_body: str, ruleset_index: int) -> Any:
        # The rules depend on the text and its place only (the options are the same every call);
        # premailer copies them into its own list and never changes them.
        key = (css_body, ruleset_index)
        rules = _RULES.get(key)
        if rules is None:
            if len(_RULES) >= _RULES_KEPT:
                _RULES.clear()
            rules = _RULES[key] = super()._parse_style_rules(css_body, ruleset_index)
        return rules

    def _css_rules_to_string(self, rules: Any) -> str:
        return ""  # the media queries of the <head>, which a specimen's reader does not look at
