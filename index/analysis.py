"""Text analysis for indexing: Whoosh's analyzer chains, and a one-loop way to index with them.

Whoosh indexes a text field by running its analyzer chain as a stream of ``Token`` objects,
one generator per filter, per word: on a dense page (about 5,000 characters) that was over half
of the index's CPU. The chains used here (tokenizer, lowercase, accent folding, stop words,
stemming) turn each word into a term on its own; only the stop filter's renumbering of
positions looks at neighbours. So :class:`FoldedText` folds each distinct word once, keeps
the result in a dict, and builds the postings in one pass, producing the very bytes Whoosh's
own ``TEXT.index`` would (``tests/test_index_analysis.py`` compares them).

The analyzer itself stays Whoosh's chain: queries, highlighting and anything else that runs
the analyzer see no difference. Only :meth:`FoldedText.index` takes the short cut, and only
for a chain it recognises; anything else goes the ordinary way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    CompositeAnalyzer,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.fields import TEXT
from whoosh.formats import Positions
from whoosh.support.charset import accent_map

# Plans by what they do (see _plan_for), shared by every unpickled copy of a field.
_PLANS: dict[Any, _Plan] = {}

#: Words whose folded form is kept; past this the memo is emptied (OCR text invents words).
MEMO_WORDS = 50_000

# The same match as the tokenizer's pattern with its one group made non-capturing, so that
# ``findall`` returns whole matches. Keyed by the tokenizer's pattern (whoosh-reloaded's
# default, and Whoosh 2.7's); any other pattern with groups is matched with ``finditer``.
_NON_CAPTURING = {
    r"[\w\*]+(\.?[\w\*]+)*": r"[\w\*]+(?:\.?[\w\*]+)*",
    r"\w+(\.?\w+)*": r"\w+(?:\.?\w+)*",
}


def text_analyzer() -> Analyzer:
    """The analyzer of document text: words, lowercased, accents folded, stop words, stems."""
    # Accents are folded before stemming so "fiebre"/"fiébre" stem alike.
    return (
        RegexTokenizer()
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter()
        | StemFilter(cachesize=50000)
    )


def name_analyzer() -> Analyzer:
    """The analyzer of patient names: no stop words or stemming ("Will" and "Ng" are names)."""
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


def file_name_analyzer() -> Analyzer:
    """Every run of letters and digits is a word: "ward7_fax-03.pdf" -> ward7, fax, 03, pdf."""
    return RegexTokenizer(r"[^\W_]+") | LowercaseFilter() | CharsetFilter(accent_map)


class _Memo(dict[str, str | None]):
    """Each word's term (None for a stop word), worked out on first sight."""

    def __init__(self, fold: Callable[[str], str | None]) -> None:
        super().__init__()
        self.fold = fold

    def __missing__(self, word: str) -> str | None:
        term = self[word] = self.fold(word)
        return term


class _Plan:
    """What a recognised analyzer chain does to each word, and how it numbers positions."""

    def __init__(
        self,
        words: Callable[[str], list[str]],
        fold: Callable[[str], str | None],
        renumber: bool,
    ) -> None:
        self.words = words
        self.memo = _Memo(fold)
        self.renumber = renumber

    def positions(self, value: str) -> dict[str, list[int]]:
        """Each term of ``value`` with its positions, in order of first occurrence."""
        memo = self.memo
        if len(memo) > MEMO_WORDS:
            memo.clear()
        terms = list(map(memo.__getitem__, self.words(value)))
        poses: dict[str, list[int]] = {}
        kept: Iterable[tuple[int, str]]
        if self.renumber:
            # StopFilter(renumber=True): the first kept word keeps its place, the next ones
            # follow it with no gaps where stop words were.
            start = next((i for i, term in enumerate(terms) if term is not None), 0)
            kept = enumerate([term for term in terms if term is not None], start)
        else:
            kept = ((i, term) for i, term in enumerate(terms) if term is not None)
        for pos, term in kept:
            found = poses.get(term)
            if found is None:
                poses[term] = [pos]
            else:
                found.append(pos)
        return poses


