"""Write a corpus of N articles for benchmarks and scale tests.

Contract: ``generate(n, target)`` copies the real ``docs/`` (configuration,
extension, bibliography, static files) into *target* and replaces its
articles folder with *n* articles made from the real one,
``docs/articles/can-acupuncture-help-with-nerve-pain.md``:

- article 0 is the real article, word for word (so N = 1 is the real site);
- every other article has its own title and slug, keeps the front matter,
  the one ``{disclaimer}``, the introduction, the conclusion and the
  ``{bibliography}``, and a different subset of the middle sections;
- its ``topics`` is one topic of ``docs/conf.py``'s ``citedhealth_topics``,
  taken in turn (article *i* has topic *i* modulo their number), so the
  corpus spreads evenly across the site's topics;
- its citations are re-drawn, per article, from the keys of the real
  ``docs/references.bib`` (never an invented source), so articles cite
  different works in different orders.

The output passes the strict build. It is synthetic text for timing and
scale only: it never goes into ``docs/``.

``add_library(target, entries)`` adds a large bibliography to such a copy:
*entries* generated works (valid BibTeX, unique keys, DOIs and PMIDs;
authors, titles, journals, years, volumes and pages drawn at random from
small lists) appended to ``references.bib``, and a reading-list page,
``library.md``, that cites every one of them and lists them in its
``{bibliography}``. The works are cited, so the rule that every entry is
cited somewhere holds without suppressing anything: a site with that many
entries must cite them all. The DOIs use the prefix 10.5555, which no real
work has, and the works are made up: they never go into ``docs/``.

Command line: ``python benchmarks/generate_corpus.py N TARGET [--seed S] [--library ENTRIES]``.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import re
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
SEED_ARTICLE = DOCS / "articles" / "can-acupuncture-help-with-nerve-pain.md"
BIBFILE = DOCS / "references.bib"

# Conditions that replace "Nerve Pain" in the titles of generated articles.
TOPICS = [
    "Nerve Pain",
    "Back Pain",
    "Neck Pain",
    "Knee Pain",
    "Shoulder Pain",
    "Migraine",
    "Tension Headache",
    "Sciatica",
    "Carpal Tunnel Syndrome",
    "Shingles Pain",
    "Diabetic Neuropathy",
    "Chronic Pain",
    "Fibromyalgia",
    "Arthritis",
    "Bell's Palsy",
    "Jaw Pain",
]
CITE = re.compile(r"(\{cite:[a-z]+\}`)([^`]+)(`)")


def site_topics(conf: Path = DOCS / "conf.py") -> list[str]:
    """``citedhealth_topics`` as ``docs/conf.py`` sets it (read from its syntax tree: the file is not run)."""
    tree = ast.parse(conf.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "citedhealth_topics" for t in node.targets):
            return [str(value) for value in ast.literal_eval(node.value)]
    raise ValueError(f"{conf} sets no citedhealth_topics")


def bib_keys(path: Path = BIBFILE) -> list[str]:
    """Every entry key of the bibliography, in file order."""
    return re.findall(r"^@\w+\{([^,\s]+),", path.read_text(encoding="utf-8"), flags=re.MULTILINE)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def split_article(text: str) -> tuple[str, str, list[str]]:
    """(front matter with its fences, what comes before the first ``##``, the ``##`` sections)."""
    match = re.match(r"(---\n.*?\n---\n)(.*)", text, flags=re.DOTALL)
    if not match:
        raise ValueError(f"{SEED_ARTICLE} has no front matter")
    front, body = match.groups()
    parts = re.split(r"(?m)^(?=## )", body)
    return front, parts[0], parts[1:]


def article_text(index: int, seed: int, source: str, keys: list[str], topics: list[str]) -> tuple[str, str]:
    """(slug, Markdown) of article *index*; index 0 is the real article unchanged."""
    if index == 0:
        return SEED_ARTICLE.stem, source
    rng = random.Random(seed * 1_000_003 + index)
    front, head, sections = split_article(source)
    topic = TOPICS[index % len(TOPICS)]
    title = f"Can Acupuncture Help With {topic}? Part {index}"
    slug = slugify(title)
    front = re.sub(r"(?m)^title: .*$", f"title: {title}", front)
    front = re.sub(
        r"(?m)^description: .*$",
        f"description: What the research says about acupuncture for {topic.lower()}, part {index}.",
        front,
    )
    # JSON strings are YAML strings: any topic's name is safe.
    front = re.sub(r"(?m)^topics: .*$", f"topics: [{json.dumps(topics[index % len(topics)])}]", front)
    # Introduction first; Conclusion and References last; a few of the middle ones between.
    first, *middle, conclusion, references = sections
    chosen = sorted(rng.sample(range(len(middle)), rng.randint(2, len(middle))))
    body = head + first + "".join(middle[i] for i in chosen) + conclusion + references
    body = body.replace("Nerve Pain", topic).replace("nerve pain", topic.lower())

    # Each original key maps to a key of the real bibliography, drawn per article.
    used = rng.sample(keys, rng.randint(4, len(keys)))
    mapping = {}

    def redraw(match: re.Match) -> str:
        targets = []
        for key in (k.strip() for k in match.group(2).split(",")):
            new = mapping.setdefault(key, rng.choice(used))
            if new not in targets:
                targets.append(new)
        return match.group(1) + ",".join(targets) + match.group(3)

    return slug, front + CITE.sub(redraw, body)


def generate(n: int, target: Path, seed: int = 0) -> list[Path]:
    """Copy ``docs/`` into *target* with *n* articles; return the article files."""
    if n < 1:
        raise ValueError("a corpus needs at least one article")
    target = Path(target)
    shutil.copytree(DOCS, target, ignore=shutil.ignore_patterns("_build", "__pycache__"), dirs_exist_ok=True)
    articles = target / "articles"
    shutil.rmtree(articles)
    articles.mkdir()
    source = SEED_ARTICLE.read_text(encoding="utf-8")
    keys = bib_keys()
    topics = site_topics()
    written = []
    for index in range(n):
        slug, text = article_text(index, seed, source, keys, topics)
        path = articles / f"{slug}.md"
        if path.exists():
            raise ValueError(f"two generated articles share the slug {slug!r}")
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


SURNAMES = (
    "Smith Garcia Chen Okafor Novak Silva Tanaka Ivanova Haddad Larsen Moreau Rossi Kowalski Nguyen Patel".split()
)
GIVEN = "Anna Ben Carla Dev Elif Femi Greta Hiro Ines Jon Kemi Lars Mina Nils Omar".split()
JOURNALS = [
    "Journal of Pain Research",
    "Pain Medicine",
    "BMJ Open",
    "Complementary Therapies in Medicine",
    "Journal of Integrative Medicine",
    "Acupuncture in Medicine",
    "Neurology",
    "The Clinical Journal of Pain",
]
TITLE_WORDS = (
    "acupuncture electroacupuncture sham needling placebo neuropathic chronic pain outcomes adults trial "
    "randomised cohort systematic review meta-analysis follow-up diabetic peripheral sensory function"
).split()


def library_entries(entries: int, seed: int = 0) -> list[tuple[str, str]]:
    """(key, BibTeX) of *entries* generated ``@article`` works, each unique in key, DOI and PMID."""
    rng = random.Random(seed)
    works = []
    for index in range(entries):
        year = rng.randint(1990, 2025)
        authors = " and ".join(f"{rng.choice(SURNAMES)}, {rng.choice(GIVEN)}" for _ in range(rng.randint(1, 6)))
        words = rng.sample(TITLE_WORDS, rng.randint(4, 9))
        title = " ".join(words).capitalize()
        key = f"{authors.split(',')[0].lower()}{year}{words[0].replace('-', '')}{index}"
        first_page = rng.randint(1, 900)
        works.append(
            (
                key,
                f"@article{{{key},\n"
                f"  author  = {{{authors}}},\n"
                f"  title   = {{{title}}},\n"
                f"  journal = {{{rng.choice(JOURNALS)}}},\n"
                f"  year    = {{{year}}},\n"
                f"  volume  = {{{rng.randint(1, 60)}}},\n"
                f"  number  = {{{rng.randint(1, 12)}}},\n"
                f"  pages   = {{{first_page}--{first_page + rng.randint(3, 20)}}},\n"
                f"  doi     = {{10.5555/bench.{year}.{index}}},\n"
                f"  pmid    = {{{40_000_000 + index}}},\n"
                f"  evidence = {{{rng.choice(EVIDENCE_KINDS)}}}\n"
                "}\n",
            )
        )
    return works


#: Every entry carries a kind of evidence, as the build requires of cited entries (evidence.py).
EVIDENCE_KINDS = ("systematic review or meta-analysis", "randomised controlled trial", "observational study")


def add_library(target: Path, entries: int, seed: int = 0) -> list[str]:
    """Append *entries* generated works to *target*'s ``references.bib`` and a page citing them all; return the keys."""
    target = Path(target)
    works = library_entries(entries, seed)
    with (target / "references.bib").open("a", encoding="utf-8") as bib:
        bib.write("\n" + "\n".join(text for _, text in works))
    keys = [key for key, _ in works]
    paragraphs = [
        "Works consulted {cite:p}`" + ",".join(keys[start : start + 50]) + "`." for start in range(0, len(keys), 50)
    ]
    page = "---\norphan: true\n---\n\n# Reading list\n\n" + "\n\n".join(paragraphs)
    page += "\n\n## References\n\n```{bibliography}\n```\n"
    (target / "library.md").write_text(page, encoding="utf-8")
    return keys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a copy of docs/ with N generated articles.")
    parser.add_argument("n", type=int, help="how many articles")
    parser.add_argument("target", type=Path, help="the folder to write (a copy of docs/)")
    parser.add_argument("--seed", type=int, default=0, help="varies the generated articles (default 0)")
    parser.add_argument("--library", type=int, default=0, help="add this many generated, cited bibliography entries")
    args = parser.parse_args(argv)
    written = generate(args.n, args.target, args.seed)
    print(f"wrote {len(written)} article(s) into {args.target / 'articles'}")
    if args.library:
        add_library(args.target, args.library, args.seed)
        print(f"added {args.library} cited entries to {args.target / 'references.bib'} ({args.target / 'library.md'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
