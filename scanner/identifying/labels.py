"""Finding field labels (``MRN:``, ``Date of Birth``) in OCR lines and the values they label.

A label is matched anywhere in a line (a crooked sticker runs into the header line), case
insensitively, tolerating OCR punctuation (``MRN;``, ``M R N``, ``D.O.B.``). Short all-caps
abbreviations match in capitals or lower case only, so ``Dos Santos`` is no ``DOS`` label.
When a label has no value after it on its line, the value is looked for directly below:
by word boxes when the page has them, by text columns otherwise.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import overload

from scanner.identifying.kept import Kept
from scanner.reading.pagetext import Word

STOP_KIND = "stop"
ROLE_PREFIX = "role:"
_TITLE_NEXT = re.compile(r"[\s'’s]*(?:Dr\b|DR\b)")


@dataclass(frozen=True)
class LabelHit:
    """One label found in a line.

    Attributes:
        kind: which field the label names (``mrn``, ``dob``, ..., or ``stop``).
        start: where the label starts in the line.
        value_start: where the text after the label and its punctuation starts.
        has_colon: whether a ``:``/``;``/``#`` separated label and value.
        words: how many words the label has (``Patient Name`` has two).
        text: the label as printed, without its punctuation.
    """

    kind: str
    start: int
    value_start: int
    has_colon: bool
    words: int = 1
    text: str = ""


def _token_pattern(token: str) -> str:
    letters = token.replace(".", "")
    if token == "#":
        return r"\#"
    if letters.isalpha() and letters.isupper() and len(letters) <= 4:
        # An abbreviation: all capitals or all lower case (so "Dos Santos" is no DOS label),
        # dots or single spaces allowed between letters (M.R.N., M R N).
        upper, lower = r"[\s.]?".join(letters), r"[\s.]?".join(letters.lower())
        return f"(?-i:{upper}|{lower})" + r"\.?"
    if token.endswith("#"):
        return _token_pattern(token[:-1]) + r"\s*\#"
    return re.escape(letters) + (r"\.?" if token.endswith(".") else "")


def _label_pattern(label: str) -> str:
    # "Patient- Name": OCR puts specks between the words of a label.
    return r"[\s.\-]*".join(_token_pattern(t) for t in label.replace("#", " #").split())


class LabelFinder:
    """Finds labels of several kinds in lines of text; build once per settings object."""

    def __init__(self, labels: Mapping[str, Sequence[str]]) -> None:
        """Compile one alternation of all labels, longest first, so the most specific wins.

        Args:
            labels: label spellings for each field kind (``{"mrn": ["MRN", ...], ...}``).
        """
        pairs = sorted(
            ((kind, label) for kind, spellings in labels.items() for label in spellings),
            key=lambda pair: len(pair[1]),
            reverse=True,
        )
        self._kinds = [kind for kind, _ in pairs]
        # Sections, values and header names each look at every line: read each line once.
        self._cache: Kept[str, list[LabelHit]] = Kept(self._find)
        patterns = [f"(?P<k{i}>{_label_pattern(lab)})" for i, (_, lab) in enumerate(pairs)]
        self._regex = _label_regex(patterns)
        # The same search, faster: Python's engine tries every label at every word start
        # of a line (5 ms of a dense page's 15). A label can begin with one letter only (or
        # '#'), so each word start is tried against the labels beginning with its letter,
        # longest first as in the whole alternation; a word start with any other ASCII
        # character cannot begin a label, and one with a non-ASCII character (which case
        # folding may match to a label's letter) is tried against them all.
        by_letter: dict[str, list[str]] = {}
        anywhere: list[str] = []
        for pattern, (_, label) in zip(patterns, pairs, strict=True):
            letter = _first_letter(label)
            if letter is None:
                anywhere.append(pattern)
            else:
                by_letter.setdefault(letter, []).append(pattern)
        self._by_letter = {
            letter: _label_regex(sorted([*own, *anywhere], key=patterns.index))
            for letter, own in by_letter.items()
        }
        self._anywhere = _label_regex(anywhere) if anywhere else None
        self._starts = re.compile(r"(?<![A-Za-z0-9])[^\s]")
        # Fewer word starts to try: on an ASCII line, only where a label's first word (or
        # its first letters) begins. A dense page has 870 word starts and 135 such places.
        self._candidates = _candidate_regex([label for _, label in pairs])

    def find(self, line: str) -> list[LabelHit]:
        """All labels in ``line``, left to right (the caller must not change the list)."""
        return self._cache[line]

    def _find(self, line: str) -> list[LabelHit]:
        hits = []
        end = 0
        if self._candidates is not None and line.isascii():
            # Lower case and a space before the line (so a label may begin it): a word
            # start is a character not in [a-z0-9] followed by a label's first word.
            starts = self._candidates.finditer(" " + line.lower())
        else:
            starts = self._starts.finditer(line)
        for start in starts:
            at = start.start()
            if at < end:
                continue  # inside the label just found (matches do not overlap)
            char = line[at]
            if char.isascii():
                regex = self._by_letter.get(char.lower(), self._anywhere)
            else:
                regex = self._regex
            match = regex.match(line, at) if regex is not None else None
            if match is None:
                continue
            end = match.end()
            index = next(int(n[1:]) for n, v in match.groupdict().items() if v and n != "sep")
            sep = match.group("sep")
            label = line[match.start() : match.start("sep")]
            colon = bool(set(sep) & set(":;#"))
            kind = self._kinds[index]
            if kind == STOP_KIND and not (colon or _marked_stop(line, match.start(), match.end())):
                continue
            hit = LabelHit(kind, match.start(), match.end(), colon, len(label.split()), label)
            hits.append(hit)
        return [
            hit
            for i, hit in enumerate(hits)
            if not hit.kind.startswith(ROLE_PREFIX) or hit.has_colon or _marked_role(line, hits, i)
        ]


def _label_regex(alternatives: Sequence[str]) -> re.Pattern[str]:
    """One alternation of label patterns, with what may follow a label and its separator."""
    return re.compile(
        rf"(?<![A-Za-z0-9])(?:{'|'.join(alternatives)})"
        r"(?:[\s.]*(?:No\b\.?|Num\b\.?|Number\b|\#))?(?![A-Za-z])"
        r"(?P<sep>[ \t]*[:;.#=\-|]*[ \t]*)",
        re.IGNORECASE,
    )


def _candidate_regex(labels: Sequence[str]) -> re.Pattern[str] | None:
    """Where in ``" " + line.lower()`` of an ASCII line a label may begin, or None.

    Each match is the one character before a label's place (its start in the line is the
    match's start), followed by the lower-case ASCII letters that begin its first word as
    :func:`_token_pattern` spells it, and by what must come next: for a label of one word
    no letter but the ``n`` of ``No`` (see :func:`_label_regex`), else the first letter of
    its second word. On an ASCII line a case-blind match is a match of the lower-cased
    line, so every place a label matches is found (and more); the pattern begins with a
    character class, which Python's engine looks for without trying every position. None
    when a label's first word begins with a character that is no ASCII letter, digit or
    ``#`` (case folding may match a non-ASCII one to an ASCII one).
    """
    by_first: dict[str, set[str]] = {}
    for label in labels:
        tokens = label.replace("#", " #").split()
        letters = _token_letters(tokens[0])
        ascii_part = letters[: next((i for i, c in enumerate(letters) if not c.isascii()), None)]
        if not ascii_part or not (ascii_part[0].isalnum() or ascii_part[0] == "#"):
            return None
        if letters.isalpha() and letters.isupper() and len(letters) <= 4:
            # An abbreviation (M.R.N., M R N): a dot or a space may part its letters.
            rest = "".join(r"[\s.]?" + re.escape(c.lower()) for c in ascii_part[1:])
        else:
            rest = re.escape(ascii_part[1:].lower())
        if ascii_part == letters:  # the whole first word: what follows it is known
            if len(tokens) == 1:
                rest += "(?![a-mo-z])"  # "regular" holds no label "Re"; "Re No" does
            else:
                second = _token_letters(tokens[1])[:1]
                if second.isascii() and (second.isalnum() or second == "#"):
                    rest += r"[\s.\-]*" + re.escape(second.lower())  # "Date of", not "Dated"
        by_first.setdefault(ascii_part[0].lower(), set()).add(rest)
    # Grouped by first character: at each place the engine compares one character per
    # group (about 20) instead of entering each of the 110 first words.
    groups = [
        re.escape(first) + ("" if "" in rests else f"(?:{'|'.join(sorted(rests))})")
        for first, rests in sorted(by_first.items())
    ]
    return re.compile(rf"[^a-z0-9](?={'|'.join(groups)})")


def _token_letters(token: str) -> str:
    """A label's word as :func:`_token_pattern` spells it, without its dots."""
    return "#" if token == "#" else token.replace(".", "")


