"""A plain YAML document (no anchors, no aliases) built from libyaml's events, as yaml.safe_load would build it.

`yaml.load(text, Loader=CSafeLoader)` composes the whole document as a node graph first (a node and two marks
per scalar) and only then builds the Python objects: at 5,000 endpoints that graph is ~35 MB for a moment, the
peak of a whole run. Here each value is built as its event arrives, with SafeLoader's own resolver and
constructors, so what is held is the document itself.
"""

from __future__ import annotations

from typing import Any

import yaml


class _Constructor(yaml.SafeLoader):
    """SafeLoader's resolver and scalar constructors, used one scalar at a time (no stream of its own)."""

    def __init__(self) -> None:
        yaml.SafeLoader.__init__(self, "")


class NotPlain(yaml.YAMLError):
    """The document uses what only the full loader builds (an anchor, an alias, a tag, a merge key)."""


def load(text: str) -> Any:
    """The single document of `text` (None when empty), as yaml.safe_load builds it; a document that is not
    plain is handed to libyaml's full loader."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return _load(text, loader)
    except NotPlain:
        return yaml.load(text, Loader=loader)  # a safe loader, which builds anchors and tags itself


def _load(text: str, loader: Any) -> Any:
    build = _Constructor()
    stack: list[Any] = []  # open collections; a mapping's pending key rides on top as a _Key
    documents: list[Any] = []

    def put(value: Any) -> None:
        if not stack:
            documents.append(value)
            return
        top = stack[-1]
        if isinstance(top, list):
            top.append(value)
        elif isinstance(top, _Key):
            stack.pop()
            stack[-1][top.key] = value
        else:
            try:
                hash(value)
            except TypeError:
                raise yaml.YAMLError(f"an unhashable mapping key ({type(value).__name__})") from None
            stack.append(_Key(value))

    event: Any  # libyaml's events, whose attributes depend on their kind
    for event in yaml.parse(text, Loader=loader):
        kind = type(event)
        if kind is yaml.ScalarEvent:
            if event.anchor is not None or (event.tag is not None and event.tag != "!"):
                raise NotPlain("an anchor or a tag")
            tag = build.resolve(yaml.ScalarNode, event.value, event.implicit)
            construct = build.yaml_constructors.get(tag)
            if construct is None:  # "<<" (merge), "=" (value)
                raise NotPlain(f"a scalar of tag {tag}")
            put(construct(build, yaml.ScalarNode(tag, event.value, style=event.style)))
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.anchor is not None or (event.tag is not None and not event.implicit):
                raise NotPlain("an anchor or a tag")
            stack.append({} if kind is yaml.MappingStartEvent else [])
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            put(stack.pop())
        elif kind is yaml.AliasEvent:
            raise NotPlain("an alias")
    if len(documents) > 1:
        raise yaml.YAMLError("expected a single document in the stream")
    return documents[0] if documents else None


class _Key:
    """A mapping key waiting for its value."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key
