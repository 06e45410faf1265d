"""Reads the results pages as a person would: the text of elements found by their data-* attributes.

A tiny tree built with the standard library's HTMLParser; enough to find a table row by its key and read the
cells' visible text, then turn "74,5%" or "1.234" back into numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    """An element: its tag, attributes, children (nodes or text)."""

    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        """The visible text, whitespace collapsed (SVG titles and text left out: they repeat the cell)."""
        parts: list[str] = []

        def walk(node: Node) -> None:
            if node.tag in ("svg", "script", "style", "title"):
                return
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                else:
                    walk(child)

        walk(self)
        return " ".join("".join(parts).split())

    def iter(self) -> Iterator[Node]:
        """This node and every element under it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        """Every element under this one with the tag (if given) and these attribute values (data_x: data-x)."""
        wanted = {name.replace("_", "-"): value for name, value in attrs.items()}
        return [n for n in self.iter() if (tag is None or n.tag == tag)
                and all(n.attrs.get(k) == v or (v == "*" and k in n.attrs) for k, v in wanted.items())]

    def one(self, tag: str | None = None, **attrs: str) -> Node:
        """The single element matching; an AssertionError naming it otherwise."""
        found = self.all(tag, **attrs)
        assert len(found) == 1, f"expected one <{tag or '*'} {attrs}>, found {len(found)}"
        return found[0]

    def has_class(self, name: str) -> bool:
        """True when the element has this CSS class."""
        return name in self.attrs.get("class", "").split()


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    """The page as a tree."""
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def number(text: str) -> int:
    """A count as the page writes it: 1.234 -> 1234."""
    return int(text.strip().replace(".", ""))


def share(text: str) -> float | None:
    """A share as the page writes it: '74,5%' -> 0.745, '–' -> None."""
    text = text.strip()
    if text == "–":
        return None
    assert text.endswith("%"), text
    return float(text[:-1].replace(",", ".")) / 100


def close(page: float | None, computed: float | None, digits: int = 1) -> bool:
    """True when a share read off the page is the computed one as shown (rounded to `digits` decimals of a %)."""
    if page is None or computed is None:
        return page is None and computed is None
    return abs(page - computed) <= 0.5 * 10 ** -(digits + 2) + 1e-12
