"""Pages read as a browser reads them, for the page tests: a page (or an htmx fragment, or a live
message) parsed with selectolax's lexbor parser, and what a person or a screen reader finds in it:
the text of an element (whitespace collapsed, entities decoded), the rows of a list, a definition
list's facts, a form control's value, the choices it offers, and the error message tied to it by
``aria-describedby``. Each lookup that expects one element fails when there is none or several.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

Tree = LexborHTMLParser | LexborNode


def parse(markup: str) -> LexborHTMLParser:
    """The parsed markup; a fragment is parsed into a body of its own, as innerHTML would be."""
    return LexborHTMLParser(markup)


# Elements that start on a line of their own (or break one), so their text never runs into
# the text before them.
BREAKS = frozenset({"br", "p", "div", "li", "dt", "dd", "ul", "ol", "dl", "h1", "h2", "h3", "h4",
                    "h5", "h6", "section", "header", "footer", "table", "tr", "td", "th",
                    "option"})  # fmt: skip


def text_of(node: LexborNode) -> str:
    """The node's text as read: entities decoded, a space where a line breaks, whitespace runs
    made one space, trimmed."""
    parts = [
        (part.text_content or "") if part.tag == "-text" else " "
        for part in node.traverse(include_text=True)
        if part.tag == "-text" or part.tag in BREAKS
    ]
    return " ".join("".join(parts).split())


def one(tree: Tree, css: str) -> LexborNode:
    """The only element matching ``css``."""
    found = tree.css(css)
    assert len(found) == 1, f"{len(found)} elements match {css!r}"
    return found[0]


def text(tree: Tree, css: str) -> str:
    """The text of the only element matching ``css``."""
    return text_of(one(tree, css))


def texts(tree: Tree, css: str) -> list[str]:
    """The texts of the elements matching ``css``, in page order."""
    return [text_of(node) for node in tree.css(css)]


def element_ids(tree: Tree, css: str, prefix: str = "") -> list[str]:
    """The ids of the elements matching ``css``, in page order, without ``prefix``."""
    return [(node.id or "").removeprefix(prefix) for node in tree.css(css)]


def facts(tree: Tree, css: str = "dl") -> dict[str, str]:
    """The terms and descriptions of the definition lists matching ``css``."""
    found: dict[str, str] = {}
    for dl in tree.css(css):
        for term in dl.css("dt"):
            description = term.next
            while description is not None and description.tag != "dd":
                description = description.next
            assert description is not None, f"{text_of(term)!r} has no description"
            found[text_of(term)] = text_of(description)
    return found


def partial(tree: Tree, target: str) -> LexborNode:
    """The htmx partial (``<hx-partial>``) of an answer or live message that swaps ``target``."""
    return one(tree, f'hx-partial[hx-target="{target}"]')


def controls(tree: Tree, name: str) -> list[LexborNode]:
    """The form controls called ``name``."""
    return tree.css(f'input[name="{name}"], textarea[name="{name}"], select[name="{name}"]')


def value(tree: Tree, name: str) -> str:
    """What the only control called ``name`` would send: an input's value, a textarea's text,
    a select's selected option (or its first, as a browser picks)."""
    found = controls(tree, name)
    assert len(found) == 1, f"{len(found)} controls are called {name!r}"
    control = found[0]
    if control.tag == "textarea":
        return control.text()
    if control.tag == "select":
        chosen = control.css("option[selected]") or control.css("option")
        return chosen[0].attributes.get("value") or "" if chosen else ""
    return control.attributes.get("value") or ""


def checked(tree: Tree, name: str) -> list[str]:
    """The values of the checked boxes or radio buttons called ``name``."""
    return [
        node.attributes.get("value") or "on"
        for node in tree.css(f'input[name="{name}"]')
        if "checked" in node.attributes
    ]


def options(tree: Tree, name: str) -> dict[str, str]:
    """The choices of the only select called ``name``: each option's value and its text."""
    select = one(tree, f'select[name="{name}"]')
    return {o.attributes.get("value") or "": text_of(o) for o in select.css("option")}


def field_error(tree: Tree, name: str) -> str | None:
    """The error message tied by ``aria-describedby`` to the control called ``name`` (or to the
    fieldset grouping it), as a screen reader announces it; None if there is none."""
    found = controls(tree, name)
    assert found, f"no control is called {name!r}"
    node: LexborNode | None = found[0]
    if "aria-describedby" not in found[0].attributes:
        node = found[0].parent
        while node is not None and node.tag != "fieldset":
            node = node.parent
    described = (node.attributes.get("aria-describedby") if node else None) or ""
    errors = [
        text_of(element)
        for key in described.split()
        for element in tree.css(f'[id="{key}"]')
        if "error-text" in (element.attributes.get("class") or "").split()
    ]
    return " ".join(errors) or None


def invalid(tree: Tree, name: str) -> bool:
    """Whether a control called ``name`` is marked ``aria-invalid``."""
    return any(c.attributes.get("aria-invalid") == "true" for c in controls(tree, name))


def href(tree: Tree, label: str) -> str | None:
    """Where the only link reading ``label`` goes; None if no link reads so."""
    found = [a.attributes.get("href") for a in tree.css("a[href]") if text_of(a) == label]
    assert len(found) <= 1, f"{len(found)} links read {label!r}"
    return found[0] if found else None
