"""A small, strict HTML well-formedness check for the report tests (stdlib html.parser).

    problems = check_html(text)      # [] when the page is well formed
    assert_well_formed(text)         # raises AssertionError listing the problems

Checks: one <!DOCTYPE html>, one <html>, <head> and <body>; every non-void element closed in
order (no stray or crossed end tags, nothing left open); attribute values quoted; no duplicate
attribute on an element; ids unique across the page (inline SVG included); no void element
written with an end tag. Tags inside <svg> may self-close (`<path/>`), as XML allows there.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}
"""HTML elements that never have content or an end tag."""
OPTIONAL_END = {"p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "option"}
"""Elements HTML lets you leave unclosed; this checker still wants them closed."""
_ATTRIBUTE = re.compile(r"""\s*([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")


def _unquoted_attributes(start_tag: str) -> list[str]:
    """Names of attributes in a raw start tag whose value is not in quotes."""
    body = re.sub(r"^<[^\s/>]+", "", start_tag).rstrip(">").rstrip("/")
    return [
        m.group(1) for m in _ATTRIBUTE.finditer(body)
        if m.group(2) is not None and m.group(2)[0] not in "\"'"
    ]


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, int]] = []
        self.problems: list[str] = []
        self.ids: dict[str, int] = {}
        self.counts = {"html": 0, "head": 0, "body": 0}
        self.doctypes = 0

    def _where(self) -> int:
        return self.getpos()[0]

    def handle_decl(self, decl):
        if decl.lower().startswith("doctype"):
            self.doctypes += 1
            if decl.lower() != "doctype html":
                self.problems.append(f"line {self._where()}: unexpected doctype {decl!r}")

    def _start(self, tag, attrs, *, self_closing: bool):
        line = self._where()
        raw = self.get_starttag_text() or ""
        for name in _unquoted_attributes(raw):
            self.problems.append(f"line {line}: unquoted value of {name!r} in {raw[:80]!r}")
        names = [name for name, _ in attrs]
        for name in set(names):
            if names.count(name) > 1:
                self.problems.append(f"line {line}: attribute {name!r} repeated on <{tag}>")
        for name, value in attrs:
            if name == "id":
                if not value:
                    self.problems.append(f"line {line}: empty id on <{tag}>")
                elif value in self.ids:
                    self.problems.append(
                        f"line {line}: id {value!r} already used on line {self.ids[value]}"
                    )
                else:
                    self.ids[value] = line
        if tag in self.counts:
            self.counts[tag] += 1
        in_svg = any(t == "svg" for t, _ in self.stack) or tag == "svg"
        if tag in VOID:
            return
        if self_closing:
            if not in_svg:
                self.problems.append(f"line {line}: <{tag}/> is not a void element")
            return
        self.stack.append((tag, line))

    def handle_starttag(self, tag, attrs):
        self._start(tag, attrs, self_closing=False)

    def handle_startendtag(self, tag, attrs):
        self._start(tag, attrs, self_closing=True)

    def handle_endtag(self, tag):
        line = self._where()
        if tag in VOID:
            self.problems.append(f"line {line}: end tag </{tag}> for a void element")
            return
        if not self.stack:
            self.problems.append(f"line {line}: stray </{tag}> with nothing open")
            return
        open_tag, open_line = self.stack[-1]
        if open_tag == tag:
            self.stack.pop()
            return
        if any(t == tag for t, _ in self.stack):
            self.problems.append(
                f"line {line}: </{tag}> closes over <{open_tag}> left open on line {open_line}"
            )
            while self.stack and self.stack[-1][0] != tag:
                self.stack.pop()
            self.stack.pop()
        else:
            self.problems.append(f"line {line}: stray </{tag}> (innermost open: <{open_tag}>)")

    def finish(self) -> list[str]:
        self.close()
        for tag, line in self.stack:
            self.problems.append(f"<{tag}> opened on line {line} is never closed")
        if self.doctypes != 1:
            self.problems.append(f"expected one <!DOCTYPE html>, found {self.doctypes}")
        for tag, count in self.counts.items():
            if count != 1:
                self.problems.append(f"expected one <{tag}>, found {count}")
        return self.problems


def check_html(text: str) -> list[str]:
    """Problems found in an HTML document; [] when it is well formed."""
    checker = _Checker()
    checker.feed(text)
    return checker.finish()


def assert_well_formed(text: str) -> None:
    """Raise AssertionError listing (up to 20) problems when `text` is not well formed."""
    problems = check_html(text)
    assert not problems, f"{len(problems)} HTML problems:\n" + "\n".join(problems[:20])


class _IdCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if values.get("id"):
            self.found[values["id"]] = {"tag": tag, **values}

    handle_startendtag = handle_starttag


def elements_by_id(text: str) -> dict[str, dict[str, str | None]]:
    """id -> the element's attributes (plus 'tag'), for reading data-value etc. back."""
    collector = _IdCollector()
    collector.feed(text)
    collector.close()
    return collector.found
