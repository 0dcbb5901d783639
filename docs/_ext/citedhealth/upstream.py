"""Where our extension leans on other projects' internals, and the versions it was checked against.

Contract: :data:`REACHES` lists every place our code depends on something an
upstream project does not promise to keep: a private name (``_x``), a
function or method we override, wrap, replace or copy part of, an attribute
we swap for the length of a build. Each row names

- the upstream object (a dotted name that imports: module, then attributes);
- our module that depends on it, and what to re-check there when it changes;
- the upstream issue or pull request the workaround waits for, or
  ``"not reported upstream"``, or ``None`` where nothing upstream is wrong
  (we only use an internal for speed or because no public hook exists);
- a fingerprint of the upstream object's source text (:func:`fingerprint`).

``tests/test_upstream.py`` (the fast test layer) recomputes every
fingerprint, so an upgrade that changes any line of such upstream code fails
with a message naming the upstream object, our module and what to re-check;
it also scans our modules, so a new private name or override of an upstream
method that is not in this table fails too. The README's "Working on the
code" lists the same table (a test checks it names every row).

:data:`SUPPORTED` holds the versions the table was checked against; setup
(:func:`check_versions`, called from ``citedhealth.setup``) refuses others
with a message saying what to do, so an upgrade is a decision, never an
accident. On an upgrade: bump the pin in ``requirements.txt``, run
``make test-fast``; for each failing row read the upstream change, re-check
our module as the row says, then update the row (``python -m
citedhealth.upstream`` prints the new fingerprints) and :data:`SUPPORTED`.

Fingerprints: SHA-256 (first 16 hex digits) of ``inspect.getsource(obj)``
normalised: dedented, trailing whitespace stripped, blank lines and lines
holding only a comment dropped. A change to code or to a docstring counts; a
change to comments, blank lines or the indentation of the whole block does
not.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.metadata
import inspect
import sys
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sphinx.application import Sphinx

NOT_REPORTED = "not reported upstream"

#: Distribution -> the versions our reaches were checked against (PEP 440
#: specifiers). Sphinx is also required through ``app.require_sphinx``.
SUPPORTED = {
    "sphinx": ">=9.0.4,<9.1",
    "docutils": ">=0.22,<0.23",
    "myst-parser": ">=5.2,<5.3",
    "furo": "==2025.12.19",
    "sphinxcontrib-bibtex": ">=2.7,<2.8",
    "pybtex": ">=0.26,<0.27",
    "pybtex-docutils": ">=1.0,<1.1",
    "textstat": ">=0.7.13,<0.8",
    "typst": ">=0.15,<0.16",
    "sphinx-autobuild": "==2025.8.25",
}
#: Only the live preview imports these: checked by it, not by every build.
PREVIEW_ONLY = {"sphinx-autobuild"}
#: garbage.py's gc.freeze/unfreeze and the threshold tuple: CPython 3.11 and later.
PYTHON = (3, 11)


@dataclass(frozen=True)
class Reach:
    """One place our code depends on an upstream project's internals."""

    upstream: str
    ours: str
    recheck: str
    issue: str | None
    fingerprint: str
    #: Private names (``_x``) our modules use that this row accounts for.
    names: tuple[str, ...] = ()

    @property
    def distribution(self) -> str:
        return DISTRIBUTIONS[self.upstream.split(".", 1)[0]]


#: Top-level import name -> distribution name.
DISTRIBUTIONS = {
    "sphinx": "sphinx",
    "docutils": "docutils",
    "myst_parser": "myst-parser",
    "furo": "furo",
    "sphinxcontrib": "sphinxcontrib-bibtex",
    "pybtex": "pybtex",
    "pybtex_docutils": "pybtex-docutils",
    "textstat": "textstat",
    "sphinx_autobuild": "sphinx-autobuild",
}

