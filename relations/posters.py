"""Drawing invite QR codes and posters (domain rules section 8, "Support for distributors": a poster
is an image with a placeholder where each distributor's own invite QR code and name are drawn).
No ORM and no I/O but the bytes given: relations.services loads the material, calls these and
counts the download.

- `qr_png(text)`                      a QR code (segno, error correction M) as a PNG.
- `poster_png(...)`                   the poster image with the QR code of `qr_text` in its square
                                      and `name` at its position, as a PNG.
- `poster_problems(...)`              what is wrong with a poster's placeholder on an image of a
                                      given size, or None (the staff's input, checked on saving).

Names are drawn character by character with the first font that has the glyph: a Latin font
(DejaVu Sans), then a CJK one (Droid Sans Fallback; fenxiao.fonts finds both), so "张三 Alice"
renders whole. Pillow's built-in font is the last resort (no Chinese).
"""
from __future__ import annotations

import io
from functools import lru_cache

import segno
from PIL import Image, ImageDraw, ImageFont

from fenxiao.fonts import cjk_font_path, latin_font_path

#: Quiet zone around a QR code, in modules (ISO/IEC 18004 asks for 4).
QR_BORDER = 4
#: Formats a poster image may have.
POSTER_FORMATS = ("PNG", "JPEG")
#: A character no font has: what a missing glyph (.notdef) looks like in each font.
_NO_GLYPH = "\U000F0000"


def qr_png(text: str, *, scale: int = 10) -> bytes:
    """`text` as a QR code PNG: black modules of `scale` pixels on white, with the quiet zone."""
    buf = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buf, kind="png", scale=scale, border=QR_BORDER)
    return buf.getvalue()


def qr_image(text: str, size: int) -> Image.Image:
    """A `size` x `size` white square holding the QR code of `text` at the largest whole number of
    pixels per module that fits, centred (drawn smaller than a module per pixel never: when even
    one pixel per module does not fit, the code is scaled down to the square, nearest neighbour)."""
    code = Image.open(io.BytesIO(qr_png(text, scale=1))).convert("L")
    modules = code.width
    scale = size // modules
    if scale < 1:
        return code.resize((size, size), Image.Resampling.NEAREST)
    code = code.resize((modules * scale, modules * scale), Image.Resampling.NEAREST)
    square = Image.new("L", (size, size), 255)
    offset = (size - code.width) // 2
    square.paste(code, (offset, offset))
    return square


def image_info(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) of an image's bytes; ValueError when Pillow cannot read it."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
        with Image.open(io.BytesIO(data)) as img:
            return img.format or "", img.width, img.height
    except Exception as exc:  # Pillow raises many kinds for a file that is no image
        raise ValueError(str(exc) or "not an image") from None


def poster_problems(*, width: int, height: int, qr_x, qr_y, qr_size, name_x, name_y,
                    max_side: int, qr_min: int) -> tuple[str, str, str] | None:
    """The first problem of a poster's placeholder on a `width` x `height` image as (attr, code,
    message), or None. The QR square (qr_x, qr_y, qr_size pixels) must lie inside the image, be at
    least `qr_min` pixels; the name's top-left point (name_x, name_y) inside the image; the image
    at most `max_side` pixels on either side."""
    if width > max_side or height > max_side:
        return "image", "too_large", f"The image is {width} x {height} pixels; at most {max_side} on either side."
    for attr, value in (("qr_x", qr_x), ("qr_y", qr_y), ("qr_size", qr_size), ("name_x", name_x), ("name_y", name_y)):
        if value is None:
            return attr, "required", "A poster needs the QR code's square and the name's position."
    if qr_size < qr_min:
        return "qr_size", "min_value", f"The QR code needs at least {qr_min} pixels to be scanned."
    if qr_x + qr_size > width or qr_y + qr_size > height:
        return "qr_size", "outside_image", (f"The QR code's square ({qr_x}, {qr_y}) + {qr_size} px goes past the "
                                            f"image's {width} x {height} pixels.")
    if name_x >= width or name_y >= height:
        return "name_x" if name_x >= width else "name_y", "outside_image", (
            f"The name's position ({name_x}, {name_y}) is outside the image's {width} x {height} pixels.")
    return None


@lru_cache(maxsize=64)
def _fonts(size: int) -> tuple:
    """The fonts of `size` pixels to draw names with, in the order tried."""
    fonts = [ImageFont.truetype(path, size) for path in (latin_font_path(), cjk_font_path()) if path]
    return tuple(fonts) or (ImageFont.load_default(size),)


@lru_cache(maxsize=4096)
def _font_index(size: int, char: str) -> int:
    """Index in `_fonts(size)` of the first font with a glyph for `char` (0 when none has one)."""
    fonts = _fonts(size)
    for i, font in enumerate(fonts):
        if not hasattr(font, "getmask"):
            return i
        if char.isspace() or _glyph(font, char) != _glyph(font, _NO_GLYPH):
            return i
    return 0


def _glyph(font, char: str) -> tuple:
    mask = font.getmask(char)
    return mask.size, bytes(mask)


def draw_text(image: Image.Image, xy: tuple[int, int], text: str, *, size: int, color: str) -> None:
    """Draw `text` with its top-left corner at `xy`, each character in the first font that has it."""
    draw = ImageDraw.Draw(image)
    fonts = _fonts(size)
    x, y = xy
    # one baseline for every font (each has its own ascent): letters of both scripts sit on it
    baseline = y + max((f.getmetrics()[0] for f in fonts if hasattr(f, "getmetrics")), default=size)
    for char in text:
        font = fonts[_font_index(size, char)]
        draw.text((x, baseline), char, font=font, fill=color, anchor="ls")
        x += draw.textlength(char, font=font)


def poster_png(*, image: bytes, qr_text: str, qr_x: int, qr_y: int, qr_size: int, name: str,
               name_x: int, name_y: int, name_size: int, name_color: str) -> bytes:
    """The poster `image` (PNG or JPEG bytes) with the QR code of `qr_text` filling the square at
    (qr_x, qr_y) of qr_size pixels and `name` drawn from (name_x, name_y) in name_size-pixel
    letters of `name_color` (#RRGGBB), as PNG bytes."""
    with Image.open(io.BytesIO(image)) as src:
        rgba = src.convert("RGBA")   # transparent parts of the image on white, not black
        poster = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
    poster.paste(qr_image(qr_text, qr_size).convert("RGB"), (qr_x, qr_y))
    if name:
        draw_text(poster, (name_x, name_y), name, size=name_size, color=name_color)
    out = io.BytesIO()
    poster.save(out, format="PNG", optimize=False)
    return out.getvalue()