def _plan_for(analyzer: Any) -> _Plan | None:
    """A plan for ``analyzer`` when it is a chain this module knows how to run in one loop.

    Known: a ``RegexTokenizer`` (not splitting on gaps), then ``LowercaseFilter``, then
    optionally ``CharsetFilter``, then optionally ``StopFilter`` and then optionally
    ``StemFilter``, in that order. Anything else returns None.
    """
    if not isinstance(analyzer, CompositeAnalyzer):
        return None
    items = list(analyzer.items)
    if len(items) < 2 or type(items[0]) is not RegexTokenizer or items[0].gaps:
        return None
    if type(items[1]) is not LowercaseFilter:
        return None
    rest = items[2:]
    charmap = None
    if rest and type(rest[0]) is CharsetFilter:
        charmap = rest.pop(0).charmap
    stop = rest.pop(0) if rest and type(rest[0]) is StopFilter else None
    stem = rest.pop(0) if rest and stop is not None and type(rest[0]) is StemFilter else None
    if rest or (stem is not None and stem.lang):
        return None
    expression = items[0].expression
    # Whoosh unpickles the schema afresh for every writer: plans are shared by what they do,
    # so that the memo outlives one commit.
    key = (
        expression.pattern,
        expression.flags,
        charmap is not None,
        (stop.stops, stop.min, stop.max, bool(stop.renumber)) if stop is not None else None,
        (stem.stemfn, stem.ignore) if stem is not None else None,
    )
    if charmap is not None and charmap != accent_map:
        return _Plan(_splitter(expression), _folder(charmap, stop, stem), _renumbers(stop))
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _Plan(
            _splitter(expression), _folder(charmap, stop, stem), _renumbers(stop)
        )
    return plan


def _splitter(expression: re.Pattern[str]) -> Callable[[str], list[str]]:
    if not expression.groups:
        return expression.findall
    known = _NON_CAPTURING.get(expression.pattern)
    if known is not None:
        return re.compile(known, expression.flags).findall
    finditer = expression.finditer
    return lambda value: [match.group(0) for match in finditer(value)]


def _renumbers(stop: StopFilter | None) -> bool:
    return stop is not None and bool(stop.renumber)


def _folder(
    charmap: Any, stop: StopFilter | None, stem: StemFilter | None
) -> Callable[[str], str | None]:
    stops = stop.stops if stop is not None else frozenset()
    minsize = stop.min if stop is not None else 0
    maxsize = stop.max if stop is not None else None
    stemfn = stem.stemfn if stem is not None else None
    ignore = stem.ignore if stem is not None else frozenset()

    def fold(word: str) -> str | None:
        text = word.lower()
        if charmap is not None:
            text = text.translate(charmap)
        if stop is not None and (
            len(text) < minsize or (maxsize is not None and len(text) > maxsize) or text in stops
        ):
            return None
        if stemfn is not None and text not in ignore:
            text = stemfn(text)
        return text

    return fold


class FoldedText(TEXT):
    """A ``TEXT`` field that indexes a plain string in one loop over its words.

    Same arguments, analyzer, format and postings as ``TEXT``; see the module's docstring.
    """

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        """Yield (term bytes, frequency, weight, encoded positions) for each term of ``value``.

        The same tuples, in the same order, as ``TEXT.index``.
        """
        plan = self._plan()
        if plan is None or not isinstance(value, str) or kwargs.get("mode", "index") != "index":
            yield from super().index(value, **kwargs)
            return
        if set(kwargs) - {"mode"}:
            yield from super().index(value, **kwargs)
            return
        encode = self.format.encode
        boost = self.format.field_boost
        for term, poslist in plan.positions(value).items():
            # Whoosh sums a boost of 1.0 per occurrence: the same float as the count.
            yield term.encode("utf-8"), len(poslist), float(len(poslist)) * boost, encode(poslist)

    def _plan(self) -> _Plan | None:
        plan = self.__dict__.get("_folded_plan", False)
        if plan is False:
            known = type(self.format) is Positions
            plan = _plan_for(self.analyzer) if known else None
            self.__dict__["_folded_plan"] = plan
        return plan

    def __getstate__(self) -> dict[str, Any]:
        # The schema is pickled into the index's table of contents: leave the memo out.
        state = self.__dict__.copy()
        state.pop("_folded_plan", None)
        return state


def fold_text_fields(schema: Any) -> int:
    """Index an older index's plain ``TEXT`` fields the ``FoldedText`` way; returns how many.

    An index written before ``FoldedText`` has Whoosh's own ``TEXT`` pickled in its table of
    contents. ``FoldedText`` adds no state of its own to ``TEXT`` and yields the same
    postings, so the writer's copy of the schema is switched field by field, and its commit
    records the fields as ``FoldedText``: the index indexes at the new speed from its next
    write on, with no rebuild (which takes minutes per 100,000 documents at start).
    """
    switched = 0
    for _, field in schema.items():
        if type(field) is TEXT:
            field.__class__ = FoldedText
            switched += 1
    return switched