# fmt: off
REACHES: tuple[Reach, ...] = (
    # -- sphinxcontrib-bibtex ---------------------------------------------------------------
    Reach("sphinxcontrib.bibtex.domain.BibtexDomain.env_updated", "citations",
          "ArticleBibtexDomain.env_updated rewrites it whole (keeps unread pages' citations, builds Citation "
          "tuples itself; update_changed_pages redoes only the cleared pages' bibliographies, at the end of "
          "citations as of bibliographies): port any change, and check Citation's fields and "
          "get_formatted_entries' arguments",
          NOT_REPORTED, "ef1d157ff8c3b73c"),
    Reach("sphinxcontrib.bibtex.domain.BibtexDomain.clear_doc", "citations",
          "ArticleBibtexDomain.clear_doc calls it (or, for the page read last, clear_last_page drops the same "
          "runs from the ends of citations, citation_refs and bibliographies in place) and notes the page, whose "
          "references refs_by_page groups anew; the other pages' groups are kept, which holds while it filters "
          "citation_refs and citations keeping their order, drops the page's bibliographies (and reading, or "
          "merge_domaindata, only appends): still so?", None, "d78ad3b67d708d1c"),
    Reach("sphinxcontrib.bibtex.domain.BibtexDomain.get_filtered_entries", "citations",
          "the override yields (key, entry) for its own page's keys: same shape, same keyprefix handling?",
          None, "fdf6ae19b343417d"),
    Reach("sphinxcontrib.bibtex.domain.BibtexDomain.get_all_cited_keys", "citations",
          "the override yields keys in docnames order from an index: same order as upstream's sort?",
          None, "3a8c35a135ed8df3"),
    Reach("sphinxcontrib.bibtex.domain.BibtexDomain.get_sorted_entries", "citations",
          "the override puts the bibliography's own page first: does upstream still sort by get_all_cited_keys?",
          NOT_REPORTED, "b79e03bbdc08e638"),
    Reach("sphinxcontrib.bibtex.domain.BibtexDomain.get_formatted_entries", "citations",
          "called by our env_updated with (key, docnames, tooltips, tooltips_style): same signature and result?",
          None, "d4f77b32ef907906"),
    Reach("sphinxcontrib.bibtex.domain.BibtexDomain.resolve_xref", "citations",
          "the override hands it, through data['citations'], only its candidates: per key, the citing page's "
          "citations and the last one listed in a citation list anywhere. Is that still its rule, and does it "
          "read nothing else from the full list?", NOT_REPORTED, "9e02a44155565f3a"),
    Reach("sphinxcontrib.bibtex.domain.Citation", "citations",
          "env_updated builds Citation tuples by field name; evidence.py and the preview worker read them",
          None, "69feb1ca26768cc5"),
    Reach("sphinxcontrib.bibtex.transforms.BibliographyTransform", "citations",
          "BibliographyFromCopies runs at its default_priority - 1 on copies of the citation nodes, and hands "
          "run() only the citations and citation_refs of the bibliographies' own pages (project order); "
          "evidence.EvidenceSummary runs at 3, before both. Same priority, same scans, same nodes filled?",
          NOT_REPORTED, "9d95a903f1ad7cc7"),
    Reach("sphinxcontrib.bibtex.builder_inited_cite", "checks",
          "checks.py hides undecodable .bib files from bibtex_bibfiles around it; the preview worker calls it "
          "again before each warm build and compares domain.data['bibdata'] by identity",
          None, "8bc18df7beed489f"),
    # -- pybtex -------------------------------------------------------------------------------
    Reach("pybtex.richtext.Text.from_latex", "latex",
          "latex.from_latex replaces it: still LaTeXParser(codecs.decode(latex, 'ulatex')).parse()? (the quick "
          "path skips only the decoding, for text latex.leaves_as_is)", None, "f7acffd15c2afa1b"),
    Reach("pybtex.plugin.find_plugin", "plugins",
          "plugins.py replaces pybtex.plugin.entry_points, which find_plugin and register_plugin call with "
          "group=/name= keywords: still that function, still those keywords?",
          NOT_REPORTED, "02136c60262b7a0b"),
    Reach("sphinxcontrib.bibtex.plugin.find_plugin", "plugins",
          "plugins.py replaces sphinxcontrib.bibtex.plugin._entry_points (entry_points(group=, name=)), which "
          "find_plugin and register_plugin call with group=/name= keywords: still that wrapper, those keywords?",
          NOT_REPORTED, "7dfc5c2c31fe5a62", ("_entry_points",)),
    Reach("pybtex.richtext.BaseMultipartText._create_similar", "bibstyle",
          "bibstyle.restore rebuilds formatted text through it", None, "f2f0b7cdfe677100", ("_create_similar",)),
    Reach("pybtex.style.formatting.unsrt.Style", "bibstyle",
          "CitedHealthStyle replaces format_url, format_doi, format_eprint, format_pubmed and format_web_refs "
          "(only safe links, PMID and PMCID added): port any change to them", None, "45715a966137a46d"),
    Reach("pybtex.style.formatting.BaseStyle.format_entry", "bibstyle",
          "CitedHealthStyle.format_entry memoises it by (label, key, entry identity): still pure in those?",
          None, "a6283fbf8043086e"),
    Reach("pybtex.database.Entry", "lazybib",
          "StoredEntry replaces its type, fields and persons with properties that unpack a blob: "
          "lazybib.ENTRY_ATTRIBUTES must be what __init__ sets (plus key)", None, "bf947c8116bdfd78"),
    Reach("pybtex.style.FormattedEntry.__init__", "lazybib",
          "lazybib packs key, label and text: still its only attributes?", None, "a4200e7435a8287e"),
    Reach("pybtex.errors.report_error", "checks",
          "checks.py collects errors through pybtex.errors.captured_errors while bibtex parses", None,
          "3e794f03c8489f4a"),
    Reach("pybtex_docutils.Backend.format_tag", "bibstyle",
          "EntryBackend.format_tag renders our ch-evidence tag and defers to it for every other tag", None,
          "0e31e3e67a37bbf7"),
    # -- Sphinx -------------------------------------------------------------------------------
    Reach("sphinx.util.nodes.NodeMatcher.findall", "matchers",
          "matchers.findall replaces it: still every node under the start (itself first) for which match() is "
          "true, in document order?", None, "6d26bc91a1dece62"),
    Reach("sphinx.transforms.references.SphinxDanglingReferences", "matchers",
          "matchers.QuickDanglingReferences takes its place in app.registry's transforms and subclasses it: "
          "still upstream's apply with the report level raised?", None, "52c04aa43659ccd6"),
    Reach("docutils.nodes.Node._fast_findall", "matchers",
          "matchers.fast_findall replaces it on Node: still self if it is a cls, then each child's walk in "
          "turn over the live list of children (a for loop), nothing else? And findall() still calls it for "
          "a class condition with include_self and descend only?", None, "3f3cb21bfc23dc17",
          ("_fast_findall",)),
    Reach("docutils.nodes.Node._superfast_findall", "matchers",
          "matchers.superfast_findall replaces it on Node: still self, then each child's walk in turn over the "
          "live list of children?", None, "3132b2ddb457f4f5", ("_superfast_findall",)),
    Reach("docutils.transforms.references.DanglingReferences.apply", "matchers",
          "QuickDanglingReferences skips its document.walk(visitor) on a document with no unresolved reference: "
          "still one walk with the visitor, then the unreferenced targets?", None, "3cd3f19a9ce85a92"),
    Reach("docutils.transforms.references.DanglingReferencesVisitor", "matchers",
          "still acts only on references not resolved and with a refname (matchers.has_unresolved_reference)?",
          None, "a7e3fe94a5107006"),
    Reach("sphinx.util.docutils._get_settings", "docsettings",
          "docsettings.sphinx_settings replaces this module global: still OptionParser(components, defaults, "
          "read_config_files).get_default_values(), same signature?", None, "1d55e11fd5121736", ("_get_settings",)),
    Reach("sphinx.util.docutils._parse_str_to_doctree", "docsettings",
          "still takes each document's settings from the module global _get_settings?", None, "14638b221ddef0ea"),
    Reach("docutils.frontend.OptionParser.__init__", "docsettings",
          "docsettings.default_values keeps one parser: does making one still depend only on the components, "
          "the defaults and the configuration files?", None, "edec18b5cf3195e7"),
    Reach("docutils.frontend.OptionParser.get_default_values", "docsettings",
          "still fresh Values (own record_dependencies) on every call?", None, "aa039dc7dd5caea7"),
    Reach("sphinx.util._serialise.stable_hash", "pdf",
          "TypstPdfBuilder.shared_key hashes the configuration with it (private module)", None, "a0021ca5679011da",
          ("_serialise",)),
    Reach("sphinx.registry.SphinxComponentRegistry.create_translator", "pdf",
          "pdf.translate copies how it attaches app.add_node handlers from builder._registry."
          "translation_handlers", None, "55eb35aaeeccfc55", ("_registry",)),
    Reach("sphinx.builders.Builder.__init__", "pdf",
          "pdf.py reads self._app.parallel in write_documents", None, "7a4267e5aea538c6", ("_app",)),
    Reach("sphinx.builders.Builder._read_parallel", "parallel",
          "parallel.read_in_parallel replaces it on the builder (a copy that merges the chunks after all are "
          "read): port any change, and check read_doc's _cache argument and env._app", NOT_REPORTED,
          "4da119f4cded765c", ("_read_parallel",)),
    Reach("sphinx.builders.Builder._write_parallel", "parallel",
          "parallel.write_in_parallel replaces it on the builder (-j writers, not -j minus one, each resolving "
          "its own pages, after gc.freeze; write_resolved_here for other builders): port any change, and check "
          "what the main process still does per page",
          NOT_REPORTED, "6a53a06ecd77a876", ("_write_parallel",)),
    Reach("sphinx.util.parallel.ParallelTasks._join_one", "parallel",
          "parallel.in_start_order relies on it starting the queued task added last (dict.popitem) when one "
          "ends: still so? (test_parallel's test_chunks_start_in_their_order checks the order)", None,
          "bdd02cfe69e19068"),
    Reach("sphinx.util.parallel.ParallelTasks.add_task", "parallel",
          "parallel.in_start_order: still starts a task at once while fewer than nproc run, else queues it?",
          None, "49588db61233f50f"),
    Reach("sphinx.builders.html.StandaloneHTMLBuilder.write_doc_serialized", "parallel",
          "parallel.write_in_parallel runs it in the writer processes and hands back what it changes: still only "
          "builder.images (post_process_images) and the indexer's feed (parallel.FED_PER_PAGE, FED_PER_WORD)?",
          None, "c00f018071c15876"),
    Reach("sphinx.builders.Builder.write_doc_serialized", "parallel",
          "parallel.resolves_in_writers: still a method that does nothing?", None, "e5209b5eaf98d714"),
    Reach("sphinx.builders.Builder.post_process_images", "parallel",
          "run in the writers (write_doc_serialized): still changes nothing in the builder but images?", None,
          "ebf9e075afea4cd9"),
    Reach("sphinx.builders._write_docname", "parallel",
          "parallel.write_in_parallel writes the first page with it before any fork, as _write_parallel does; "
          "preview/worker.render_early_page writes one page as it does (phases, get_and_resolve_doctree, "
          "write_doc_serialized, write_doc) after write-started: same steps?",
          None, "1733b3c33087f8fc", ("_write_docname",)),
    Reach("sphinx.transforms.post_transforms.code.HighlightLanguageTransform", "highlight",
          "highlight.QuickHighlightLanguage takes its place in app.registry's post-transforms: does it still act "
          "only on highlight.CODE_NODES?", None, "00b6a52a7d19b468"),
    Reach("sphinx.transforms.post_transforms.code.HighlightLanguageVisitor", "highlight",
          "its visitor: still nothing on nodes other than highlight.CODE_NODES, no state kept across pages?", None,
          "e01fde90f023dd61"),
    Reach("sphinx.transforms.post_transforms.code.TrimDoctestFlagsTransform", "highlight",
          "highlight.QuickTrimDoctestFlags takes its place: still only literal and doctest blocks?", None,
          "c4675d7e97a18107"),
    Reach("sphinx.transforms.SphinxSmartQuotes", "quotes",
          "quotes.QuickSmartQuotes takes its place in app.registry's transforms and subclasses it (is_available, "
          "get_tokens, the action from conf.py): same checks, same tokens?", None, "5c1d5358daf7b7ee"),
    Reach("docutils.transforms.universal.SmartQuotes.apply", "quotes",
          "QuickSmartQuotes.educate is a copy of it that skips blocks holding nothing in quotes.ACTIVE: port any "
          "change; and does educate_tokens still change only text with those characters?", None, "923856a4208b371e"),
    Reach("docutils.utils.smartquotes.educate_tokens", "quotes",
          "quotes.ACTIVE lists every character it (and the educate* functions it calls) can change: still so?",
          None, "be4f8126d328dac1"),
    Reach("sphinx.builders.Builder.write_documents", "pdf",
          "TypstPdfBuilder.write_documents replaces it (resolves, translates and typesets in workers); "
          "parallel.write_few_serially wraps it and clears parallel_ok before it reads it", None, "45014853f91d60f8"),
    Reach("sphinx.builders.Builder.build", "envsave",
          "envsave replaces sphinx.builders' module global pickle with a stand-in that forks to dump the "
          "environment into environment.pickle: does build() still dump it there, through that global?",
          NOT_REPORTED, "fea4109173c352fd"),
    Reach("sphinx.builders.Builder.read", "parallel",
          "parallel.read_few_serially sets app.parallel = 1 in env-before-read-docs: is app.parallel still "
          "read right after that event?", None, "5773d6c03306b840"),
    Reach("sphinx.builders.Builder.write", "navigation",
          "navigation.skip_quiet_parents swaps env.files_to_rebuild during writing: still read only here?",
          None, "4fadecf642a94c42"),
    Reach("sphinx.builders.html.StandaloneHTMLBuilder.render_partial", "navigation",
          "navigation.TitleRenderer wraps it on the builder and keeps its parts for each plain-text title node "
          "during a write: does its output still depend only on the node (settings and translator aside)?",
          None, "693b7688fb9d57f0"),
    Reach("sphinx.builders.html.StandaloneHTMLBuilder.get_doc_context", "navigation",
          "calls render_partial for the previous, next and parent titles, and the page's own: what "
          "TitleRenderer saves. Still so, with env.titles' nodes?", None, "e6a74e68e7a2a313"),
    Reach("sphinx.builders.html.StandaloneHTMLBuilder.handle_page", "audit",
          "audit.install_policy wraps templates.render: still called once per page, between "
          "html-page-context and the write?", None, "9a75cf64ce74ed7b"),
    Reach("sphinx.builders.html.StandaloneHTMLBuilder.get_output_path", "outputs",
          "outputs.output_names writes pagename + out_suffix for builders that keep it and get_outfilename: "
          "is the output file still Path(outdir, pagename + out_suffix)?", None, "9431720e00cd0fc6"),
    Reach("sphinx.builders.html.StandaloneHTMLBuilder.get_outfilename", "outputs",
          "outputs.output_names relies on it being get_output_path as a string: still so?", None,
          "2c8b6bf995ffb815"),
    Reach("sphinx.builders.html.StandaloneHTMLBuilder.load_indexer", "search",
          "search.load_indexer stands in for it on the builder: when the file is the one this process dumped, "
          "it hands the new indexer the mappings dumped and prunes to all_docs minus docnames. Does it still "
          "only load the file, then prune(keep)?", None, "129c693049a6f684"),
    Reach("sphinx.builders.html.StandaloneHTMLBuilder.dump_search_index", "search",
          "search.dump_search_index calls it (in a forked child for the preview, after the prune it starts "
          "with), then keeps the indexer's mappings with the file's stamp (in memory, and pickled beside the "
          "environment for a new process): does it still prune(all_docs), then "
          "write the whole index from those mappings through a temporary file?",
          None, "8910fcee78bb178e"),
    Reach("sphinx.builders.html.StandaloneHTMLBuilder.get_outdated_docs", "outputs",
          "outputs.outdated_pages is a copy of it (build info and template check as they are; each page and source "
          "named as a string): port any change, and check the private helpers it imports are still there",
          None, "7d5181bbdef3e2df", ("_cli", "_build_info", "_timestamps", "_format_rfc3339_microseconds",
                                     "_last_modified_time")),
    Reach("sphinx.project.Project.doc2path", "outputs",
          "outputs.source_path joins srcdir and _docname_to_path[docname] as it does (its fallback for an unknown "
          "document is asked of it): still so?", None, "29a55b5ac503b03b", ("_docname_to_path",)),
    Reach("sphinx.search.IndexBuilder.load", "search",
          "search.LOADED names what it sets (_filenames, _titles, _all_titles, _mapping, _title_mapping): "
          "still those, and does freeze() of what it loads equal freeze() of what was dumped?",
          None, "c24ae7124c75bec5"),
    Reach("sphinx.search.IndexBuilder.get_terms", "search",
          "search.bounded_terms stands in for it on a marked indexer (an instance attribute, which freeze calls): "
          "same result (an int for a word of one document, else the sorted numbers), skipping only documents "
          "fn2index lacks? Port any change", None, "17dfbb037658eb43"),
    Reach("sphinx.search.IndexBuilder.__init__", "search",
          "search.ENV_MAPPINGS names the environment's _search_index_* mappings a fresh indexer starts from "
          "(never handed on): still those?", None, "70c416ff71bf7279"),
    Reach("sphinx.search.IndexBuilder.prune", "outputs",
          "prune_dropping_empty_words calls it, then drops empty words from _mapping and _title_mapping; for an "
          "indexer search.py marked, prune_bounded does instead what it does to _titles, _filenames and "
          "_all_titles, and removes from each word's set the titled documents not kept (its intersection_update, "
          "while every word's documents are titled ones): port any change", NOT_REPORTED, "641e80493b89fc0c",
          ("_mapping", "_title_mapping", "_titles", "_filenames", "_all_titles")),
    Reach("sphinx.writers.html5.HTML5Translator.visit_title", "accessibility",
          "AccessibleHTMLTranslator.visit_title copies its toctree-caption branch (adding aria-level)",
          NOT_REPORTED, "5c6d505d6a0819c1"),
    Reach("docutils.writers._html_base.HTMLTranslator.visit_citation", "accessibility",
          "AccessibleHTMLTranslator.visit_citation replaces it (role=listitem)", NOT_REPORTED, "7bd9067a81911624"),
    Reach("sphinx.util.logging.SphinxLogRecordTranslator.filter", "diagnostics",
          "diagnostics.location_text mirrors how it turns a warning's location into file:line", None,
          "64f33099331c1082"),
    Reach("sphinx.application.Sphinx._init_env", "garbage",
          "garbage.py pauses the collector from config-inited to builder-inited: is the environment still "
          "loaded in between?", None, "6198d42a9f4ee800"),
    Reach("sphinx.application.Sphinx.build", "preview",
          "the preview worker resets app._warncount and app.statuscode before each warm build: still the "
          "counters build() reads?", None, "a32fcc88ccc74d88", ("_warncount",)),
    Reach("sphinx.environment.BuildEnvironment.get_doctree", "preview",
          "the preview worker clears env._pickled_doctree_cache (and the master_doctree cached property) "
          "between warm builds", None, "d09d37a15512f46d", ("_pickled_doctree_cache",)),
    Reach("sphinx.util.logging.OnceFilter", "preview",
          "the preview worker clears each OnceFilter's messages between warm builds", None, "e45be00a47b0b876"),
    Reach("sphinx.builders.html.StandaloneHTMLBuilder.copy_theme_static_files", "preview",
          "preview/worker.copy_theme_static_files_once replaces it on the warm builder and skips it while "
          "every file it copied is as it left it: does it still copy only the theme's static folders?", None,
          "7c409adaac985d63"),
    Reach("sphinx.builders.Builder._read_serial", "preview",
          "preview/worker.render_early_page reads one document as it does (env-purge-doc, clear_doc, read_doc) "
          "after env-before-read-docs, then emits env-updated as Builder.read does: same steps, same events?",
          None, "6cbd7050b7f12563"),
    Reach("sphinx.builders.html.StandaloneHTMLBuilder.write_doc", "preview",
          "preview/worker.render_early_page points builder.outdir and app.outdir at the early page's folder "
          "(where the output's _static and _images are linked), builder.doctreedir away from the build's, and "
          "app.doctreedir at links to the build's records (written over by rename, never through): "
          "does writing a page still read and write only there (and checksum _static files under outdir)?",
          None, "4d1e73ac39e43239"),
    Reach("sphinx.util.fileutil._template_basename", "preview",
          "preview/worker.copy_theme_static_files_once names a template's output as it does (_t, .jinja)", None,
          "5be7ba9229982de2", ("_template_basename",)),
    Reach("sphinx.search.IndexBuilder.feed", "search",
          "search.cache_stemming replaces the indexer's lang.stem with a process-wide cache: does feed still "
          "stem through self.lang.stem (and memoise only per call)? And search.mark_bounded relies on it setting "
          "_titles[docname] before adding docname to any word's set (as load makes both from one list): still so? And "
          "parallel.write_in_parallel feeds writers' empty mappings and merges them: does feed still set only "
          "parallel.FED_PER_PAGE (per page) and FED_PER_WORD (word -> pages), and read only the page's own entries?",
          NOT_REPORTED, "46e3b5c2cd7c0548"),
    Reach("sphinx.cmd.build._parse_confoverrides", "preview",
          "preview/server.parse_args turns -D/-A/-n into confoverrides with it", None, "3bbcc40ca02ef0a1",
          ("_parse_confoverrides",)),
    Reach("sphinx.directives.other.Include", "paths",
          "paths.ContainedInclude copies its option spec and builds one to run", None, "5c12ae150eb29318"),
    Reach("sphinx.directives.code.LiteralInclude.run", "paths",
          "ContainedLiteralInclude checks the path (and :diff:) first", None, "25d2441d1f90dfff"),
    Reach("docutils.parsers.rst.directives.misc.Raw.run", "paths",
          "RawWithoutFiles refuses :file: and :url: before it", None, "66098f701f9b3a4f"),
    Reach("docutils.parsers.rst.directives.tables.CSVTable.run", "paths",
          "CSVTableWithoutFiles refuses :file: and :url: before it", None, "0c9d909dc5f8a062"),
    # -- MyST-Parser --------------------------------------------------------------------------
    Reach("myst_parser.mdit_to_docutils.base.DocutilsRenderer.setup_render", "docsettings",
          "evaluates make_document() even when given the document: docsettings makes its settings from a kept "
          "parser (replacing the module global get_default_settings); still so?", None, "54c71a24fb44257b"),
    Reach("myst_parser.mdit_to_docutils.base.make_document", "docsettings",
          "still calls get_default_settings through the module global?", None, "9dc29dce2fd8a390"),
    Reach("myst_parser.mocking.MockState.__init__", "paths",
          "paths.ContainedInclude finds MyST's renderer as state._renderer", None, "a9511b39516eab8a", ("_renderer",)),
    Reach("myst_parser.mocking.MockIncludeDirective.__init__", "paths",
          "ContainedInclude constructs it as DocutilsRenderer.run_directive does", None, "bfd8fa88c16dbe0c"),
    Reach("myst_parser.mdit_to_docutils.base.DocutilsRenderer.run_directive", "paths",
          "hands include subclasses to MockIncludeDirective without calling run: why ContainedInclude "
          "is no subclass", None, "c5f84f576e73081a"),
    Reach("myst_parser.config.main.read_topmatter", "articles",
          "articles.read_topmatter is a copy of it with articles.safe_load (libyaml) for yaml.safe_load: "
          "port any change", None, "2462dafee09db8e8"),
    Reach("myst_parser.parsers.sphinx_.MystParser.parse", "articles",
          "articles.use_fast_yaml_in_myst replaces the module global read_topmatter it calls: still called "
          "through that global, once per document?", None, "b9675e903621faae"),
    Reach("myst_parser.mdit_to_docutils.base.DocutilsRenderer.render_front_matter", "articles",
          "articles.use_fast_yaml_in_myst replaces the module global yaml it reads (FastYaml: safe_load with "
          "libyaml, all else PyYAML's): still yaml.safe_load on token.content, through that global?", None,
          "02cf026bb22177ac"),
    # -- Furo ---------------------------------------------------------------------------------
    Reach("furo._compute_navigation_tree", "navigation",
          "navigation.FURO_NAVIGATION copies the toctree() arguments it passes", None, "c7142b0f26de7a27"),
    Reach("furo.navigation.get_navigation_tree", "navigation",
          "navigation.furo_markup writes the markup it would make of our sidebar "
          "(test_navigation pins it byte for byte)", None, "9efc5d712177b2d8"),
    # -- textstat -----------------------------------------------------------------------------
    Reach("textstat.backend.counts._count_syllables.count_syllables", "readability",
          "readability.textstat_offline replaces the module's get_cmudict so it never downloads "
          "(then Pyphen counts)", NOT_REPORTED, "d77f4fbc22660898", ("_count_syllables",)),
    # -- sphinx-autobuild ---------------------------------------------------------------------
    Reach("sphinx_autobuild.__main__._get_sphinx_build_parser", "preview",
          "preview/server.parse_args takes sphinx-autobuild's exact command line from it", None, "808cc04d9f170bbb",
          ("_get_sphinx_build_parser",)),
    Reach("sphinx_autobuild.server.RebuildServer", "preview",
          "PreviewServer subclasses it and overrides watch, lifespan and __call__; uses paths, ignore, "
          "should_exit and main", None, "2bb46ba44b13984a"),
    Reach("sphinx_autobuild.middleware.JavascriptInjectorMiddleware", "preview",
          "StatusInjector makes its script a per-page property", None, "0d4ea95b2a57f704"),
)
# fmt: on


