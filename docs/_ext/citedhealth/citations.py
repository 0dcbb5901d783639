"""Per-article bibliographies on sphinxcontrib-bibtex's ``cite`` domain, at the scale of a library.

Contract: every article has its own bibliography, numbered from 1 in the
order *that article* first cites each work (the style that numbers and
formats entries is :mod:`.bibstyle`). sphinxcontrib-bibtex orders a
bibliography by first citation across the whole project
(``BibtexDomain.get_all_cited_keys`` walks every document in toctree order),
so an article citing B before A would list A first if an earlier article
cited A first. ``ArticleBibtexDomain`` puts the bibliography's own document
first in that walk.

Two articles citing the same work therefore both list it, which sphinxcontrib-bibtex reports as
``bibtex.duplicate_citation`` (and, for the numbers, ``duplicate_label``).
Those are not ambiguities here: it resolves each citation to the bibliography
on the citing page first (``BibtexDomain.resolve_xref``), so this module
does not report them (and suppresses the two subtypes). A key listed twice on one page still fails the
build (``bibtex.duplicate_local_citation``).

A plain ``{bibliography}`` lists the works *its own page* cites.
sphinxcontrib-bibtex's default filter, ``cited``, means cited anywhere in the
project, so with many articles each would list every other article's works
too (and an edit to one article would change every article's bibliography
and PDF). A bibliography with options (``:filter:``, ``:all:``, listed keys)
keeps sphinxcontrib-bibtex's meaning.

Scale: sphinxcontrib-bibtex recomputes and formats every bibliography on
every build (``env_updated``), and its lookups walk all citations of the
project (``resolve_xref`` for each reference, ``BibliographyTransform`` for
each bibliography and each of its entries), so a site of N articles cost
O(N^2) and an edit of one page O(N). ``ArticleBibtexDomain`` indexes
citations by key and by page and hands upstream only the candidates it
would pick; the bibliographies of pages a build did not read keep their
citations (``env_updated``); pybtex's plugin lookups read one index
(``plugins.py``). The output is the same.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from typing import TYPE_CHECKING

from docutils import nodes
from sphinx.util import logging
from sphinx.util.nodes import make_refnode
from sphinxcontrib.bibtex.citation_target import parse_citation_targets
from sphinxcontrib.bibtex.directives import BibliographyKey
from sphinxcontrib.bibtex.domain import BibtexDomain, Citation, get_docnames
from sphinxcontrib.bibtex.nodes import bibliography as bibliography_node
from sphinxcontrib.bibtex.transforms import BibliographyTransform

from .bibstyle import STYLE_NAME, CitedHealthStyle, EntryBackend

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

logger = logging.getLogger(__name__)

DEFAULT_FILTER = ast.dump(ast.parse("cited"))
#: Where the domain's data records the tooltip settings its citations were formatted with.
FORMATTING_KEY = "citedhealth_formatting"
#: Where it keeps its references grouped by page, and one object per distinct target (see refs_by_page).
REFS_KEY = "citedhealth_refs_by_page"
TARGETS_KEY = "citedhealth_citation_targets"


class ArticleBibtexDomain(BibtexDomain):
    """sphinxcontrib-bibtex's ``cite`` domain: each bibliography lists its own page's works, in its order."""

    # Indexes made at most once per build, when reading is over (dropped at
    # env_updated); each is one pass over the project's citations or citation
    # references, shared by every use, and the per-page answers are made on demand.
    #: docname -> the keys it cites, in the order it first cites them (made per page from _refs_by_page).
    _cited_keys: dict[str, list[str]] | None = None
    #: id(filter expression) -> whether it is the default ("cited"), for this build.
    _own_lists: dict[int, bool] | None = None
    #: docname -> its citation references, in project order.
    _refs_by_page: dict[str, list] | None = None
    #: docname -> [(position in the project's citations, citation)] of its bibliographies, in project order.
    _citations_by_page: dict[str, list] | None = None
    #: key -> the last (position, citation) listed in a citation list anywhere.
    _last_listed: dict[str, tuple] | None = None
    #: Documents cleared since the references were last grouped (read again or removed): their groups are made anew.
    _cleared: set[str] | None = None
    #: (id(builder), docname) of the page whose references are being resolved, and its resolved references
    #: by their arguments (see resolve_xref): one page's at a time.
    _resolved_page: tuple | None = None
    _resolved: dict | None = None
    #: quick_reference: numbers of keys already compared with upstream's result; turned off on a difference.
    _quick_checked: set[int] | None = None
    _quick_off: bool = False
    _quick_pending = None

    def clear_doc(self, docname: str) -> None:
        super().clear_doc(docname)
        if self._cleared is None:
            self._cleared = set()
        self._cleared.add(docname)

    def env_updated(self):
        """sphinxcontrib-bibtex's, without redoing the bibliographies of pages this build did not read.

        Upstream clears every citation and formats every bibliography of the
        project on every build. Here a bibliography that lists its own page's
        works keeps the previous build's citations when that page was not read
        again (its citations survived ``clear_doc``) and the ``.bib`` entries
        are the very objects they were made from: its works, their order and
        their numbers depend on nothing else. The result is the same list.
        (Upstream's cost is linear in the site per build; not reported upstream.)
        """
        self._cited_keys = self._refs_by_page = self._citations_by_page = self._last_listed = None
        self._resolved_page = self._resolved = None
        earlier = defaultdict(list)
        for citation in self.citations:
            earlier[citation.bibliography_key].append(citation)
            # Formatted entries come back with the pickled environment: reuse
            # them for pages read again (while the .bib is unchanged, its entry
            # objects are the very ones they were made from).
            bibliography = self.bibliographies.get(citation.bibliography_key)
            if bibliography is not None and bibliography.style == STYLE_NAME:
                CitedHealthStyle.remember(citation.entry, citation.formatted_entry)
        config = self.env.config
        # Tooltips are formatted from configuration values that can change
        # without any page being read again: kept citations must match them.
        formatting = (bool(config.bibtex_tooltips), config.bibtex_tooltips_style)
        if self.data.get(FORMATTING_KEY) != formatting:
            earlier.clear()
        self.data[FORMATTING_KEY] = formatting
        self._own_lists = {}
        citations, docnames = [], None
        for bibliography_key, bibliography in self.bibliographies.items():
            kept = self.unchanged_citations(bibliography_key, earlier.get(bibliography_key, ()))
            if kept:
                citations.extend(kept)
                continue
            if self.lists_own_citations(bibliography_key):
                order = []  # its own page's order alone (get_sorted_entries): no walk of the whole site
            else:
                if docnames is None:
                    docnames = list(get_docnames(self.env))
                order = docnames
            for entry, formatted_entry, tooltip_entry in self.get_formatted_entries(
                bibliography_key, order, config.bibtex_tooltips, config.bibtex_tooltips_style
            ):
                key = bibliography.keyprefix + formatted_entry.key
                citations.append(
                    Citation(
                        citation_id=bibliography.citation_nodes[key]["ids"][0],
                        bibliography_key=bibliography_key,
                        key=key,
                        entry=entry,
                        formatted_entry=formatted_entry,
                        tooltip_entry=tooltip_entry,
                    )
                )
        self.citations[:] = citations
        self.store_only_what_is_listed()
        self.share_citation_targets()
        self.warn_duplicate_local_citations()
        return []

    def unchanged_citations(self, bibliography_key, earlier) -> list:
        """The previous build's citations of a bibliography, if they are still its citations; else []."""
        if not earlier or not self.lists_own_citations(bibliography_key):
            return []
        entries = self.bibdata.data.entries
        if any(entries.get(citation.entry.key) is not citation.entry for citation in earlier):
            return []
        return list(earlier)

    def warn_duplicate_local_citations(self) -> None:
        """Upstream's one warning about citations that is not expected here: a key listed twice on one page.

        (``duplicate_citation`` and ``duplicate_label`` are expected with
        per-article bibliographies and suppressed: see the module docstring.)
        """
        listed = defaultdict(set)
        for citation in self.citations:
            bibliography = self.bibliographies[citation.bibliography_key]
            if bibliography.list_ != "citation":
                continue
            docname = citation.bibliography_key.docname
            if citation.key in listed[docname]:
                logger.warning(
                    f'duplicate local citation for key "{citation.key}"',
                    location=(docname, bibliography.line),
                    type="bibtex",
                    subtype="duplicate_local_citation",
                )
            listed[docname].add(citation.key)

    def refs_by_page(self) -> dict[str, list]:
        """docname -> its citation references, in project order, made at most once a build.

        The grouping is kept in the domain's data (pickled with the
        environment, :data:`REFS_KEY`), with one object for each distinct
        target (:data:`TARGETS_KEY`). A later build keeps the groups of the
        pages not cleared since (their references are the very objects, in
        the same order: upstream's ``clear_doc`` filters the list, reading
        appends) and groups only the references of pages read again, sharing
        their targets (:meth:`share_citation_targets`). Should the groups not
        account for every reference (an environment from before, anything
        unforeseen), all are grouped again, as the first build does."""
        if self._refs_by_page is None:
            refs = self.citation_refs
            kept, shared = self.data.get(REFS_KEY), self.data.get(TARGETS_KEY)
            cleared = self._cleared or set()
            by_page: dict[str, list] | None = None
            if isinstance(kept, dict) and isinstance(shared, dict):
                by_page = {docname: listed for docname, listed in kept.items() if docname not in cleared}
                if cleared:
                    for ref in refs:
                        if ref.docname in cleared:
                            by_page.setdefault(ref.docname, []).append(ref)
                            ref.targets[:] = [shared.setdefault(target, target) for target in ref.targets]
                if sum(map(len, by_page.values())) != len(refs):
                    by_page = None
            if by_page is None:
                by_page, shared = {}, {}
                for ref in refs:
                    by_page.setdefault(ref.docname, []).append(ref)
                    ref.targets[:] = [shared.setdefault(target, target) for target in ref.targets]
            self.data[REFS_KEY], self.data[TARGETS_KEY] = by_page, shared
            self._refs_by_page, self._cleared = by_page, None
        return self._refs_by_page

    def page_cited_keys(self, docname: str) -> list[str]:
        """The keys *docname* cites, in the order it first cites them."""
        if self._cited_keys is None:
            self._cited_keys = {}
        keys = self._cited_keys.get(docname)
        if keys is None:
            found = {}
            for ref in self.refs_by_page().get(docname, ()):
                for target in ref.targets:
                    found.setdefault(target.key)
            keys = self._cited_keys[docname] = list(found)
        return keys

    def lists_own_citations(self, bibliography_key) -> bool:
        bibliography = self.bibliographies[bibliography_key]
        if bibliography.keys:
            return False
        # Bibliographies restored from one pickle share their filter object: compare each once a build.
        if self._own_lists is None:
            self._own_lists = {}
        own = self._own_lists.get(id(bibliography.filter_))
        if own is None:
            own = self._own_lists[id(bibliography.filter_)] = ast.dump(bibliography.filter_) == DEFAULT_FILTER
        return own

    def share_citation_targets(self) -> None:
        """One object for each distinct citation target (key, prefix, suffix) across the site.

        Every ``{cite}`` role stores its targets; at 200 articles that is some
        6,000 objects for a dozen distinct values, each pickled and rebuilt by
        every build. Shared, the pickle stores each once (the environment
        shrank by a tenth and loads and saves 7 ms faster). They are
        immutable named tuples: nothing can tell a shared one from a copy.
        """
        self.refs_by_page()  # shares them as it groups them

    def store_only_what_is_listed(self) -> None:
        """Keep, for each bibliography of its own page's works, the citation nodes of those works only.

        The ``{bibliography}`` directive makes a node for every entry of the
        ``.bib`` files, as it cannot know yet which the page cites; the
        environment then carries articles x entries nodes, pickled and loaded
        by every build. Once the citations are known, the others are dead
        weight: a page read again gets a new set from the directive. Own-page
        bibliographies also share one filter object, which the pickle then
        stores once.
        """
        listed = defaultdict(set)
        for citation in self.citations:
            listed[citation.bibliography_key].add(citation.key)
        shared_filter = None
        for key, bibliography in list(self.bibliographies.items()):
            if not self.lists_own_citations(key):
                continue
            shared_filter = shared_filter or bibliography.filter_
            nodes = bibliography.citation_nodes
            if len(nodes) > len(listed[key]) or bibliography.filter_ is not shared_filter:
                self.bibliographies[key] = bibliography._replace(
                    citation_nodes={k: node for k, node in nodes.items() if k in listed[key]},
                    filter_=shared_filter,
                )

    def get_filtered_entries(self, bibliography_key):
        if not self.lists_own_citations(bibliography_key):
            yield from super().get_filtered_entries(bibliography_key)
            return
        bibliography = self.bibliographies[bibliography_key]
        own = set(self.page_cited_keys(bibliography_key.docname))
        for entry in self.get_entries(bibliography.bibfiles):
            if bibliography.keyprefix + entry.key in own:
                yield bibliography.keyprefix + entry.key, entry

    def get_all_cited_keys(self, docnames):
        # sphinxcontrib-bibtex sorts every reference by docnames.index(): O(N) per reference.
        for docname in docnames:
            yield from self.page_cited_keys(docname)

    def get_sorted_entries(self, bibliography_key, docnames):
        # Upstream orders by first citation across the whole site (see the
        # module docstring); per-article numbering is our choice, so nothing
        # is wrong upstream: not reported upstream.
        own = bibliography_key.docname
        if self.lists_own_citations(bibliography_key):
            docnames = [own]
        return super().get_sorted_entries(bibliography_key, [own, *(d for d in docnames if d != own)])

    def resolve_xref(self, env, fromdocname, builder, typ, target, node, contnode):
        # sphinxcontrib-bibtex (BibtexDomain.resolve_xref) scans every citation
        # of the project for each reference: O(N) a reference, O(N^2) a site,
        # since every article cites the same checked works. It takes, per key,
        # the last citation listed on the citing page, else the last one
        # anywhere whose bibliography is a citation list. Hand it only those
        # candidates (all of the page's own, and the last such one anywhere),
        # in their original order, so it resolves exactly as before.
        # Not reported upstream.
        everything = self.data["citations"]
        by_page, last_listed = self.index_citations()
        keys = {t.key for t in parse_citation_targets(target)}
        # position -> citation (citations hold pybtex entries, which do not hash)
        candidates = {position: citation for position, citation in by_page.get(fromdocname, ()) if citation.key in keys}
        for key in keys:
            if key in last_listed:
                candidates.update((last_listed[key],))
        chosen = [candidates[position] for position in sorted(candidates)]
        # A page cites most works more than once with the same target ({cite:p}`key` twice),
        # and upstream formats each reference again with pybtex's templates (about 0.3 ms).
        # Its result depends only on the arguments below and on the candidates it is handed
        # (contnode is unused; node only locates the warning for a key not found, so a
        # reference with such a key is never remembered). The memo holds the page being
        # resolved, and the candidates themselves, so no id in its key can be reused.
        memo_key = (id(builder), builder.name, fromdocname, typ, target, tuple(id(c) for c in chosen))
        if self._resolved_page != (id(builder), fromdocname):
            self._resolved_page, self._resolved = (id(builder), fromdocname), {}
        remembered = self._resolved.get(memo_key)
        if remembered is not None:
            return remembered[0].deepcopy()
        result = self.quick_reference(fromdocname, builder, typ, target, keys, chosen)
        if result is None:
            self.data["citations"] = chosen
            try:
                result = super().resolve_xref(env, fromdocname, builder, typ, target, node, contnode)
            finally:
                self.data["citations"] = everything
            if self._quick_pending is not None:
                self.check_quick_reference(result)
        bibliographies = self.bibliographies
        listed = {c.key for c in chosen if bibliographies[c.bibliography_key].list_ == "citation"}
        if result is not None and keys <= listed:
            self._resolved[memo_key] = (result.deepcopy(), chosen)
        return result

    def quick_reference(self, fromdocname, builder, typ, target, keys, chosen):
        """The reference upstream makes for the common case, made directly; None for any other case.

        The case: ``{cite:p}`` without pre- or post-text, tooltips off, every
        key listed in the citing page's own bibliography, an HTML-like builder.
        Upstream formats it with the label style's pybtex templates (about
        0.3 ms, most of what resolving an article cost the main process at
        1000 articles) into ``[`` the entry labels, each a reference to its
        entry (Sphinx's ``make_refnode``), separated by ``, `` and ``]``,
        inside ``inline.bibtex-citation``. Made here directly, the first time
        for each number of keys in a process it is made both ways and
        compared (:meth:`check_quick_reference`); any difference (a changed
        style, an upgrade) turns this off for the process, so pages are
        always upstream's. Not reported upstream (nothing is wrong there)."""
        self._quick_pending = None
        if self._quick_checked is None:
            self._quick_checked = set()
        if self._quick_off or typ != "p" or builder.name in ("latex", "rinoh"):
            return None
        targets = parse_citation_targets(target)
        if any(t.pre or t.post for t in targets):
            return None
        bibliographies = self.bibliographies
        # Upstream's choice of citations when every key is on the page: the last listed one per key,
        # in the order the keys first appear in the page's citations.
        local: dict[str, Citation] = {}
        for citation in chosen:
            if (
                citation.bibliography_key.docname == fromdocname
                and bibliographies[citation.bibliography_key].list_ == "citation"
            ):
                local[citation.key] = citation
        if local.keys() != keys or any(c.tooltip_entry is not None for c in local.values()):
            return None
        result = nodes.inline(rawsource=target)
        result["classes"].append("bibtex-citation")
        result += nodes.Text("[")
        for index, citation in enumerate(local.values()):
            if index:
                result += nodes.Text(", ")
            result += make_refnode(
                builder, fromdocname, citation.bibliography_key.docname, citation.citation_id,
                nodes.Text(citation.formatted_entry.label), None,
            )
        result += nodes.Text("]")
        if len(local) not in self._quick_checked:
            self._quick_pending = result  # made upstream's way too, and compared
            return None
        return result

    def check_quick_reference(self, upstream) -> None:
        """Compare the quick reference with upstream's (see quick_reference); off for good if they differ."""
        quick, self._quick_pending = self._quick_pending, None
        same = upstream is not None and quick.pformat() == upstream.pformat() and quick.attributes == upstream.attributes
        if same:
            self._quick_checked.add(sum(isinstance(child, nodes.reference) for child in quick.children))
        else:
            self._quick_off = True
            logger.debug("[citedhealth] quick citation references differ from upstream's; off for this process")

    def of_page(self, docname: str) -> tuple[list, list]:
        """The citations listed in *docname*'s bibliographies and the citation references it holds."""
        return self.citations_of_page(docname), list(self.refs_by_page().get(docname, ()))

    def citations_of_page(self, docname: str) -> list:
        """The citations listed in *docname*'s bibliographies, in project order (an index, not a scan)."""
        by_page, _ = self.index_citations()
        return [citation for _, citation in by_page.get(docname, ())]

    def index_citations(self) -> tuple[dict[str, list], dict[str, tuple]]:
        """(docname -> [(position, citation)] of its bibliographies, key -> the last (position, citation) in a
        citation list), both in project order: one pass over the project's citations a build."""
        if self._citations_by_page is None:
            by_page: dict[str, list] = {}
            last_listed: dict[str, tuple] = {}
            bibliographies = self.bibliographies
            bibliography_key = listed = None
            for position, citation in enumerate(self.citations):
                # A bibliography's citations are consecutive (env_updated): look each one up once.
                if citation.bibliography_key is not bibliography_key:
                    bibliography_key = citation.bibliography_key
                    listed = bibliographies[bibliography_key].list_ == "citation"
                by_page.setdefault(bibliography_key.docname, []).append((position, citation))
                if listed:
                    last_listed[citation.key] = (position, citation)
            self._citations_by_page, self._last_listed = by_page, last_listed
        return self._citations_by_page, self._last_listed


class BibliographyFromCopies(BibliographyTransform):
    """sphinxcontrib-bibtex's bibliography transform, working on copies of the citation nodes it keeps.

    The ``{bibliography}`` directive stores one empty citation node per work in
    the environment, and the transform fills those very nodes (label, entry,
    back-references) and puts them into the page. In a process that writes a
    page more than once (the live preview), the environment's nodes then carry
    the text of every entry: its pickle grew from 1.7 MB to 12 MB at 200
    articles, and a second write of a page would fill a node filled before.
    Here the transform gets copies, and the environment keeps the empty
    nodes, as a fresh ``sphinx-build`` process sees them. It runs just before
    the original, which then finds no bibliography left to fill.
    """

    default_priority = BibliographyTransform.default_priority - 1
    backend = EntryBackend()

    def run(self, **kwargs) -> None:
        domain = self.env.get_domain("cite")
        kept = {}
        pages = set()
        for node in self.document.findall(bibliography_node):
            key = BibliographyKey(docname=node["docname"], id_=node["ids"][0])
            pages.add(key.docname)
            value = domain.bibliographies.get(key)
            if value is not None:
                kept[key] = value
                copies = {k: citation.deepcopy() for k, citation in value.citation_nodes.items()}
                domain.bibliographies[key] = value._replace(citation_nodes=copies)
        if not pages:
            return
        # Upstream (BibliographyTransform.run) scans every citation of the
        # project for each bibliography, and every citation reference for each
        # of its entries (for the back-references, which it takes from the
        # bibliography's own page only): O(N^2) a site. It gets the citations
        # and references of the pages whose bibliographies this page holds, in
        # their project order, so it makes the same nodes. Not reported upstream.
        everything = domain.data["citations"], domain.data["citation_refs"]
        page_citations, page_refs = [], []
        for docname in sorted(pages):
            citations, refs = domain.of_page(docname)
            page_citations.extend(citations)
            page_refs.extend(refs)
        if len(pages) > 1:  # keep the project order, which upstream's scans follow
            order = {id(item): position for position, item in enumerate(everything[0])}
            page_citations.sort(key=lambda item: order[id(item)])
            order = {id(item): position for position, item in enumerate(everything[1])}
            page_refs.sort(key=lambda item: order[id(item)])
        domain.data["citations"], domain.data["citation_refs"] = page_citations, page_refs
        try:
            super().run(**kwargs)
        finally:
            domain.data["citations"], domain.data["citation_refs"] = everything
            domain.bibliographies.update(kept)


#: Warnings that per-article bibliographies raise by design (see the module docstring).
EXPECTED_BIBTEX_WARNINGS = ["bibtex.duplicate_citation", "bibtex.duplicate_label"]


def allow_per_article_bibliographies(app: Sphinx, config: Config) -> None:
    config.suppress_warnings = [*config.suppress_warnings, *EXPECTED_BIBTEX_WARNINGS]


def setup(app: Sphinx) -> None:
    app.add_domain(ArticleBibtexDomain, override=True)
    app.add_post_transform(BibliographyFromCopies)
    app.connect("config-inited", allow_per_article_bibliographies)
