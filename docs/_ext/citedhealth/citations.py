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
import itertools
from collections import Counter, defaultdict
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
    #: The groups this process last made (refs_by_page), and how many references they held; None before.
    _grouped: tuple[dict, int] | None = None

    # What the last env_updated settled, kept in memory for the next one (see update_changed_pages);
    # none in a new process, where the first env_updated works everything out.
    #: Documents cleared since env_updated last finished; None: it never did (or failed), do everything.
    _unsettled: set[str] | None = None
    #: (the parsed .bib it used, the tooltip settings): anything else, and everything is worked out again.
    _settled: tuple | None = None
    #: docname -> (its bibliographies, its citations, the keys it cites or lists, its references), as last settled.
    _pages: dict[str, tuple[int, int, frozenset, int]] | None = None
    #: key -> how many documents cite or list it (cited_keys); the counts of all bibliographies and citations.
    _key_counts: Counter | None = None
    _totals: tuple[int, int] = (0, 0)
    #: The duplicate local citations found, in project order: (docname, key, line).
    _duplicates: list[tuple[str, str, int]] | None = None
    #: index_citations' index, kept for update_index: [by page, last listed, key -> page -> listed,
    #: the number of citations it is of, the next position].
    _index: list | None = None

    def clear_doc(self, docname: str) -> None:
        if not self.clear_last_page(docname):
            super().clear_doc(docname)
        if self._cleared is None:
            self._cleared = set()
        self._cleared.add(docname)
        if self._unsettled is not None:
            self._unsettled.add(docname)

    def clear_last_page(self, docname: str) -> bool:
        """Upstream's ``clear_doc`` for a page whose entries are the last ones, as the page read last has them.

        Upstream filters the project's every citation and citation reference
        (a new list of each) for one page's, at 1000 articles some 3 ms (13
        in the preview's forked child, which copies every page of memory it
        touches). A page's citations, references and bibliographies are each
        one run (reading adds them together, clearing keeps the order), and
        the page the author is editing was read last, so its runs end the
        lists: when the counts :meth:`settle` kept for it (it was not cleared
        since) match the ends of the lists, those ends are dropped in place,
        which leaves the very lists upstream's filter would make. False, and
        nothing done, otherwise."""
        if self._unsettled is None or docname in self._unsettled or self._pages is None:
            return False
        page = self._pages.get(docname)
        if page is None:
            return True  # it had nothing when settled, and was not read since (reading clears first)
        bibliographies, citations, _, refs = page
        listed, referenced = self.citations, self.citation_refs
        keys = list(itertools.islice(reversed(self.bibliographies), bibliographies))
        if (
            len(keys) != bibliographies
            or any(key.docname != docname for key in keys)
            or len(listed) < citations
            or len(referenced) < refs
            or any(citation.bibliography_key.docname != docname for citation in listed[len(listed) - citations :])
            or any(ref.docname != docname for ref in referenced[len(referenced) - refs :])
        ):
            return False
        del listed[len(listed) - citations :]
        del referenced[len(referenced) - refs :]
        for key in keys:
            del self.bibliographies[key]
        return True

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

        if self.update_changed_pages():
            return []
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
        for bibliography_key in self.bibliographies:
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
            citations.extend(self.formatted_citations(bibliography_key, order))
        self.citations[:] = citations
        self.store_only_what_is_listed()
        self.share_citation_targets()
        self.warn_duplicate_local_citations()
        self.settle(formatting)
        return []

    def formatted_citations(self, bibliography_key, order: list[str]) -> list[Citation]:
        """A bibliography's citations, formatted as upstream's ``env_updated`` makes them (*order*: its docnames)."""
        config = self.env.config
        bibliography = self.bibliographies[bibliography_key]
        citations = []
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
        return citations

    def settle(self, formatting: tuple) -> None:
        """Keep what the next env_updated needs to redo only the pages cleared meanwhile (update_changed_pages).

        Only where every bibliography lists its own page's works: the others
        depend on the whole site, and are worked out on every build."""
        self._unsettled = self._settled = self._pages = self._key_counts = self._duplicates = self._index = None
        if not all(self.lists_own_citations(key) for key in self.bibliographies):
            return
        bibliographies = defaultdict(int)
        for key in self.bibliographies:
            bibliographies[key.docname] += 1
        listed = defaultdict(list)
        for citation in self.citations:
            listed[citation.bibliography_key.docname].append(citation)
        refs = self.refs_by_page()
        pages, counts = {}, Counter()
        for docname in bibliographies.keys() | listed.keys() | refs.keys():
            keys = page_keys(refs.get(docname, ()), listed.get(docname, ()))
            page_refs = len(refs.get(docname, ()))
            pages[docname] = (bibliographies.get(docname, 0), len(listed.get(docname, ())), keys, page_refs)
            counts.update(keys)
        self._pages, self._key_counts = pages, counts
        self._totals = (len(self.bibliographies), len(self.citations))
        self._duplicates = duplicate_local_citations(self.citations, self.bibliographies)
        self._settled = (self.bibdata, formatting)
        self._unsettled = set()

    def update_changed_pages(self) -> bool:
        """env_updated for the pages cleared since the last one settled, when nothing else changed; False if not.

        With the same parsed ``.bib`` and tooltip settings, and every
        bibliography listing its own page's works, the citations of pages not
        cleared are the ones kept in ``citations`` (upstream's ``clear_doc``
        drops only the cleared pages'), in the order the whole computation
        gives them: the order of ``bibliographies``, where a page's are taken
        out when it is cleared and put back, at the end, when it is read. So
        the cleared pages' bibliographies are the last ones (the counts kept
        by :meth:`settle` must say so, or everything is worked out again),
        and their citations go at the end. The checks of the whole site that
        follow (duplicates, the cited keys) change by those pages' shares."""
        pending, self._unsettled = self._unsettled, None
        config = self.env.config
        formatting = (bool(config.bibtex_tooltips), config.bibtex_tooltips_style)
        settled = self._settled
        if (
            pending is None
            or settled is None
            or settled[0] is not self.bibdata
            or settled[1] != formatting
            or self.data.get(FORMATTING_KEY) != formatting
        ):
            return False
        self._own_lists = {}
        fresh = []
        for key in reversed(self.bibliographies):
            if key.docname not in pending:
                break
            fresh.append(key)
        fresh.reverse()
        pages = self._pages
        gone = [pages[docname] for docname in pending if docname in pages]
        bibliographies, citations = self._totals
        if (
            len(self.bibliographies) != bibliographies - sum(page[0] for page in gone) + len(fresh)
            or len(self.citations) != citations - sum(page[1] for page in gone)
            or not all(self.lists_own_citations(key) for key in fresh)
        ):
            return False
        new = []
        for bibliography_key in fresh:
            new.extend(self.formatted_citations(bibliography_key, []))
        self.citations.extend(new)
        self.update_index(pending, new, citations)
        self.store_only_what_is_listed(fresh, new)
        refs = self.refs_by_page()  # also shares the new references' targets (share_citation_targets)
        listed = defaultdict(list)
        bibliographies_of = defaultdict(int)
        for key in fresh:
            bibliographies_of[key.docname] += 1
        for citation in new:
            listed[citation.bibliography_key.docname].append(citation)
        counts, dropped = self._key_counts, set()
        for docname in pending:
            before = pages.pop(docname, None)
            if before is not None:
                counts.subtract(before[2])
                dropped |= before[2]
            if docname in bibliographies_of or docname in listed or docname in refs:
                keys = page_keys(refs.get(docname, ()), listed.get(docname, ()))
                page_refs = len(refs.get(docname, ()))
                pages[docname] = (bibliographies_of.get(docname, 0), len(listed.get(docname, ())), keys, page_refs)
                counts.update(keys)
        for key in dropped:
            if counts[key] <= 0:
                del counts[key]
        duplicates = [found for found in self._duplicates if found[0] not in pending]
        duplicates += duplicate_local_citations(new, self.bibliographies)
        self._duplicates = duplicates
        self.report_duplicate_local_citations(duplicates)
        self._totals = (len(self.bibliographies), len(self.citations))
        self._unsettled = set()
        return True

    def cited_keys(self):
        """The keys cited by a role or listed by a bibliography anywhere (set-like), as the checks count them."""
        if self._key_counts is not None and self._unsettled is not None and not self._unsettled:
            return self._key_counts.keys()
        cited = {target.key for ref in self.citation_refs for target in ref.targets}
        cited |= {citation.entry.key for citation in self.citations}
        return cited

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
        self.report_duplicate_local_citations(duplicate_local_citations(self.citations, self.bibliographies))

    def report_duplicate_local_citations(self, duplicates: list[tuple[str, str, int]]) -> None:
        for docname, key, line in duplicates:
            logger.warning(
                f'duplicate local citation for key "{key}"',
                location=(docname, line),
                type="bibtex",
                subtype="duplicate_local_citation",
            )

    def refs_by_page(self) -> dict[str, list]:
        """docname -> its citation references, in project order, made at most once a build.

        The grouping is kept in the domain's data (pickled with the
        environment, :data:`REFS_KEY`), with one object for each distinct
        target (:data:`TARGETS_KEY`). A later build keeps the groups of the
        pages not cleared since (their references are the very objects, in
        the same order: upstream's ``clear_doc`` filters the list, reading
        appends) and groups only the references of pages read again, sharing
        their targets (:meth:`share_citation_targets`): those are the end of
        the list, after as many as the kept groups hold (counted when this
        process last grouped them), so only they are looked at. Should the
        groups not account for every reference that way (an environment from
        before, anything unforeseen), all are grouped again, as the first
        build does."""
        if self._refs_by_page is None:
            refs = self.citation_refs
            kept, shared = self.data.get(REFS_KEY), self.data.get(TARGETS_KEY)
            cleared = self._cleared or set()
            by_page: dict[str, list] | None = None
            if isinstance(kept, dict) and isinstance(shared, dict):
                by_page = kept  # brought up to date in place: replaced whole below if it cannot be
                dropped = sum(len(by_page.pop(docname)) for docname in cleared if docname in by_page)
                # How many references the kept groups hold: counted when this process made them (the very
                # dict), else now.
                grouped = self._grouped
                if grouped is not None and grouped[0] is kept:
                    held = grouped[1] - dropped
                else:
                    held = sum(map(len, by_page.values()))
                # The pages read again appended theirs to the list: its end, after the kept ones.
                new = refs[held:] if 0 <= held <= len(refs) else None
                if (
                    new is None
                    or (held and refs[held - 1].docname in cleared)
                    or any(ref.docname not in cleared for ref in new)
                ):
                    by_page = None
                else:
                    for ref in new:
                        by_page.setdefault(ref.docname, []).append(ref)
                        ref.targets[:] = [shared.setdefault(target, target) for target in ref.targets]
            if by_page is None:
                by_page, shared = {}, {}
                for ref in refs:
                    by_page.setdefault(ref.docname, []).append(ref)
                    ref.targets[:] = [shared.setdefault(target, target) for target in ref.targets]
            self.data[REFS_KEY], self.data[TARGETS_KEY] = by_page, shared
            self._refs_by_page, self._cleared, self._grouped = by_page, None, (by_page, len(refs))
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

    def store_only_what_is_listed(self, keys=None, citations=None) -> None:
        """Keep, for each bibliography of its own page's works, the citation nodes of those works only.

        The ``{bibliography}`` directive makes a node for every entry of the
        ``.bib`` files, as it cannot know yet which the page cites; the
        environment then carries articles x entries nodes, pickled and loaded
        by every build. Once the citations are known, the others are dead
        weight: a page read again gets a new set from the directive. Own-page
        bibliographies also share one filter object, which the pickle then
        stores once.

        (With *keys* and *citations*, only those bibliographies, listing those
        citations: the others are as the last build left them, sharing the
        first bibliography's filter.)
        """
        listed = defaultdict(set)
        for citation in self.citations if citations is None else citations:
            listed[citation.bibliography_key].add(citation.key)
        shared_filter = None
        if keys is not None and self.bibliographies:
            shared_filter = next(iter(self.bibliographies.values())).filter_
        for key in list(self.bibliographies if keys is None else keys):
            bibliography = self.bibliographies[key]
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
                builder,
                fromdocname,
                citation.bibliography_key.docname,
                citation.citation_id,
                nodes.Text(citation.formatted_entry.label),
                None,
            )
        result += nodes.Text("]")
        if len(local) not in self._quick_checked:
            self._quick_pending = result  # made upstream's way too, and compared
            return None
        return result

    def check_quick_reference(self, upstream) -> None:
        """Compare the quick reference with upstream's (see quick_reference); off for good if they differ."""
        quick, self._quick_pending = self._quick_pending, None
        same = (
            upstream is not None and quick.pformat() == upstream.pformat() and quick.attributes == upstream.attributes
        )
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
        citation list), both in project order: one pass over the project's citations a build, or none.

        A position orders citations as the project's list does (a larger one
        comes later); it is the citation's index in the list when the index
        is made in one pass, and one past the largest before for a citation
        added since (:meth:`update_index`, which a build that redid only the
        pages read again uses instead of this pass)."""
        if self._citations_by_page is None:
            by_page: dict[str, list] = {}
            last_listed: dict[str, tuple] = {}
            #: key -> docname -> [(position, citation)] in citation lists, pages in the order of their positions.
            listed_by_key: dict[str, dict[str, list]] = {}
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
                    listed_by_key.setdefault(citation.key, {}).setdefault(bibliography_key.docname, []).append(
                        (position, citation)
                    )
            self._citations_by_page, self._last_listed = by_page, last_listed
            self._index = [by_page, last_listed, listed_by_key, len(self.citations), len(self.citations)]
        return self._citations_by_page, self._last_listed

    def update_index(self, pending: set[str], new: list, before: int) -> None:
        """The index of :meth:`index_citations` after *pending*'s citations were dropped and *new* appended.

        Only if the index kept (made or updated since the last whole
        env_updated) is of the list as the last env_updated left it (*before*
        citations); else it is made again when first used. Each dropped page
        goes; each new citation gets the next position, so the positions
        still follow the list, and the last citation listed for each key
        touched is looked up among the pages listing it, kept in the order
        of their positions (the last page's last one)."""
        index, self._index = self._index, None
        if index is None or index[3] != before:
            return
        by_page, last_listed, listed_by_key, _, position = index
        touched = set()
        for docname in pending:
            for _, citation in by_page.pop(docname, ()):
                touched.add(citation.key)
                pages = listed_by_key.get(citation.key)
                if pages is not None:
                    pages.pop(docname, None)
        bibliographies = self.bibliographies
        for citation in new:
            docname = citation.bibliography_key.docname
            by_page.setdefault(docname, []).append((position, citation))
            if bibliographies[citation.bibliography_key].list_ == "citation":
                listed_by_key.setdefault(citation.key, {}).setdefault(docname, []).append((position, citation))
            touched.add(citation.key)
            position += 1
        for key in touched:
            pages = listed_by_key.get(key)
            if pages:
                last_listed[key] = next(reversed(pages.values()))[-1]
            else:
                listed_by_key.pop(key, None)
                last_listed.pop(key, None)
        self._citations_by_page, self._last_listed = by_page, last_listed
        self._index = [by_page, last_listed, listed_by_key, len(self.citations), position]


def page_keys(refs, citations) -> frozenset:
    """The keys a page cites (its references' targets) or lists (its bibliographies' entries)."""
    return frozenset({target.key for ref in refs for target in ref.targets} | {c.entry.key for c in citations})


def duplicate_local_citations(citations, bibliographies) -> list[tuple[str, str, int]]:
    """(docname, key, the bibliography's line) for each key a page's citation lists list again, in their order."""
    found = []
    listed = defaultdict(set)
    for citation in citations:
        bibliography = bibliographies[citation.bibliography_key]
        if bibliography.list_ != "citation":
            continue
        docname = citation.bibliography_key.docname
        if citation.key in listed[docname]:
            found.append((docname, citation.key, bibliography.line))
        listed[docname].add(citation.key)
    return found


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