def resolve(dotted: str) -> object:
    """The object named *dotted*: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(f"nothing of {dotted!r} imports")


def normalise(source: str) -> str:
    """Source text without what does not change behaviour: indentation of the block, blank and comment lines."""
    lines = (line.rstrip() for line in textwrap.dedent(source).splitlines())
    return "\n".join(line for line in lines if line and not line.lstrip().startswith("#"))


def fingerprint(obj: object) -> str:
    source = normalise(inspect.getsource(inspect.unwrap(obj)))
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def drift(reach: Reach) -> str | None:
    """What to say when *reach*'s upstream code is not what we checked, or None while it is."""
    try:
        now = fingerprint(resolve(reach.upstream))
    except (ImportError, AttributeError, OSError, TypeError) as exc:
        now = f"gone ({type(exc).__name__}: {exc})"
    if now == reach.fingerprint:
        return None
    waiting = f" (waiting on {reach.issue})" if reach.issue and reach.issue != NOT_REPORTED else ""
    return (
        f"upstream {reach.upstream} changed ({reach.distribution} "
        f"{installed_version(reach.distribution)}: fingerprint {now}, checked {reach.fingerprint}). "
        f"Our module citedhealth.{reach.ours} depends on it{waiting}; re-check: {reach.recheck}. "
        f"Then update its row in citedhealth/upstream.py (python -m citedhealth.upstream prints fingerprints)."
    )


