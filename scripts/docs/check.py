#!/usr/bin/env python3
"""Checks the built documentation site (`make docs-check`); exits 1 naming every problem.

1. Links: every href/src of every page (the API references under api/ are targets, not
   checked as sources) points at a file of the site, and every #fragment at an id of its
   target page. External http(s) and mailto links are not followed (CI has no network).
2. Coverage: every item of ycm.h (and every enumerator and struct field), every ycm_code,
   every known YCM errcode and config key (as declared in src/), and every command of the
   CLI reference has its anchor on its reference page, with text under it.
3. Snippets: every {{#include FILE[:ANCHOR]}} of docs/src names an existing file and anchor
   with content; the built page shows that content as it is in the file today; and the file
   (unless generated) is run by the examples script, so a snippet on the site always ran.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple
from urllib.parse import unquote, urlsplit

sys.path.insert(0, str(Path(__file__).parent))
import c_reference  # noqa: E402


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: Set[str] = set()
        self.links: List[str] = []
        self.code: List[str] = []
        self._in_code = 0

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key) and (key == "id" or tag == "a"):
                self.ids.add(a[key] or "")
        for key in ("href", "src"):
            if a.get(key) and tag in ("a", "link", "script", "img", "iframe"):
                self.links.append(a[key] or "")
        if tag == "code":
            self._in_code += 1
            self.code.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "code" and self._in_code:
            self._in_code -= 1

    def handle_data(self, data: str) -> None:
        if self._in_code:
            self.code[-1] += data


def load(path: Path, cache: Dict[Path, Page]) -> Page:
    if path not in cache:
        page = Page()
        page.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = page
    return cache[path]


def check_links(site: Path, cache: Dict[Path, Page], problems: List[str]) -> int:
    checked = 0
    for page_path in sorted(site.rglob("*.html")):
        rel = page_path.relative_to(site)
        if rel.parts[0] == "api" or rel.name == "404.html":  # 404.html uses site-absolute URLs
            continue
        page = load(page_path, cache)
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https", "mailto", "data", "javascript") or link.startswith("//"):
                continue
            checked += 1
            if parts.path:
                target = (page_path.parent / unquote(parts.path)).resolve()
                if target.is_dir():
                    target = target / "index.html"
            else:
                target = page_path
            if not target.exists():
                problems.append(f"{rel}: broken link {link!r} (no {target})")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = load(target, cache).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{rel}: broken anchor {link!r} (no id {parts.fragment!r} in {target.relative_to(site)})")
    return checked


def require_anchors(site: Path, page: str, anchors: List[str], what: str, cache: Dict[Path, Page],
                    problems: List[str]) -> None:
    ids = load(site / page, cache).ids
    for anchor in anchors:
        if anchor not in ids:
            problems.append(f"{page}: {what} {anchor!r} is undocumented (no anchor #{anchor})")


def sections_have_text(site: Path, page: str, problems: List[str]) -> None:
    """Every generated heading is followed by some text before the next heading."""
    text = (site / page).read_text(encoding="utf-8")
    main = text[text.find("<main>"):text.find("</main>")]
    for m in re.finditer(r'<h([23]) id="([^"]+)">(.*?)</h\1>(.*?)(?=<h[23] |</main>|$)', main, re.S):
        body = re.sub(r"<[^>]+>", "", m.group(4)).strip()
        if not body:
            problems.append(f"{page}: section #{m.group(2)} has no text")


INCLUDE = re.compile(r"\{\{#include\s+([^}:\s]+)(?::([A-Za-z0-9_-]+))?\s*\}\}")


def anchored(text: str, anchor: Optional[str]) -> Optional[str]:
    lines = text.split("\n")
    if anchor is None:
        body = lines
    else:
        start = [i for i, l in enumerate(lines) if re.search(rf"ANCHOR:\s*{re.escape(anchor)}\b", l)]
        end = [i for i, l in enumerate(lines) if re.search(rf"ANCHOR_END:\s*{re.escape(anchor)}\b", l)]
        if len(start) != 1 or len(end) != 1 or end[0] <= start[0]:
            return None
        body = lines[start[0] + 1:end[0]]
    return "\n".join(l for l in body if not re.search(r"ANCHOR(_END)?:", l))


def check_snippets(src: Path, site: Path, gen: Path, examples_script: Path, cache: Dict[Path, Page],
                   problems: List[str]) -> int:
    script = examples_script.read_text(encoding="utf-8")
    repo = src.parent.parent.resolve()
    count = 0
    for md in sorted(src.rglob("*.md")):
        rel = md.relative_to(src)
        for m in INCLUDE.finditer(md.read_text(encoding="utf-8")):
            count += 1
            file = (md.parent / m.group(1)).resolve()
            where = f"docs/src/{rel}: {{{{#include {m.group(1)}{':' + m.group(2) if m.group(2) else ''}}}}}"
            if not file.exists():
                problems.append(f"{where}: no such file {file}")
                continue
            body = anchored(file.read_text(encoding="utf-8"), m.group(2))
            if body is None:
                problems.append(f"{where}: anchor {m.group(2)!r} missing, repeated or unterminated in {file.name}")
                continue
            if not body.strip():
                problems.append(f"{where}: the included text is empty")
                continue
            generated = gen.resolve() in file.parents
            if not generated:
                name = str(file.relative_to(repo))
                if name not in script:
                    problems.append(f"{where}: {name} is not run by {examples_script} (a snippet must come from a file CI runs)")
                built = site / rel.with_suffix(".html")
                shown = "\n".join(load(built, cache).code)
                missing = [l.strip() for l in body.split("\n") if l.strip() and l.strip() not in shown]
                if missing:
                    problems.append(f"{where}: {built.relative_to(site)} does not show the file's current text "
                                    f"(first missing line: {missing[0]!r})")
    return count


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--site", type=Path, required=True)
    ap.add_argument("--src", type=Path, required=True)
    ap.add_argument("--gen", type=Path, required=True)
    ap.add_argument("--header", type=Path, required=True)
    ap.add_argument("--examples", type=Path, required=True)
    args = ap.parse_args()
    args.site = args.site.resolve()
    problems: List[str] = []
    cache: Dict[Path, Page] = {}

    links = check_links(args.site, cache, problems)

    _, items = c_reference.parse(args.header.read_text(encoding="utf-8"))
    header_anchors = [it.name for it in items]
    header_anchors += [m if it.kind == "enum" else f"{it.name}.{m}" for it in items for m, _, _ in it.members]
    require_anchors(args.site, "reference/c-api.html", header_anchors, "header item", cache, problems)
    codes = [m for it in items if it.name == "ycm_code" for m, _, _ in it.members]
    require_anchors(args.site, "reference/error-codes.html", codes, "code", cache, problems)
    # The declarations in src/, read here independently of the generator.
    repo = args.src.parent.parent
    errcodes = re.findall(r"number:\s*(\d+),", (repo / "src/errcodes.rs").read_text(encoding="utf-8"))
    require_anchors(args.site, "reference/error-codes.html", [f"errcode-{n}" for n in errcodes], "YCM errcode",
                    cache, problems)
    config = (repo / "src/config.rs").read_text(encoding="utf-8")
    table = config[config.index("pub const CONFIG_OPTIONS"):]
    table = table[:table.index("];")]
    keys = re.findall(r'name:\s*"([a-z_]+)"', table)
    require_anchors(args.site, "reference/config-keys.html", keys, "config key", cache, problems)
    commands = re.findall(r"^## `(ycm[^`]*)` \{#", (args.gen / "cli.md").read_text(encoding="utf-8"), re.M)
    require_anchors(args.site, "reference/cli.html", [c.replace(" ", "-") for c in commands], "CLI command",
                    cache, problems)
    if len(commands) < 10:
        problems.append(f"reference/cli.html: only {len(commands)} commands documented")
    for page in ("reference/c-api.html", "reference/error-codes.html", "reference/config-keys.html",
                 "reference/cli.html"):
        sections_have_text(args.site, page, problems)

    snippets = check_snippets(args.src, args.site, args.gen, args.examples, cache, problems)

    for p in problems:
        print(f"docs-check: {p}", file=sys.stderr)
    print(f"docs-check: {links} links, {len(header_anchors)} header items, {len(codes)} codes, "
          f"{len(errcodes)} YCM errcodes, {len(keys)} config keys, {len(commands)} CLI commands, "
          f"{snippets} includes: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
