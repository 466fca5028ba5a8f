"""mkdocs hook: links from a page to a repository file outside docs/ (`../bench/results/...`,
`../schema/flowfleet.schema.json`) keep working on the site, without weakening `--strict`.

Such a file is copied into the site under `repository/<its path>` and the link pointed
there; a link to a folder (`../examples/quickstart`) becomes its path in the repository,
as code. A link to a file that does not exist is left alone, so the strict build still
fails on it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

LINK = re.compile(
    r"(?P<bang>!?)\[(?P<text>[^\]]*)\]\((?P<target>\.\./[^)\s#]+)(?P<anchor>#[^)]*)?\)"
)
SITE_FOLDER = "repository"


def _outside(page_source: Path, target: str, docs: Path) -> Path | None:
    """The repository path a link points to, when it is outside docs/ but in the repository."""
    resolved = (page_source.parent / target).resolve()
    root = docs.parent.resolve()
    if resolved.is_relative_to(docs.resolve()) or not resolved.is_relative_to(root):
        return None
    return resolved


def on_files(files: Files, config: Any) -> Files:
    """Add every repository file that a page links to outside docs/."""
    docs = Path(config["docs_dir"])
    root = docs.parent.resolve()
    for page in list(files.documentation_pages()):
        for match in LINK.finditer(Path(page.abs_src_path or "").read_text(encoding="utf-8")):
            found = _outside(Path(page.abs_src_path or ""), match["target"], docs)
            if found is None or not found.is_file():
                continue
            uri = f"{SITE_FOLDER}/{found.relative_to(root).as_posix()}"
            if files.get_file_from_path(uri) is None:
                files.append(File.generated(config, uri, abs_src_path=str(found)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Point the links at the copies (files) or at the repository path (folders)."""
    docs = Path(config["docs_dir"])
    root = docs.parent.resolve()
    source = Path(page.file.abs_src_path)

    def rewrite(match: re.Match[str]) -> str:
        found = _outside(source, match["target"], docs)
        if found is None or not found.exists():
            return match[0]
        path = found.relative_to(root).as_posix()
        if found.is_dir():
            text = match["text"]
            return f"`{path}/`" if text.strip("`").rstrip("/") == path else f"{text} (`{path}/`)"
        depth = len(Path(page.file.src_uri).parent.parts)
        link = "../" * depth + f"{SITE_FOLDER}/{path}{match['anchor'] or ''}"
        return f"{match['bang']}[{match['text']}]({link})"

    return LINK.sub(rewrite, markdown)
