"""Reads a regular expression's parse tree and names what could make it super-linear on untrusted text.

A pattern is accepted when, for any text, each position it may start at costs
a bounded amount of work:

- every repeat has an upper bound, except a possessive repeat that ends the
  pattern, which either fails within its first ``min`` iterations or ends a
  match (and finditer goes on after the match);
- one attempt reads at most ``MAX_WIDTH`` characters, look-behinds included;
- a repeat of variable count (that can run twice or more) holds no
  backtracking repeat of variable count unless each iteration needs a
  character that none of those inner repeats can match
  (``(?:\\.\\w{1,63}){1,8}``: the "." splits the iterations one way only);
  ``(?:\\w{1,9}){1,9}`` can split the same text in thousands of ways.

The character classes are compared over a sample of Unicode (Latin, Greek,
punctuation, full-width forms), which is where the patterns' classes differ.
"""

from __future__ import annotations

import re
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]

MAX_WIDTH = 2048
REPEATS = (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT)
SINGLE = (c.LITERAL, c.NOT_LITERAL, c.IN, c.ANY)
SAMPLE = [chr(i) for i in [*range(0, 0x2100), *range(0x3000, 0x3100), *range(0xFF00, 0xFFF0)]]
_CATEGORIES = {"DIGIT": str.isdecimal, "SPACE": str.isspace, "WORD": lambda ch: ch.isalnum() or ch == "_"}


def _category(name, ch: str) -> bool:
    name = str(name)
    kind = next(k for k in _CATEGORIES if name.endswith(k))
    return _CATEGORIES[kind](ch) != ("NOT" in name)


def _in_set(items, ch: str) -> bool:
    negate = bool(items) and items[0][0] is c.NEGATE
    hit = False
    for op, av in items:
        if op is c.LITERAL:
            hit |= ord(ch) == av
        elif op is c.RANGE:
            hit |= av[0] <= ord(ch) <= av[1]
        elif op is c.CATEGORY:
            hit |= _category(av, ch)
    return hit != negate


def _single_matches(op, av, ch: str, ignorecase: bool) -> bool:
    for variant in {ch, ch.lower(), ch.upper()} if ignorecase else {ch}:
        if len(variant) != 1:
            continue
        if (
            (op is c.ANY)
            or (op is c.LITERAL and ord(variant) == av)
            or (op is c.NOT_LITERAL and ord(variant) != av)
            or (op is c.IN and _in_set(av, variant))
        ):
            return True
    return False


_CLASSES: dict[str, frozenset[str]] = {}


def char_class(items, ignorecase: bool) -> frozenset[str]:
    """Every sample character some single-character node under ``items`` can match."""
    key = f"{ignorecase}{items!r}"
    if key not in _CLASSES:
        nodes = list(_single_nodes(items))
        _CLASSES[key] = frozenset(
            ch for ch in SAMPLE if any(_single_matches(op, av, ch, ignorecase) for op, av in nodes)
        )
    return _CLASSES[key]


def _single_nodes(items):
    for op, av in items:
        if op in SINGLE:
            yield op, av
        else:
            yield from (node for child in _children(op, av) for node in _single_nodes(child))


def _children(op, av) -> list:
    if op in REPEATS:
        return [av[2]]
    if op is c.SUBPATTERN:
        return [av[3]]
    if op is c.BRANCH:
        return list(av[1])
    if op in (c.ASSERT, c.ASSERT_NOT):
        return [av[1]]
    if op is c.ATOMIC_GROUP:
        return [av]
    return []


def _backtracking_variable(items):
    for op, av in items:
        if op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] != av[1]:
            yield av[2]
        for child in _children(op, av):
            yield from _backtracking_variable(child)


def _mandatory_classes(items, ignorecase: bool):
    for op, av in items:
        if op in SINGLE or (op in REPEATS and av[0] >= 1 and all(o in SINGLE for o, _ in av[2])):
            yield char_class([(op, av)], ignorecase)


def _unbounded_allowed(items, index: int, top: bool) -> bool:
    """A possessive repeat that ends the pattern: it either fails within its first ``min`` iterations
    or ends a match, and finditer goes on after the match, so no character is read twice."""
    return top and index == len(items) - 1 and items[index][0] is c.POSSESSIVE_REPEAT


def _lookbehind_width(items) -> int:
    """How far back the look-behinds can read (``getwidth`` counts them as nothing)."""
    width = 0
    for op, av in items:
        if op in (c.ASSERT, c.ASSERT_NOT) and av[0] == -1:
            width = max(width, av[1].getwidth()[1])
        for child in _children(op, av):
            width = max(width, _lookbehind_width(child))
    return width


def _problems(items, ignorecase: bool, exempt: list[int] | None = None) -> list[str]:
    """``exempt`` (top level only) collects the unbounded repeats allowed there."""
    problems = []
    for index, (op, av) in enumerate(items):
        if op in REPEATS:
            low, high, body = av
            if high == c.MAXREPEAT:
                if _unbounded_allowed(items, index, exempt is not None):
                    exempt.append(index)  # type: ignore[union-attr]
                else:
                    problems.append("an unbounded repeat")
            inner = [char_class(b, ignorecase) for b in _backtracking_variable(body)]
            separators = list(_mandatory_classes(body, ignorecase))
            if (
                low != high
                and high >= 2
                and inner
                and not any(all(s.isdisjoint(i) for i in inner) for s in separators)
            ):
                problems.append("a variable repeat inside a variable repeat with nothing to split them")
        for child in _children(op, av):
            problems += _problems(child, ignorecase)
    return problems


def audit(pattern: str, flags: int = 0) -> list[str]:
    """What makes ``pattern`` unsafe on untrusted text; empty when nothing does."""
    parsed = _parser.parse(pattern, flags & (re.I | re.M | re.S | re.X))
    ignorecase = bool(flags & re.I)
    exempt: list[int] = []
    problems = _problems(list(parsed), ignorecase, exempt)
    rest = _parser.SubPattern(parsed.state, [item for i, item in enumerate(parsed) if i not in exempt])
    if rest.getwidth()[1] + _lookbehind_width(list(parsed)) > MAX_WIDTH:
        problems.append(
            f"one attempt can read more than {MAX_WIDTH} characters (a final possessive repeat aside)"
        )
    return problems