def _first_letter(label: str) -> str | None:
    """The lower-case ASCII character every match of ``label`` begins with, or None.

    As :func:`_label_pattern` spells it: the first token without its dots (an abbreviation
    in capitals or lower case, a word in any case), or ``#``.
    """
    token = label.replace("#", " #").split()[0]
    if token == "#":
        return "#"
    letters = token.removesuffix("#").replace(".", "")
    first = letters[:1]
    if first.isascii() and first.isalnum():
        return first.lower()
    return None


def _marked_stop(line: str, start: int, end: int) -> bool:
    """Whether a minor label without a colon still reads as one: ``Room 12``, ``(Age)``.

    A bare word that is also a surname (``Ward, Wei``, ``Wei Lee Ward``) is not a label.
    """
    before = line[:start].rstrip()[-1:]
    return before in ("(", "/") or line[end:].lstrip()[:1].isdigit()


def _marked_role(line: str, hits: Sequence[LabelHit], index: int) -> bool:
    """Whether a role word without a colon still labels something.

    ``Guarantor Name:`` (another label right after it), ``Prior MRN 00123456`` (a number)
    and ``Ordering Dr. Lee`` (a title) do; ``the attending physician noted`` does not.
    """
    hit = hits[index]
    if _marked_stop(line, hit.start, hit.value_start) or _TITLE_NEXT.match(line[hit.value_start :]):
        return True
    if index + 1 < len(hits):
        between = line[hit.value_start : hits[index + 1].start]
        return not re.sub(r"^['’]s\b", "", between.strip()).strip()
    return False


