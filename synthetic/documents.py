"""Synthetic scanned documents: the spec, the ground truth, the rendered pages, the corpus."""

from __future__ import annotations

import random

from PIL import Image

from synthetic.content import build_pages
from synthetic.corpus import make_corpus
from synthetic.degrade import binarize, degrade
from synthetic.render import draw_page
from synthetic.spec import DocumentSpec, GroundTruth
from synthetic.truth import ground_truth

__all__ = ["DocumentSpec", "GroundTruth", "ground_truth", "make_corpus", "render_pages"]


def render_pages(spec: DocumentSpec, seed: int) -> list[Image.Image]:
    """Draw the pages of ``spec`` as a scanner would deliver them.

    The words depend on the spec alone (``spec.content_seed``); ``seed`` drives only the
    damage (noise, blur strength, skew angle, JPEG quality).

    Args:
        spec: The document.
        seed: Seed of the degradation random generator.

    Returns:
        Letter-size pages at ``spec.resolved_dpi``: grayscale (mode ``L``), or bilevel
        (mode ``1``) for the fax layout.
    """
    rng = random.Random(f"render:{seed}:{spec.content_seed}")
    dpi = spec.resolved_dpi
    images = []
    for page in build_pages(spec):
        image = degrade(draw_page(page, dpi, spec.layout), spec.degradations, rng, dpi)
        if spec.layout == "fax":
            image = binarize(image)
        image.info["dpi"] = (dpi, dpi)
        images.append(image)
    return images
