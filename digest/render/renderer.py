"""Digest → subject, HTML and plain text (Jinja2 templates, Markdown notes, premailer inlining)."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import jinja2
import markdown
import nh3
import premailer
from markupsafe import Markup, escape

from ..models import Digest, Links, Match, RenderedDigest
from .filters import safe_url, short_authors, wrap
from .inline import Ancestors, CannotInline, Inliner, same_document
from .memo import make_room
from .specimens import SpecimenPremailer
from .tex import readable_tex
from .text_blocks import PAPER_TEXT, CannotDefer, TextBlocks, fill_in
from .views import ABSTRACT_CHARS, PaperView, Pieces, paper_view

log = logging.getLogger("digest.render")

HTML_TEMPLATE = "digest.html.j2"
TEXT_TEMPLATE = "digest.txt.j2"
PAPER_HTML = "paper.html.j2"
SHORT_ABSTRACT_CHARS = 220  # when the digest is over its size budget
HTML_BUDGET = 100 * 1024  # Gmail clips messages past about 102 KB
CONTENTS_FROM = 5  # a digest of more papers than this opens with a list of their titles

# Markdown written by operators may still be edited by others over time: keep it to text markup.
_NOTE_TAGS = {"p", "a", "em", "strong", "code", "ul", "ol", "li", "br", "blockquote", "h3", "h4"}


def default_templates_dir() -> Path:
    """The templates shipped with digest: inside an installed wheel, or beside a source tree."""
    package = Path(__file__).parent.parent
    installed = package / "templates"
    return installed if installed.is_dir() else package.parent / "templates"


def environments(
    templates_dir: Path | None, reload: bool = True
) -> tuple[jinja2.Environment, jinja2.Environment]:
    """Jinja for HTML (autoescaped) and for text, over the shipped templates and, overriding
    them file by file, an operator's folder. `reload`: a template whose file changed is read
    again (else each is read once)."""
    folders = [str(p) for p in (templates_dir, default_templates_dir()) if p is not None]
    loader = jinja2.FileSystemLoader(folders)
    made = []
    for autoescape in (True, False):
        env = jinja2.Environment(
            loader=loader, autoescape=autoescape, undefined=jinja2.StrictUndefined, auto_reload=reload
        )
        env.filters.update(authors=short_authors, safe_url=safe_url)
        made.append(env)
    return made[0], made[1]


class Renderer:
    """Renders digests with one set of templates; build it once per run."""

    def __init__(
        self, site_title: str, templates_dir: Path | None = None, fast_inline: bool = True,
        reload_templates: bool = True,
    ) -> None:  # fmt: skip
        """`reload_templates`: False to render with the templates as first read, as an edition
        does (checking each template's file for changes was a system call per template and email)."""
        self.site_title = site_title
        self.html_env, self.text_env = environments(templates_dir, reload_templates)
        for env in (self.html_env, self.text_env):
            env.filters["wordwrap"] = wrap
        learn = functools.partial(inline_styles, kind=SpecimenPremailer)
        self.inliner = Inliner(inline_styles, learn) if fast_inline else None
        self.checked = False
        text_env = environments(templates_dir, reload_templates)[1]
        self.text_blocks = TextBlocks(text_env) if fast_inline else None
        self._blocks: dict[tuple[Any, ...], tuple[str, dict[str, str]]] = {}
        self._filled: dict[tuple[Any, ...], tuple[str, ...]] = {}
        self._views: dict[tuple[Any, ...], PaperView] = {}
        # Fast paths the templates turned off, by template, with the reason: `digest check` reports them.
        self.slow_paths: dict[str, str] = {}

    def render(
        self, digest: Digest, links: Links, intro: str | None = None, footer: str | None = None,
        web_view: bool = False,
    ) -> RenderedDigest:  # fmt: skip
        """Subject, HTML and text of a digest, the HTML of an email kept under the size budget.

        `web_view`: the digest's page on the web, which has no budget and links to no web page."""
        notes = {"intro": intro, "footer": footer}
        abstract_chars = ABSTRACT_CHARS
        context = self._context(digest, links, notes, abstract_chars) | {"web_view": web_view}
        html, blocks = self._html(context)
        while (size := budget_size(html)) > HTML_BUDGET and digest.matches and not web_view:
            if abstract_chars > SHORT_ABSTRACT_CHARS:
                abstract_chars = SHORT_ABSTRACT_CHARS  # first shorten every abstract...
            else:
                digest = _fewer(digest, size)  # ...then move papers to "N more"
            context = self._context(digest, links, notes, abstract_chars)
            html, blocks = self._html(context)
        recurring: list[str] = []
        context["paper_text"] = functools.partial(self._paper_text, votes=links.votes, recurring=recurring)
        return RenderedDigest(
            subject=subject_line(self.site_title, digest),
            html=html,
            text=self.text_env.get_template(TEXT_TEMPLATE).render(context).strip() + "\n",
            digest=digest,
            recurring_html=tuple(blocks),
            recurring_text=tuple(recurring),
        )

    def _html(self, context: dict[str, Any]) -> tuple[str, list[str]]:
        """The email's HTML, and the pieces of it that other emails share (its head, paper blocks)."""
        if self.inliner is None:
            return inline_styles(self._page(context)), []
        try:
            html, blocks = self._fast_html(self.inliner, context)
        except CannotInline as reason:
            self._slow(PAPER_HTML, f"styles inlined by premailer for every email: {reason}")
            self.inliner = None
            return inline_styles(self._page(context)), []
        if not self.checked:  # the first email is made both ways: they must agree
            self.checked = True
            slow = inline_styles(self._page(context))
            if not same_document(html, slow):
                self._slow(PAPER_HTML, "the fast inliner disagrees with premailer on this paper block")
                self.inliner = None
                return slow, []
        return html, blocks

    def _fast_html(self, inliner: Inliner, context: dict[str, Any]) -> tuple[str, list[str]]:
        """The email with each paper block made once per paper and filled in for this reader;
        and the pieces of it other emails share, in order."""
        order: list[PaperView] = []
        votes: Mapping[str, str] = context["links"].votes

        def slot(item: PaperView) -> Markup:
            order.append(item)
            return Markup(f"<!--dgstslot{len(order) - 1}-->")

        blocks: list[str] = []

        def expand(number: int, ancestors: Ancestors) -> str:
            item = order[number]
            vote = votes.get(item.paper.id)
            pieces = self._block(inliner, item, ancestors, vote is not None)
            blocks.extend(pieces)
            return str(escape(vote or "")).join(pieces)

        page = self.html_env.get_template(HTML_TEMPLATE).render({**context, "paper_html": slot})
        html = inliner.inline(page, expand)
        return html, [inliner.head(), *blocks]  # every email of the edition has this <head>

    def _block(self, inliner: Inliner, item: PaperView, ancestors: Ancestors, votes: bool) -> tuple[str, ...]:
        """A paper block: rendered and inlined once per paper, with its highlights and reasons
        put in for each reader. Its vote links differ for every reader: the block comes in the
        pieces around them, which other readers' emails share."""
        shape = (bool(item.abstract), bool(item.abstract_rest), bool(item.reasons))
        key = (item.paper.id, shape, item.trimmed, ancestors, votes)
        # Readers matched by the same terms get the same block: fill it in once for all of them.
        filled = (key, item.title, item.abstract, item.reasons)  # head and rest follow from the abstract
        pieces = self._filled.get(filled)
        if pieces is None:
            if key not in self._blocks:
                self._blocks[key] = self._marked_block(inliner, item, ancestors, votes)
            block, hit = self._blocks[key]
            make_room(self._filled)
            values = {
                "title": _highlighted(item.title, hit.get("title", "")),
                "abstract": _highlighted(item.abstract, hit.get("abstract", "")),
                "head": _highlighted(item.abstract_head, hit.get("head", "")),
                "rest": _highlighted(item.abstract_rest, hit.get("rest", "")),
                "why": str(escape("; ".join(item.reasons))),
            }  # in one pass: a stand-in written in a paper's own text stays as written
            around = block.split(_MARK["vote"])  # before filling in: a paper's text may hold the stand-in
            pieces = tuple(_MARKS.sub(lambda found: values[found[1]], p) for p in around)
            self._filled[filled] = pieces
        return pieces

    def _marked_block(
        self, inliner: Inliner, item: PaperView, ancestors: Ancestors, votes: bool
    ) -> tuple[str, dict[str, str]]:
        """A paper block inlined with stand-ins where readers differ, and the start tag of its
        highlights in each field that has them."""
        marked = replace(
            item,
            title=_marked("title"),
            abstract=_marked("abstract") if item.abstract else (),
            abstract_head=_marked("head") if item.abstract else (),
            abstract_rest=_marked("rest") if item.abstract_rest else (),
            reasons=(_MARK["why"],) if item.reasons else (),
        )
        vote = _MARK["vote"] if votes else None
        raw = self.html_env.get_template(PAPER_HTML).render(item=marked, vote=vote)
        block, where = inliner.inline_fragment(raw, ancestors)
        hit: dict[str, str] = {
            m: inliner.start_tag(where[m], "span", {"class": "hit"})
            for m in ("title", "abstract", "head", "rest")
            if m in where
        }
        return block, hit

    def _slow(self, template: str, reason: str) -> None:
        log.warning("%s: %s", template, reason)
        self.slow_paths[template] = reason

    def _page(self, context: dict[str, Any]) -> str:
        paper_html = self.html_env.get_template(PAPER_HTML)
        votes: Mapping[str, str] = context["links"].votes

        def block(item: PaperView) -> Markup:
            return Markup(paper_html.render(item=item, vote=votes.get(item.paper.id)))

        context = {**context, "paper_html": block}
        return self.html_env.get_template(HTML_TEMPLATE).render(context)

    def _view(self, match: Match, abstract_chars: int) -> PaperView:
        """paper_view, once per paper, reasons and length: many subscribers share them."""
        key = (match.paper.id, match.reasons, abstract_chars)  # hashing reasons costs: looked up once
        view = self._views.get(key)
        if view is None:
            make_room(self._views)
            view = self._views[key] = paper_view(match, abstract_chars)
        return view

    def _paper_text(
        self, item: PaperView, number: int, votes: Mapping[str, str], recurring: list[str] | None = None
    ) -> str:
        """A paper of the text part; the pieces of it other emails share are added to `recurring`."""
        vote = votes.get(item.paper.id)
        if self.text_blocks is not None:
            try:
                block = self.text_blocks.block(item, number, vote is not None)
                if recurring is not None:
                    recurring += block[0]
                return fill_in(block, {"number": str(number), "vote": vote or ""})
            except CannotDefer as reason:
                self._slow(PAPER_TEXT, f"text blocks rendered for each subscriber: {reason}")
                self.text_blocks = None
        return self.text_env.get_template(PAPER_TEXT).render(item=item, number=number, vote=vote)

    def _context(
        self, digest: Digest, links: Links, notes: dict[str, str | None], abstract_chars: int
    ) -> dict[str, Any]:
        return {
            "site_title": self.site_title,
            "digest": digest,
            "edition": digest.edition.strftime("%A, %d %B %Y"),
            "papers": [self._view(m, abstract_chars) for m in digest.matches],
            "trending": [self._view(m, SHORT_ABSTRACT_CHARS) for m in digest.trending],
            "preheader": "; ".join(readable_tex(m.paper.title) for m in digest.matches[:3]),
            "links": links,
            "note_html": markdown_html(digest.profile.note),
            "intro": notes["intro"],
            "intro_html": markdown_html(notes["intro"]),
            "footer": notes["footer"],
            "footer_html": markdown_html(notes["footer"]),
            "contents_from": CONTENTS_FROM,
            "web_view": False,
        }


def budget_size(html: str) -> int:
    """The HTML's size in bytes, a quote written as an entity counted as the character. The fast
    inliner keeps Jinja's `&#39;` where premailer writes `'`: counted so, both cut a digest at the
    same paper; the real size is at most a few hundred bytes more, well within Gmail's 102 KB."""
    return len(html.rstrip().encode()) - 4 * quote_entities(html)


def quote_entities(html: str) -> int:
    """`html.count("&#39;") + html.count("&#34;")`, sooner: a page holds a few dozen "&", and
    str.count skips along a needle by its last character, a ";" that inlined styles are full of."""
    count, at = 0, html.find("&")
    while at >= 0:
        count += html.startswith(("&#39;", "&#34;"), at)
        at = html.find("&", at + 1)
    return count


def _fewer(digest: Digest, size: int) -> Digest:
    """The digest with its last papers moved to "N more", in proportion to the excess."""
    keep = min(len(digest.matches) - 1, int(len(digest.matches) * HTML_BUDGET * 0.9 / size))
    keep = max(keep, 0)
    return replace(digest, matches=digest.matches[:keep], more=digest.more + len(digest.matches) - keep)


def subject_line(site_title: str, digest: Digest) -> str:
    terms = list(dict.fromkeys(r.term for m in digest.matches for r in m.reasons))
    count = digest.matched
    papers = f"{count} new paper{'s' if count != 1 else ''}"
    about = f" on {', '.join(terms[:3])}" if terms else ""
    subject = f"{site_title}: {papers}{about} ({digest.edition:%d %b %Y})"
    return " ".join(subject.split())  # no line breaks can reach the header


@functools.lru_cache(maxsize=1024)  # the same note or footer in thousands of digests
def markdown_html(text: str | None) -> str:
    """Operator-written Markdown as HTML, restricted to text markup."""
    if not text:
        return ""
    html = markdown.markdown(text, output_format="html")
    return nh3.clean(
        html,
        tags=_NOTE_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"https", "http", "mailto"},
    )


def inline_styles(html: str, kind: type[premailer.Premailer] = premailer.Premailer) -> str:
    """Move the stylesheet into style attributes, so the digest reads right where <style> is stripped.
    `kind`: premailer, or a faster one for pages read only for their elements (SpecimenPremailer)."""
    inlined: str = kind(
        html,
        allow_network=False,
        strip_important=False,  # the phone and dark-mode rules must still beat the inlined styles
        disable_validation=True,
        cssutils_logging_level=logging.CRITICAL,
    ).transform()
    return inlined


# Stand-ins for what differs between subscribers in a paper block; plain text, so no template escapes them.
_MARK = {name: f"dgstmark{name}x" for name in ("title", "abstract", "head", "rest", "why", "vote")}
_MARKS = re.compile("dgstmark(title|abstract|head|rest|why)x")


def _marked(name: str) -> Pieces:
    return ((_MARK[name], False),)


def _highlighted(pieces: Pieces, hit_tag: str) -> str:
    """Text with its matched words in <span class="hit">, as the template's macro writes them."""
    return "".join(f"{hit_tag}{escape(text)}</span>" if hit else str(escape(text)) for text, hit in pieces)
