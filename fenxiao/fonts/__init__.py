"""Where the fonts that draw text into images and PDFs are: the ones shipped in this folder
(fenxiao/fonts, see its README when present), else Debian's packages.

- `cjk_font_path()`: a font with the CJK glyphs (Chinese names on posters): Droid Sans Fallback
  shipped here, else Debian's fonts-droid-fallback, fonts-noto-cjk or fonts-wqy-zenhei.
- `latin_font_path()`: a font with Latin letters and digits (Droid Sans Fallback has none):
  DejaVu Sans shipped here, else Debian's fonts-dejavu-core.

Each answers the first file that exists, or None when there is none (callers then fall back to
Pillow's built-in bitmap font, which draws no Chinese). The posters (relations.posters) look their
fonts up here; the PDF statements (reports/exports.py) embed the shipped files by name.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent

CJK_CANDIDATES = (
    HERE / "DroidSansFallbackFull.ttf",
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
)
LATIN_CANDIDATES = (
    HERE / "DejaVuSans.ttf",
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
)


def _first(candidates) -> str | None:
    for path in candidates:
        if path.is_file():
            return str(path)
    return None


@lru_cache(maxsize=1)
def cjk_font_path() -> str | None:
    """Path of a TrueType/OpenType font with the CJK glyphs, or None (see the module docstring)."""
    return _first(CJK_CANDIDATES)


@lru_cache(maxsize=1)
def latin_font_path() -> str | None:
    """Path of a font with Latin letters, digits and punctuation, or None."""
    return _first(LATIN_CANDIDATES)
