"""YAML with line numbers: plain Python values plus the line where each value starts.

PyYAML's composer gives a node tree whose nodes carry start marks; we build the values from it
ourselves so that every mapping key and list item gets a path (`("rules", 3, "effects",
"remove_by")`) and a line. Validation errors then name `file:line: rules[3].effects.remove_by`.

Policy files come from users, so this is an edge: anchors and aliases are refused (a few lines of
aliases can expand to gigabytes), so are duplicate keys (YAML would silently keep the last one,
dropping a deadline), non-text keys and nesting deeper than any pack needs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[str | int, ...]
MAX_DEPTH = 32


class MarkedError(ValueError):
    """The text is not YAML this loader accepts; `line` is 1-based when known."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def load_marked(text: str) -> tuple[Any, dict[Path, int]]:
    """Parse one YAML document into values and a map from value path to its 1-based line."""
    _refuse_deep_flow(text)
    loader = _Loader(text)
    try:
        _refuse_aliases(text)
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise MarkedError(mark.line + 1 if mark else None, _yaml_message(exc)) from None
    except yaml.YAMLError as exc:
        raise MarkedError(None, f"not valid YAML: {exc}") from None
    except RecursionError:
        raise MarkedError(None, "nested too deeply") from None
    finally:
        loader.dispose()
    if node is None:
        raise MarkedError(1, "the file is empty")
    builder = _Builder()
    value = builder.build(node, ())
    return value, builder.lines


def _refuse_aliases(text: str) -> None:
    """Refuse aliases before composing, naming the alias's own line (the composed tree only
    knows where the anchor was)."""
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            raise MarkedError(event.start_mark.line + 1, "anchors and aliases are not supported")


# libyaml's parser when present: PyYAML's pure-Python scanner is quadratic on hostile input.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_FLOW_DEPTH = 64


def _refuse_deep_flow(text: str) -> None:
    """Refuse flow collections nested deeper than any policy needs, before any parser sees
    them: `[[[[...` costs PyYAML time and recursion far beyond its size. Brackets inside quotes
    (on one line) and comments do not count."""
    depth = 0
    quote = ""
    comment = False
    line = 1
    for ch in text:
        if ch == "\n":  # a stray apostrophe in a plain scalar must not hide the next lines
            line += 1
            comment = False
            quote = ""
            continue
        if comment:
            continue
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            comment = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                raise MarkedError(line, "nested too deeply")
        elif ch in "]}":
            depth = max(0, depth - 1)


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (exc.context, exc.problem) if p]
    return "not valid YAML: " + ("; ".join(parts) or str(exc))


class _Builder:
    def __init__(self) -> None:
        self.lines: dict[Path, int] = {}
        self._seen: set[int] = set()
        self._scalars = SafeConstructor()

    def build(self, node: Node, path: Path) -> Any:
        if len(path) > MAX_DEPTH:
            raise MarkedError(_line(node), "nested too deeply")
        if id(node) in self._seen:  # the composer hands out one node object per alias
            raise MarkedError(_line(node), "anchors and aliases are not supported")
        self._seen.add(id(node))
        self.lines.setdefault(path, _line(node))
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._scalar(key_node) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                raise MarkedError(_line(key_node), "keys must be text")
            if key in out:
                raise MarkedError(_line(key_node), f"duplicate key {key!r}")
            self.lines[(*path, key)] = _line(key_node)
            out[key] = self.build(value_node, (*path, key))
        return out

    def _scalar(self, node: Node) -> Any:
        try:
            value = self._scalars.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise MarkedError(_line(node), f"not valid YAML: {exc}") from None
        except ValueError:
            # An impossible unquoted date (2025-13-01) matches YAML's timestamp pattern and
            # fails in datetime; as text, the schema names the field and line like any bad date.
            return node.value
        if isinstance(value, dt.datetime):  # a timestamp with a time: keep as typed text
            return value.isoformat()
        return value


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of `path`, or of its nearest ancestor present in the file (a missing field is
    reported at the mapping that lacks it)."""
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None


def path_text(path: Path) -> str:
    """`("rules", 3, "effects", "remove_by")` as `rules[3].effects.remove_by`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
