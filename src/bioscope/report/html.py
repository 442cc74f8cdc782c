"""A self-contained HTML page of results: headings, paragraphs, tables, figures, commands.

Figures are linked by relative path, so the page and its folder move together.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bioscope.io import atomic_write_text

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
    "color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
    "padding:4px 8px;text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}"
    "img{max-width:100%;border:1px solid #ddd}pre{background:#f6f6f6;padding:.6em;"
    "overflow-x:auto}"
)


@dataclass
class HtmlPage:
    """Blocks appended in order, rendered by :meth:`write`."""

    title: str
    blocks: list[str] = field(default_factory=list)

    def heading(self, text: str) -> None:
        """A section heading."""
        self.blocks.append(f"<h2>{html.escape(text)}</h2>")

    def paragraph(self, text: str) -> None:
        """A paragraph of plain text."""
        self.blocks.append(f"<p>{html.escape(text)}</p>")

    def table(self, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """A table; floats with 3 significant decimals."""
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
            for row in rows
        )
        self.blocks.append(f"<table><tr>{head}</tr>{body}</table>")

    def figure(self, path: str, caption: str) -> None:
        """An image by relative path, with a caption."""
        self.blocks.append(
            f'<figure><img src="{html.escape(path)}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )

    def code(self, text: str) -> None:
        """A block of commands."""
        self.blocks.append(f"<pre>{html.escape(text)}</pre>")

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the page atomically."""
        title = html.escape(self.title)
        text = (
            f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{STYLE}</style></head><body><h1>{title}</h1>"
            + "\n".join(self.blocks)
            + "</body></html>\n"
        )
        return atomic_write_text(path, text)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
