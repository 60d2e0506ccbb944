"""Scanner and fax damage: blur, speckle, skew, turned pages, faded toner, JPEG blocks.

Every effect draws its randomness from the given ``random.Random`` (never from Pillow's
C-level generator) so that a seed always gives the same pixels.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterable

from PIL import Image, ImageChops, ImageFilter

Effect = Callable[[Image.Image, random.Random, int], Image.Image]


def degrade(image: Image.Image, names: Iterable[str], rng: random.Random, dpi: int) -> Image.Image:
    """Apply the named degradations in order.

    Args:
        image: A grayscale page.
        names: Degradation names from ``synthetic.spec.DEGRADATIONS``.
        rng: The render random generator.
        dpi: The page resolution (effects scale with it).

    Returns:
        The degraded page (a new image, or ``image`` itself when ``names`` is empty).
    """
    for name in names:
        image = EFFECTS[name](image, rng, dpi)
    return image


def binarize(image: Image.Image, threshold: int = 150) -> Image.Image:
    """Return a bilevel (mode ``1``) page as a fax machine would send it: no dithering."""
    lut = [255 if v > threshold else 0 for v in range(256)]
    return image.convert("L").point(lut).convert("1", dither=Image.Dither.NONE)


def _blur(image: Image.Image, rng: random.Random, dpi: int) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(0.8, 1.4) * dpi / 300))


def _noise(image: Image.Image, rng: random.Random, dpi: int) -> Image.Image:
    w, h = image.size
    amplitude = rng.randint(18, 32)
    lut = [128 + (v - 128) * amplitude // 128 for v in range(256)]
    grain = Image.frombytes("L", (w, h), rng.randbytes(w * h)).point(lut)
    noisy = ImageChops.add(image.convert("L"), grain, 1.0, -128)
    # Dust: sparse dark specks, drawn small and scaled up so they are a few pixels wide.
    small = (max(1, w // 3), max(1, h // 3))
    specks = Image.frombytes("L", small, rng.randbytes(small[0] * small[1]))
    specks = specks.point([0 if v > 254 else 255 for v in range(256)])
    specks = specks.resize((w, h), Image.Resampling.NEAREST)
    return ImageChops.darker(noisy, specks.point([90 if v < 128 else 255 for v in range(256)]))


def _rotate_small(image: Image.Image, rng: random.Random, dpi: int) -> Image.Image:
    angle = rng.choice((-1, 1)) * rng.uniform(0.5, 3.0)
    return image.rotate(angle, Image.Resampling.BILINEAR, expand=False, fillcolor=255)


def _skew_4(image: Image.Image, rng: random.Random, dpi: int) -> Image.Image:
    # A page fed crooked through a sheet feeder: four degrees, either way.
    angle = rng.choice((-4.0, 4.0))
    return image.rotate(angle, Image.Resampling.BILINEAR, expand=False, fillcolor=255)


def _turn(method: Image.Transpose) -> Effect:
    def effect(image: Image.Image, rng: random.Random, dpi: int) -> Image.Image:
        return image.transpose(method)

    return effect


def _low_contrast(image: Image.Image, rng: random.Random, dpi: int) -> Image.Image:
    ink, paper = rng.randint(100, 130), rng.randint(205, 225)
    return image.convert("L").point([ink + (paper - ink) * v // 255 for v in range(256)])


def _jpeg(image: Image.Image, rng: random.Random, dpi: int) -> Image.Image:
    buffer = io.BytesIO()
    image.convert("L").save(buffer, format="JPEG", quality=rng.randint(12, 30))
    buffer.seek(0)
    with Image.open(buffer) as reread:
        return reread.copy()


EFFECTS: dict[str, Effect] = {
    "blur": _blur,
    "noise": _noise,
    "rotate_small": _rotate_small,
    "skew_4": _skew_4,
    # Pillow's ROTATE_n turns counter-clockwise: the page as if fed in sideways or upside down.
    "rotate_90": _turn(Image.Transpose.ROTATE_90),
    "rotate_180": _turn(Image.Transpose.ROTATE_180),
    "rotate_270": _turn(Image.Transpose.ROTATE_270),
    "low_contrast": _low_contrast,
    "jpeg": _jpeg,
}
