"""A Monday's inbox: the realistic mix ``bench_ingest --mix`` measures speed and accuracy on.

About a quarter of the documents arrive damaged — a 200-dpi fax, a low-quality JPEG, a page
fed four degrees crooked, a page upside down, a label sticker pasted crooked — about one in
seven is bound for review (an unknown patient, a conflict, a name alone, ...), about a third
have several pages (multi-page TIFFs and image PDFs) and a few are text-layer PDFs.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from synthetic.corpus import _Maker
from synthetic.patients import SyntheticPatient
from synthetic.spec import DocumentSpec, GroundTruth
from synthetic.truth import ground_truth

# Scenarios (see synthetic.corpus) whose documents a careful clerk sends to review.
REVIEW_SCENARIOS = ("conflict", "unknown", "name_only", "no_identifiers", "ambiguous")
# Damage: (layout or None to keep, degradations). Each appears once before any repeats.
DAMAGE: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "fax": ("fax", ()),
    "low_jpeg": (None, ("jpeg",)),
    "skew_4": (None, ("skew_4",)),
    "upside_down": (None, ("rotate_180",)),
    "sticker": ("sticker", ("rotate_small",)),
}
CLEAN_LAYOUTS = ("labelled", "last_first", "table")
DAMAGED_SHARE = 0.25
REVIEW_SHARE = 1 / 7
TEXT_LAYER_SHARE = 0.08


@dataclass(frozen=True)
class MixItem:
    """One document of the mix: what it shows, what should become of it, how it arrives.

    Attributes:
        spec: The document.
        truth: What a careful clerk would do with it.
        kind: The file kind (``synthetic.files.KINDS``).
        damage: A key of ``DAMAGE``, or ``clean``.
    """

    spec: DocumentSpec
    truth: GroundTruth
    kind: str
    damage: str


def make_mix(patients: Sequence[SyntheticPatient], n_docs: int, seed: int) -> list[MixItem]:
    """Make ``n_docs`` documents of the realistic mix, with their ground truth.

    Args:
        patients: The registry (patients outside it are invented for unknown patients).
        n_docs: How many documents.
        seed: Seed of the random generator.

    Returns:
        The documents, shuffled.
    """
    rng = random.Random(f"mix:{seed}")
    maker = _Maker(patients, rng)
    n_review = max(1, round(n_docs * REVIEW_SHARE))
    n_damaged = max(1, round(n_docs * DAMAGED_SHARE))
    n_text = max(1, round(n_docs * TEXT_LAYER_SHARE))
    scenarios = [REVIEW_SCENARIOS[i % len(REVIEW_SCENARIOS)] for i in range(n_review)]
    scenarios += ["fileable"] * (n_docs - n_review)
    damage = list(DAMAGE)[:n_damaged]
    damage += rng.choices(list(DAMAGE), k=n_damaged - len(damage))
    damage += ["clean"] * (n_docs - n_damaged)
    rng.shuffle(damage)
    # Text-layer PDFs are born digital: never damaged.
    clean_slots = [i for i, d in enumerate(damage) if d == "clean"]
    text_slots = set(rng.sample(clean_slots, min(n_text, len(clean_slots))))
    items = []
    for i, (scenario, hurt) in enumerate(zip(scenarios, damage, strict=True)):
        spec = maker.make(scenario)
        layout, degradations = DAMAGE.get(hurt, (rng.choice(CLEAN_LAYOUTS), ()))
        if layout is None:
            layout = rng.choice(CLEAN_LAYOUTS)
        spec = replace(spec, layout=layout, degradations=degradations)
        kind = _kind(spec, i in text_slots, rng)
        items.append(MixItem(spec, ground_truth(spec, patients), kind, hurt))
    rng.shuffle(items)
    return items


def _kind(spec: DocumentSpec, text_layer: bool, rng: random.Random) -> str:
    if text_layer:
        return "pdf_text"
    if spec.pages > 1:
        return "tiff" if rng.random() < 0.6 else "pdf_image"
    return "png" if rng.random() < 0.8 else "jpeg"
