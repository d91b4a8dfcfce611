"""The documentation holds together: the README stays short and lists every example, and every link in
the repository's Markdown resolves, a relative one to a file or folder of the repository and an
`#anchor` to a heading of the page it names, as GitHub makes heading anchors. External links are not
fetched (the suite runs offline); they must be well-formed http(s) addresses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from inference_charts import paths

ROOT = paths.REPO_ROOT
README_LIMIT = 15 * 1024
PAGES_GLOBS = ("README.md", "docs/**/*.md", "charts/*/README.md", "ci/README.md", "examples/**/*.md")

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+)(.+?)\1", re.S)
_ATX = re.compile(r"^\s{0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_HTML_ANCHOR = re.compile(r"""<a\s[^>]*?(?:name|id)\s*=\s*["']([^"']+)["']""", re.I)
# [text](target) and ![alt](target), the target optionally in <...> and followed by a "title".
_INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"
                          r"(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_REFERENCE_DEF = re.compile(r"^\s{0,3}\[(?!\^)[^\]]+\]:\s*(<[^>]*>|\S+)", re.M)
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_LINE_ANCHOR = re.compile(r"^L\d+(?:C\d+)?(?:-L\d+(?:C\d+)?)?$")


def pages() -> list[Path]:
    found: set[Path] = set()
    for pattern in PAGES_GLOBS:
        found.update(p for p in ROOT.glob(pattern) if p.is_file())
    return sorted(found)


def _prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    fence = ""
    for number, line in enumerate(text.splitlines(), 1):
        match = _FENCE.match(line)
        if fence:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = ""
            continue
        if match:
            fence = match.group(1)
            continue
        yield number, line


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading's text, before duplicates are numbered: the rendered text
    (code spans keep their content, links their text, emphasis and HTML go), lower-cased, every character
    but letters, digits, spaces, hyphens and underscores removed, each space turned into a hyphen."""
    code: list[str] = []

    def keep(match: re.Match[str]) -> str:
        code.append(match.group(2).strip())
        return f"\0{len(code) - 1}\0"

    text = _INLINE_CODE.sub(keep, heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text)  # HTML tags
    text = re.sub(r"(?<!\w)_+|_+(?!\w)", "", text)  # _emphasis_ markers, not snake_case
    text = re.sub(r"\0(\d+)\0", lambda m: code[int(m.group(1))], text)
    kept = "".join(c for c in text.strip().lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a Markdown page offers: heading slugs, duplicates numbered -1, -2, ... in page order
    (as github-slugger does), and explicit <a name=...>/<a id=...> anchors."""
    found: set[str] = set()
    seen: dict[str, int] = {}

    def add(heading: str) -> None:
        slug = base = github_slug(heading)
        while slug in seen:
            seen[base] += 1
            slug = f"{base}-{seen[base]}"
        seen[slug] = 0
        found.add(slug)

    previous = ""
    for _, line in _prose_lines(text):
        found.update(_HTML_ANCHOR.findall(line))
        atx = _ATX.match(line)
        if atx:
            add(atx.group(2) or "")
        elif _SETEXT.match(line) and previous.strip() and not re.match(r"^\s{0,3}([-*+>|#]|\d+[.)])", previous):
            add(previous.strip())
        previous = "" if atx else line
    return found


def links(text: str) -> Iterator[tuple[int, str]]:
    """(line number, target) of every link outside code: inline links and images, reference
    definitions and autolinks."""
    for number, line in _prose_lines(text):
        prose = _INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line)
        for pattern in (_INLINE_LINK, _REFERENCE_DEF, _AUTOLINK):
            for match in pattern.finditer(prose):
                target = match.group(1)
                if target.startswith("<") and target.endswith(">"):
                    target = target[1:-1]
                yield number, target


@dataclass(frozen=True)
class Broken:
    page: Path
    line: int
    target: str
    why: str

    def __str__(self) -> str:
        where = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page
        return f"{where}:{self.line}: ({self.target}) {self.why}"


def _external_problem(target: str) -> str | None:
    """Why an address with a scheme is not a well-formed link, or None."""
    parsed = urlparse(target)
    if parsed.scheme in ("http", "https"):
        host = parsed.hostname or ""
        if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+", host):
            return "not a well-formed http(s) address (no host name)"
        return None
    if parsed.scheme == "mailto":
        return None if "@" in parsed.path else "not a mail address"
    return f"unknown scheme {parsed.scheme!r}"


def check_page(page: Path, root: Path = ROOT) -> list[Broken]:
    """Every broken link of one Markdown page, relative targets resolved from the page's folder and kept
    inside ``root``."""
    text = page.read_text()
    problems = []
    own_anchors: set[str] | None = None
    for line, target in links(text):
        def broken(why: str, line: int = line, target: str = target) -> None:
            problems.append(Broken(page, line, target, why))

        if not target:
            broken("empty link")
            continue
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
            why = _external_problem(target)
            if why:
                broken(why)
            continue
        path_part, _, anchor = target.partition("#")
        if path_part.startswith("/"):
            broken("absolute path: GitHub resolves it against the host, not the repository")
            continue
        if path_part:
            destination = (page.parent / unquote(path_part)).resolve()
            if not destination.is_relative_to(root.resolve()):
                broken("points outside the repository")
                continue
            if not destination.exists():
                broken("no such file or folder")
                continue
        else:
            destination = page
        if not anchor:
            continue
        anchor = unquote(anchor)
        if destination.is_dir():
            broken("an anchor on a folder")
        elif destination.suffix.lower() == ".md":
            if destination == page:
                own_anchors = anchors(text) if own_anchors is None else own_anchors
                offered = own_anchors
            else:
                offered = anchors(destination.read_text())
            if anchor.lower() not in offered:
                broken(f"no heading with the anchor #{anchor} in {destination.name}")
        elif not _LINE_ANCHOR.match(anchor):
            broken("an anchor on a file that is not Markdown (only #L<line> anchors work there)")
    return problems


# --- the repository's pages -----------------------------------------------------------------------------


def test_readme_is_short() -> None:
    size = (ROOT / "README.md").stat().st_size
    assert size < README_LIMIT, f"README.md is {size} bytes; keep it under {README_LIMIT} and move detail to docs/"


def test_the_pages_are_found() -> None:
    found = {p.relative_to(ROOT).as_posix() for p in pages()}
    assert {"README.md", "docs/development.md", "docs/requirements.md", "charts/vllm-multinode/README.md",
            "ci/README.md"} <= found


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_resolves(page: Path) -> None:
    problems = check_page(page)
    assert not problems, "\n".join(map(str, problems))


def test_the_readme_links_every_docs_page() -> None:
    targets = {target.partition("#")[0] for _, target in links((ROOT / "README.md").read_text())}
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"docs/{page.name}" in targets, f"README.md does not link docs/{page.name}"


def test_the_readme_lists_every_example() -> None:
    targets = {target.partition("#")[0] for _, target in links((ROOT / "README.md").read_text())}
    for entry in sorted(paths.EXAMPLES_DIR.iterdir()):
        name = f"examples/{entry.name}"
        if entry.is_dir():
            assert any(t.startswith(name + "/") for t in targets), f"README.md's examples table lacks {name}/"
        else:
            assert name in targets, f"README.md's examples table lacks {name}"


# --- the checker itself ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("heading", "slug"), [
    ("The two commands", "the-two-commands"),
    ("Workload kinds and helm test", "workload-kinds-and-helm-test"),
    ("Parallel layout: TP and PP, or a profile", "parallel-layout-tp-and-pp-or-a-profile"),
    ("What an engine chart does with `global`", "what-an-engine-chart-does-with-global"),
    ("Measured: two H200s joined by NVLink (device kind `nvidia-h200-x2`, 2026-11-23)",
     "measured-two-h200s-joined-by-nvlink-device-kind-nvidia-h200-x2-2026-11-23"),
    ("0. Seeds: what they claim, and whether it is corroborated",
     "0-seeds-what-they-claim-and-whether-it-is-corroborated"),
    ("Open items (verify against the NGC-published nim-llm chart before coding)",
     "open-items-verify-against-the-ngc-published-nim-llm-chart-before-coding"),
    ("`values.schema.json` and [the docs](x.md)", "valuesschemajson-and-the-docs"),
    ("snake_case and _emphasis_", "snake_case-and-emphasis"),
    ("TP8·PP2 -- two  spaces", "tp8pp2----two--spaces"),
])
def test_github_slug(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


def test_duplicate_headings_are_numbered_and_code_is_not_a_heading() -> None:
    text = "# Values\n\n## Values\n\n```bash\n# not a heading\n```\n\nValues\n------\n\n<a name=\"here\"></a>\n"
    assert anchors(text) == {"values", "values-1", "values-2", "here"}


def test_the_checker_finds_broken_links(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "other.md").write_text("# Other page\n\n## Same\n\n## Same\n")
    (tmp_path / "data.yaml").write_text("a: 1\n")
    page = tmp_path / "docs" / "page.md"
    page.write_text(
        "# Page\n\n## A section\n\n"
        "Good: [a](other.md), [b](other.md#other-page), [c](other.md#same-1), [d](#a-section), [e](../data.yaml),\n"
        "[f](../docs/), [g](https://example.com/x), [h](../data.yaml#L1), ![i](other.md), <https://example.org>.\n"
        "`[not a link](nowhere.md)`\n\n"
        "```\n[not a link either](nowhere.md)\n```\n\n"
        "Bad: [1](missing.md), [2](other.md#same-2), [3](#no-such-section), [4](../../outside.md),\n"
        "[5](https://), [6](ftp://example.com/x), [7](../data.yaml#key), [8](/docs/other.md), [9]().\n\n"
        "[ref]: missing-too.md\n")
    problems = check_page(page, root=tmp_path)
    assert [(p.line, p.target) for p in problems] == [
        (13, "missing.md"), (13, "other.md#same-2"), (13, "#no-such-section"), (13, "../../outside.md"),
        (14, "https://"), (14, "ftp://example.com/x"), (14, "../data.yaml#key"), (14, "/docs/other.md"),
        (14, ""), (16, "missing-too.md")]
    assert "no such file or folder" in str(problems[0])
    assert "no heading with the anchor #same-2 in other.md" in str(problems[1])