def segments(line: str, hits: Sequence[LabelHit]) -> list[str]:
    """The text after each label up to the next label (or the line's end)."""
    ends = [hit.start for hit in hits[1:]] + [len(line)] if hits else []
    return [line[hit.value_start : end] for hit, end in zip(hits, ends, strict=True)]


def text_below(lines: Sequence[str], index: int, hits: Sequence[LabelHit], which: int) -> str:
    """For label ``which`` on line ``index`` with nothing after it, the text under it.

    A header row of labels with a row of values under it is split into cells on runs of two
    or more spaces when the counts agree, otherwise by the labels' character columns.
    """
    if index + 1 >= len(lines):
        return ""
    below = lines[index + 1]
    if len(hits) == 1:
        return below
    # Cells part at runs of spaces, tabs and table borders ("| DOE, JANE | 00482913 |"); a
    # "|" inside a number is OCR's "1" and stays.
    row = below.strip().strip("|").strip()
    cells = [c for c in re.split(r"\s{2,}|\t|\s+\|\s*|\s*\|\s+", row) if c]
    if len(cells) == len(hits):
        return cells[which]
    start = max(0, hits[which].start - 1)
    end = hits[which + 1].start - 1 if which + 1 < len(hits) else len(below)
    return below[start:end]


@dataclass(frozen=True)
class WordLine:
    """Words that sit on one visual line, left to right, with their text joined by spaces."""

    words: tuple[Word, ...]
    text: str
    offsets: tuple[int, ...]

    @functools.cached_property
    def top(self) -> float:
        """The highest top edge of the line's words."""
        return min(w.top for w in self.words)

    @functools.cached_property
    def bottom(self) -> float:
        """The lowest bottom edge of the line's words."""
        return max(w.bottom for w in self.words)

    @functools.cached_property
    def cells(self) -> list[str]:
        """:func:`word_cells` of the line, made once for all its labels (do not change it)."""
        return word_cells(self)

    def word_at(self, offset: int) -> Word:
        """The word covering character ``offset`` of :attr:`text`."""
        index = bisect.bisect_right(self.offsets, offset) - 1  # the offsets only ever grow
        if index < 0:
            raise ValueError(f"no word at offset {offset}")
        return self.words[index]


class WordLines(Sequence[WordLine]):
    """A page's lines of words, top to bottom: their texts at once, each line on first use.

    Finding labels needs every line's text, but only a line with a label and the line under
    it need their words and offsets (a dense page: 70 lines, a few with a label alone).
    """

    __slots__ = ("_lines", "_rows", "texts")

    def __init__(self, rows: Sequence[Sequence[Word]]) -> None:
        """Lines of ``rows``, each a row of words left to right."""
        self._rows = rows
        self.texts = [" ".join([w.text for w in row]) for row in rows]
        self._lines: list[WordLine | None] = [None] * len(rows)

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> WordLine: ...

    @overload
    def __getitem__(self, index: slice) -> list[WordLine]: ...

    def __getitem__(self, index: int | slice) -> WordLine | list[WordLine]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        line = self._lines[index]
        if line is None:
            row, text = self._rows[index], self.texts[index]
            lengths = [len(w.text) + 1 for w in row[:-1]]
            offsets = tuple(itertools.accumulate(lengths, initial=0))
            line = self._lines[index] = WordLine(tuple(row), text, offsets)
        return line

    def __iter__(self) -> Iterator[WordLine]:
        return (self[i] for i in range(len(self)))


