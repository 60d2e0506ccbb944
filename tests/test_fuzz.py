"""Broken files of every kind end filed, in review or quarantined: hypothesis picks the damage.

The short form of ``benchmarks/fuzz_ingest.py`` (a thousand mutants through the command line).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clerk.app import App
from clerk.config import load_config
from scanner.dropped.claim import PROCESSING
from tests.conftest import write_config
from tests.mutants import EXTENSIONS, MUTATIONS, SEED_KINDS, make_seeds

pytestmark = [pytest.mark.needs_tesseract, pytest.mark.slow]
TERMINAL = {"filed", "review", "quarantined", "duplicate"}


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return make_seeds(tmp_path_factory.mktemp("seeds"))


@pytest.fixture
def cheap_app(tmp_path: Path) -> Iterator[App]:
    """OCR kept cheap: 72 dpi renders, no orientation search, no second look."""
    config = load_config(write_config(tmp_path))
    config.ocr = config.ocr.model_copy(
        update={"dpi": 72, "orientation_min_words": 0, "orientation_min_confidence": 0}
    )
    config.filing = config.filing.model_copy(
        update={"second_look": config.filing.second_look.model_copy(update={"enabled": False})}
    )
    config.inbox.path.mkdir(parents=True, exist_ok=True)
    app = App(config, actor="fuzz")
    yield app
    app.close()


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(SEED_KINDS),
    mutations=st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=3),
    extension=st.sampled_from(EXTENSIONS),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_mutant_reaches_a_terminal_state_and_leaves_the_inbox(
    cheap_app: App,
    seeds: dict[str, bytes],
    kind: str,
    mutations: list[str],
    extension: str,
    seed: int,
) -> None:
    rng = random.Random(seed)
    data = seeds[kind]
    for name in mutations:
        data = MUTATIONS[name](data, rng) or b"\x00"
    inbox = cheap_app.settings.inbox.path
    dropped = inbox / f"mutant-{seed}{extension}"
    dropped.write_bytes(data)
    outcome = cheap_app.ingestor.ingest(dropped)
    assert outcome.kind in TERMINAL, (kind, mutations, outcome)
    assert not dropped.exists()
    assert not any((inbox / PROCESSING).iterdir())
    if outcome.kind == "quarantined":
        assert outcome.reason and "\n" not in outcome.reason
