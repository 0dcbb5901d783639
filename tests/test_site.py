"""The real site, built once, read as a reader's browser gets it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag
from conftest import DATA, DOCS
from pybtex.database import parse_file

ARTICLE = "articles/can-acupuncture-help-with-nerve-pain"
SEED = DATA / "seed-acupuncture-nerve-pain.txt"
# The seed's second and third lines caption a third-party picture that the
# article leaves out on purpose.
SEED_PICTURE_CAPTION = "What can acupuncture do for neck pain Can Help With Neck Pain?"

# The reference dossier's claims: a phrase of the claim's paragraph, and the
# bibliography keys of its best sources, at least one of which it must cite.
DOSSIER_CLAIMS = {
    1: ("affects millions of people worldwide", {"colloca2017neuropathic", "vanhecke2014neuropathic"}),
    2: ("inserting thin needles into specific points", {"nccih_acupuncture_indepth"}),
    3: ("stimulates the release of endorphins", {"han2004acupuncture"}),
    4: ("A meta-analysis published in the Journal of Pain", {"vickers2018acupuncture"}),
    5: ("reduce pain intensity and improve pain thresholds", {"feng2023acupuncture", "ju2017acupuncture"}),
    6: (
        "improve nerve function in individuals with neuropathy",
        {"dimitrova2017acupuncture", "chen2013manual"},
    ),
    7: ("qualified and experienced acupuncturist", {"nccih_acupuncture_indepth"}),
}
# Claims the dossier finds only partly supported, or not at all: the note
# beside each must cite these sources.
CLAIMS_NEEDING_NOTES = {
    4: {"vickers2018acupuncture"},
    5: {"feng2023acupuncture", "dimitrova2017acupuncture", "ju2017acupuncture"},
    6: {"zhang2010clinical"},
}


def normalise(text: str) -> str:
    """Fold whitespace and typographic quotes, drop spaces left before punctuation."""
    text = text.translate(str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\xa0": " "}))
    text = " ".join(text.split())
    return re.sub(r" ([.,;:?!])", r"\1", text)


def seed_sentences() -> list[str]:
    lines = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(SEED_PICTURE_CAPTION)]
    sentences = []
    for line in lines:
        sentences += re.split(r"(?<=[.?!])\s+", line)
    return sentences


@pytest.fixture(scope="module")
def article(html_site) -> BeautifulSoup:
    assert html_site.returncode == 0, html_site.stderr
    return html_site.page(ARTICLE)


@pytest.fixture(scope="module")
def bibliography() -> dict:
    return parse_file(DOCS / "references.bib").entries


def main_text(page: BeautifulSoup) -> str:
    """What a reader reads in the article: no citation markers, no permalink signs."""
    main = BeautifulSoup(str(page.find("article", attrs={"role": "main"})), "html.parser")
    for tag in main.select("span.bibtex-citation, a.headerlink"):
        tag.decompose()
    return normalise(main.get_text(" "))


def entry_key(entry: Tag, bibliography: dict) -> str:
    """The bibliography key of a rendered entry, recognised by its title."""
    text = normalise(entry.get_text(" ")).lower()
    [key] = [key for key, bib in bibliography.items() if f". {bib.fields['title'].lower()}." in text]
    return key


def cited_keys(block: Tag, page: BeautifulSoup, bibliography: dict) -> set[str]:
    """The bibliography keys a block cites, found by following each citation link."""
    return {
        entry_key(page.find(id=link["href"].removeprefix("#")), bibliography)
        for link in block.select("span.bibtex-citation a")
    }


def paragraph_with(page: BeautifulSoup, phrase: str) -> Tag:
    matches = [p for p in page.select("article[role=main] p") if phrase in normalise(p.get_text())]
    assert len(matches) == 1, f"{len(matches)} paragraphs hold {phrase!r}"
    return matches[0]


def test_build_is_strict_and_warning_free(html_site):
    assert html_site.returncode == 0, html_site.stderr
    assert "WARNING" not in html_site.stderr and "ERROR" not in html_site.stderr, html_site.stderr


def test_every_seed_sentence_is_in_the_article(article):
    text = main_text(article)
    disclaimer_label = "Disclaimer: "
    missing = []
    for sentence in seed_sentences():
        sentence = normalise(sentence.removeprefix(disclaimer_label))
        if sentence not in text:
            missing.append(sentence)
    assert not missing, "seed sentences missing from the article:\n" + "\n".join(missing)


def test_the_third_party_picture_is_left_out(html_site, article):
    html = (html_site.outdir / f"{ARTICLE}.html").read_text(encoding="utf-8")
    assert "rivernorthacu" not in html
    assert SEED_PICTURE_CAPTION not in main_text(article)
    assert all(not img["src"].startswith(("http:", "https:", "//")) for img in article.find_all("img"))


def test_every_citation_links_to_a_bibliography_entry_on_the_page(article):
    links = article.select("span.bibtex-citation a")
    assert len(links) >= len(DOSSIER_CLAIMS)
    for link in links:
        href = link["href"]
        assert href.startswith("#"), href
        entry = article.find(id=href[1:])
        assert entry is not None, f"citation {link.get_text()} points to missing {href}"
        assert "citation" in entry["class"], entry
        assert entry.find_parent("section", id="references") is not None


def test_every_entry_links_back_and_to_its_doi_and_pubmed_record(article, bibliography):
    entries = article.select("section#references div.citation")
    assert entries
    citation_ids = {span["id"] for span in article.select("span.bibtex-citation[id]")}
    for entry in entries:
        backlinks = entry.select("a[role=doc-backlink]")
        assert backlinks, entry.get_text()
        assert {a["href"][1:] for a in backlinks} <= citation_ids
        key = entry_key(entry, bibliography)
        fields = bibliography[key].fields
        hrefs = {a["href"] for a in entry.select("a.reference.external")}
        if "doi" in fields:
            assert f"https://doi.org/{fields['doi']}" in hrefs, key
        if "pmid" in fields:
            assert f"https://pubmed.ncbi.nlm.nih.gov/{fields['pmid']}/" in hrefs, key
        if "doi" not in fields:
            assert fields["url"] in hrefs, key


def test_bibliography_holds_only_the_works_the_article_cites(article, bibliography):
    entries = article.select("section#references div.citation")
    cited = cited_keys(article.find("article", attrs={"role": "main"}), article, bibliography)
    assert len(entries) == len(cited) == len(bibliography)  # this article cites the whole checked list


@pytest.mark.parametrize("claim", sorted(DOSSIER_CLAIMS))
def test_each_dossier_claim_cites_its_best_source(article, bibliography, claim):
    phrase, best_sources = DOSSIER_CLAIMS[claim]
    assert cited_keys(paragraph_with(article, phrase), article, bibliography) & best_sources


@pytest.mark.parametrize("claim", sorted(CLAIMS_NEEDING_NOTES))
def test_partly_supported_claims_have_an_editorial_note_beside_them(article, bibliography, claim):
    paragraph = paragraph_with(article, DOSSIER_CLAIMS[claim][0])
    note = paragraph.find_next_sibling()
    assert note is not None and "ch-editorial-note" in note.get("class", []), "no editorial note follows the claim"
    assert note.select_one(".admonition-title").get_text().startswith("Editorial note")
    assert CLAIMS_NEEDING_NOTES[claim] <= cited_keys(note, article, bibliography)


def test_exactly_one_disclaimer_inside_an_admonition_before_the_first_section(article):
    boxes = article.select(".ch-disclaimer")
    assert len(boxes) == 1
    box = boxes[0]
    assert {"admonition", "warning"} <= set(box["class"])
    assert "informational purposes only" in box.get_text()
    # Readers meet it before the article's first section, not only at the end.
    first_section = article.select_one("article[role=main] section section")
    assert box.find_next("section") is first_section


def test_article_is_on_its_topic_pages_the_a_to_z_and_the_landing_page(html_site, article):
    # Its topics (front matter): each topic's page lists it; its sidebar opens the first.
    for topic in ("pain-and-nerves", "complementary-therapies"):
        listed = [a["href"] for a in html_site.page(f"topics/{topic}").select("ul.ch-topic-articles a")]
        assert listed == [f"../{ARTICLE}.html"], topic
    [opened] = article.select(".sidebar-tree li.toctree-l1.current > a")
    assert opened.get_text() == "Pain and nerves"
    [current] = article.select(".sidebar-tree li.current-page > a")
    assert current.get_text() == "Can Acupuncture Help With Nerve Pain?"
    assert [a["href"] for a in html_site.page("a-z").select("section#letter-c a")] == [f"{ARTICLE}.html"]
    listed = html_site.page("index").select("ul.ch-article-list a")
    assert [a["href"] for a in listed] == [f"{ARTICLE}.html"]
    # Every page links the A–Z page and the topics from its sidebar.
    sidebar = [a.get_text() for a in html_site.page("index").select(".sidebar-tree a")]
    assert sidebar[:2] == ["Articles A–Z", "Pain and nerves"]
    assert (html_site.outdir / "feed.xml").is_file()


def test_article_page_has_meta_description_and_a_favicon_that_exists(html_site, article):
    description = article.find("meta", attrs={"name": "description"})["content"]
    assert description.startswith("What the research says about acupuncture")
    icon = article.find("link", rel="icon")
    assert (html_site.outdir / Path(ARTICLE).parent / icon["href"]).resolve().is_file()


def test_build_leaves_the_sources_untouched(site):
    # The session's builds (PDFs, HTML) changed, added and removed no file under docs/.
    assert site.sources_before
    assert site.sources_after == site.sources_before


def test_article_page_links_its_pdf_visibly(article):
    link = article.select_one("article[role=main] p.ch-download-pdf a")
    assert link.get_text() == "Download PDF"
    assert link["href"] == "../pdf/can-acupuncture-help-with-nerve-pain.pdf"
    assert link["type"] == "application/pdf"
