"""Reading what a user sees in a rendered page."""

from __future__ import annotations

import re

import lxml.html

# A small CSS-selector subset (cssselect is not a dependency): tag, .class,
# #id, [attr], [attr=value], descendant " ", child ">" and "," groups.
_SIMPLE = re.compile(r"([\w*-]+)?((?:\.[\w-]+|#[\w-]+|\[[\w-]+(?:=[^\]]+)?\])*)")
_PART = re.compile(r"\.([\w-]+)|#([\w-]+)|\[([\w-]+)(?:=([^\]]+))?\]")


def _step(simple: str) -> str:
    match = _SIMPLE.fullmatch(simple)
    assert match, f"unsupported selector {simple!r}"
    conditions = []
    for cls, id_, attr, value in _PART.findall(match.group(2) or ""):
        if cls:
            conditions.append(f"contains(concat(' ', normalize-space(@class), ' '), ' {cls} ')")
        elif id_:
            conditions.append(f"@id='{id_}'")
        elif value:
            conditions.append(f"@{attr}='{value.strip(chr(34) + chr(39))}'")
        else:
            conditions.append(f"@{attr}")
    return (match.group(1) or "*") + "".join(f"[{c}]" for c in conditions)


def xpath(css: str) -> str:
    paths = []
    for group in css.split(","):
        tokens = group.replace(">", " > ").split()
        path, axis = ".", "//"
        for token in tokens:
            if token == ">":
                axis = "/"
                continue
            path += axis + _step(token)
            axis = "//"
        paths.append(path)
    return " | ".join(paths)


def select(root, css: str) -> list:
    return root.xpath(xpath(css))


def parse(response) -> lxml.html.HtmlElement:
    assert response.status_code == 200, response.status_code
    return lxml.html.fromstring(response.content.decode())


def text(element) -> str:
    """The visible text of an element, whitespace folded."""
    return " ".join(element.text_content().split())


def one(root, css: str):
    found = select(root, css)
    assert len(found) == 1, f"{len(found)} elements match {css!r}"
    return found[0]


def texts(root, css: str) -> list[str]:
    return [text(e) for e in select(root, css)]


def stories(root) -> list:
    return select(root, "section.results article.story")


def titles(root) -> list[str]:
    return [text(one(s, ".story-title")) for s in stories(root)]


def story_about(entities: dict, **fields):
    """A story whose about-list is `entities`: {Entity: stars} or {Entity: (stars, score)}."""
    from tests.factories import ArticleFactory, MentionFactory

    article = ArticleFactory(**fields)
    for entity, rank in entities.items():
        stars, score = rank if isinstance(rank, tuple) else (rank, float(rank))
        MentionFactory(article=article, entity=entity, stars=stars, score=score)
    return article