_RULE_CHARS = frozenset("|[]_—–¦")
_RULE_JUNK = frozenset("-~:;.,'‘’\"/\\")
_ANY_RULE_CHAR = re.compile("[" + re.escape("".join(sorted(_RULE_CHARS))) + "]")


def is_rule(text: str) -> bool:
    """Whether an OCR word is only a table border or rule (``|``, ``-|``, ``—``), not text."""
    if _ANY_RULE_CHAR.search(text) is None:
        return False  # most words: one scan in C instead of a set of their characters
    chars = set(text.strip())
    return bool(chars & _RULE_CHARS) and chars <= _RULE_CHARS | _RULE_JUNK


def word_lines(words: Sequence[Word]) -> WordLines:
    """Group words into visual lines by their vertical centres, top to bottom.

    Table borders read as words (``|``) are dropped: they only separate cells, which the
    gap they leave still does.
    """
    rows: list[list[Word]] = []
    bottom = 0.0  # the lowest bottom edge of the row being built
    rule = _ANY_RULE_CHAR.search
    kept = list(words)
    texts = [w.text for w in kept]
    # Most pages have no blank word and no border: one look at all of them (the pattern is
    # one character class, so joining cannot make a match).
    if not (all(map(str.strip, texts)) and rule("\n".join(texts)) is None):
        kept = [w for w in kept if w.text.strip() and (rule(w.text) is None or not is_rule(w.text))]
    kept.sort(key=_TOP_LEFT)
    row: list[Word] = []
    row_top = 0.0  # the top edge of the row's first word
    for word in kept:
        top, height = word.top, word.height
        if row and row_top <= top + height / 2 <= bottom:
            row.append(word)
            if top + height > bottom:
                bottom = top + height
        else:
            row = [word]
            rows.append(row)
            row_top = top
            bottom = top + height
    for row in rows:
        row.sort(key=_LEFT)
    return WordLines(rows)


_TOP_LEFT = operator.attrgetter("top", "left")
_LEFT = operator.attrgetter("left")


def _cell_gap(line: WordLine) -> float:
    """A horizontal gap wider than this separates table cells rather than words."""
    return 0.8 * max(1.0, line.bottom - line.top)


def word_cells(line: WordLine) -> list[str]:
    """The line's text split into cells at gaps wider than an ordinary word space."""
    cells: list[list[str]] = []
    previous: Word | None = None
    gap = _cell_gap(line)
    for word in line.words:
        if previous is None or word.left - previous.right > gap:
            cells.append([])
        cells[-1].append(word.text)
        previous = word
    return [" ".join(cell) for cell in cells]


def ends_cell(line: WordLine, hit: LabelHit) -> bool:
    """Whether label ``hit`` is alone in its cell: nothing follows it, or only after a gap.

    A column header (``MRN      DOB``) takes its value from below; a label word running
    into prose (``Patient reports feeling ...``) does not.
    """
    last = line.word_at(max(hit.start, hit.value_start - 1))
    index = line.words.index(last)
    if index + 1 >= len(line.words):
        return True
    return line.words[index + 1].left - last.right > _cell_gap(line)


def words_below(lines: Sequence[WordLine], index: int, hits: Sequence[LabelHit], which: int) -> str:
    """For label ``which`` on word line ``index``, the words directly below it.

    Each word of the next line goes to the header label it is horizontally nearest to;
    words too far from every label (an unlabelled column) are dropped.
    """
    if index + 1 >= len(lines):
        return ""
    line, below = lines[index], lines[index + 1]
    if below.top - line.bottom > 3 * max(1.0, line.bottom - line.top):
        return ""
    cells = below.cells
    if len(cells) == len(hits) == len(line.cells):
        # A header row of labels over a row of as many cells: the values go by order, also
        # when a value is wider than its label and its words sit under the next one.
        return cells[which]
    spans = []
    for hit in hits:
        first = line.word_at(hit.start)
        last = line.word_at(max(hit.start, hit.value_start - 1))
        spans.append((first.left, last.right))
    tolerance = 2 * max(1.0, line.bottom - line.top)
    chosen = []
    left_of, right_of = spans[which]
    for word in below.words:
        start, end = word.left, word.right
        if max(left_of - end, start - right_of, 0.0) > tolerance:
            continue  # too far from this label to be chosen, whichever label is nearest
        distances = [max(left - end, start - right, 0.0) for left, right in spans]
        nearest = distances.index(min(distances))  # the first of the nearest, as min gives
        if nearest == which and distances[nearest] <= tolerance:
            chosen.append(word.text)
    return " ".join(chosen)