@functools.cache
def installed_version(distribution: str) -> str:
    """The installed version (once per process: each look-up reads every package's metadata)."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def markdown_table() -> str:
    """The table as the README's "Working on the code" shows it (a test keeps the two the same)."""
    rows = ["| Upstream | Our module | Re-check on an upgrade | Upstream issue |", "| --- | --- | --- | --- |"]
    for reach in REACHES:
        issue = reach.issue or "—"
        rows.append(f"| `{reach.upstream}` | `{reach.ours}` | {reach.recheck} | {issue} |")
    return "\n".join(rows)


def version_problems(distributions=None) -> list[str]:
    """One sentence for each installed distribution outside :data:`SUPPORTED`; [] if all are supported."""
    from packaging.specifiers import SpecifierSet

    problems = []
    for name in sorted(distributions if distributions is not None else SUPPORTED):
        installed = installed_version(name)
        if installed == "not installed":
            problems.append(f"{name} is not installed (supported: {SUPPORTED[name]})")
            continue
        if not SpecifierSet(SUPPORTED[name]).contains(installed, prereleases=True):
            problems.append(
                f"{name} {installed} is installed, but Cited Health's extension was checked against "
                f"{name}{SUPPORTED[name]}: re-check the rows of citedhealth/upstream.py for {name} "
                f"(make test-fast), then update SUPPORTED there"
            )
    if sys.version_info[:2] < PYTHON:
        problems.append(f"Python {sys.version.split()[0]} is older than {'.'.join(map(str, PYTHON))}")
    return problems


def check_versions(app: Sphinx | None = None, distributions=None) -> None:
    """Refuse to build with versions the table was not checked against (a clear message, no traceback)."""
    from sphinx.errors import VersionRequirementError

    if app is not None:
        app.require_sphinx((9, 0))
    if distributions is None:
        distributions = set(SUPPORTED) - PREVIEW_ONLY
    problems = version_problems(distributions)
    if problems:
        raise VersionRequirementError("; ".join(problems))


def main(argv: list[str] | None = None) -> int:
    """Print each row's current fingerprint beside the pinned one (for updating the table after an upgrade).

    ``--markdown`` prints the README's table instead."""
    if (sys.argv[1:] if argv is None else argv) == ["--markdown"]:
        print(markdown_table())
        return 0
    for reach in REACHES:
        try:
            now = fingerprint(resolve(reach.upstream))
        except (ImportError, AttributeError, OSError, TypeError) as exc:
            now = f"unresolved ({exc})"
        mark = "" if now == reach.fingerprint else "   <- changed"
        print(f"{reach.upstream}  {reach.fingerprint}  {now}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
