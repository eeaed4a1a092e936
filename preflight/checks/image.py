"""Checks on the character image. Numbers come from the profile (image.*)."""

from __future__ import annotations

from fractions import Fraction

from .base import Context, accepted_format, failed, file_size_within, passed, register, skipped, warned

_ORIENTATION_WORDS = {
    2: "mirrored", 3: "turned 180°", 4: "flipped vertically", 5: "transposed",
    6: "turned 90° clockwise", 7: "transversed", 8: "turned 90° counter-clockwise",
}


@register("image.readable")
def readable(ctx: Context):
    f = ctx.facts
    if f.problem:
        return failed(f"{f.path}: {f.problem}")
    how = f.pixel_check or "header read (pixels not decoded with --metadata-only)"
    size = f" {f.image.width}x{f.image.height}" if f.image.width else ""
    return passed(f"{f.sniffed.label}{size}: {how}")


@register("image.format")
def image_format(ctx: Context):
    f = ctx.facts
    return accepted_format(ctx, "image", f.sniffed.format if f.sniffed else None)


@register("image.encoding")
def encoding(ctx: Context):
    """Accepted formats that decoders still stumble on: CMYK, 16-bit, 12-bit, animation."""
    f = ctx.facts
    if f.image is None:
        return None
    if f.sniffed.format not in ctx.profile.value("image.formats"):
        return skipped(f"not judged: the {f.sniffed.label} file is converted as a whole (image.format)")
    h = f.image
    concerns = []
    if h.color == "cmyk":
        concerns.append("CMYK colour (many decoders show wrong colours)")
    if h.bit_depth and h.bit_depth > 8:
        concerns.append(f"{h.bit_depth}-bit samples (often reduced or refused)")
    if h.animated:
        concerns.append("animated (only the first frame would be used)")
    measured = {"color": h.color, "bit_depth": h.bit_depth, "animated": h.animated, "progressive": h.progressive}
    if concerns:
        return warned("; ".join(concerns) + ": prep converts to 8-bit RGB", measured=measured)
    return passed(f"{h.bit_depth}-bit {h.color}", measured=measured)


@register("image.transparency")
def transparency(ctx: Context):
    """A transparent picture shows its viewer's background; the service may see anything there."""
    f = ctx.facts
    if f.image is None:
        return None
    shares = f.transparency
    if shares is None:
        if f.pixel_check != "decoded" and f.image.color in ("rgba", "gray+alpha", "palette"):
            return skipped(f"{f.image.color} may be transparent; measured when the pixels are decoded "
                           "(not with --metadata-only)")
        return passed("opaque", measured=shares)
    if shares["transparent"] >= 0.999:
        return failed("every pixel is fully transparent: a viewer sees an empty picture, and the service may see "
                      "whatever colours hide under the alpha channel; export the picture with its background",
                      measured=shares)
    seen_through = shares["transparent"] + shares["translucent"]
    if seen_through >= 0.01:
        return warned(f"a transparent PNG: {seen_through:.0%} of the picture is see-through, so the service fills "
                      "it with a colour of its choosing (often black or white); the content checks judged it on "
                      "white", measured=shares)
    return passed("an alpha channel, but opaque where it matters", measured=shares)


@register("image.file_size")
def file_size(ctx: Context):
    return file_size_within(ctx, "image.max_file_size", "prep recompresses it")


@register("image.dimensions")
def dimensions(ctx: Context):
    f = ctx.facts
    if f.image is None:
        return None
    if f.image.display_size is None:
        return skipped(f"the size of a {f.sniffed.label} file is not measured (the format is refused anyway)")
    width, height = f.image.display_size
    lo, hi = ctx.profile.value("image.min_side"), ctx.profile.value("image.max_side")
    turned = ""
    if f.image.exif_orientation and f.image.exif_orientation != 1:
        turned = f" as displayed (EXIF orientation {f.image.exif_orientation}: {_ORIENTATION_WORDS[f.image.exif_orientation]})"
    measured = {"width": width, "height": height, "exif_orientation": f.image.exif_orientation}
    limit = {"min_side": lo, "max_side": hi}
    bad = [f"{name} {value} px" for name, value in (("width", width), ("height", height)) if not lo <= value <= hi]
    if bad:
        return failed(
            f"{width}x{height}{turned}: {' and '.join(bad)} outside {lo}-{hi} px; prep scales it",
            measured=measured, limit=limit,
        )
    return passed(f"{width}x{height}{turned}, each side within {lo}-{hi} px", measured=measured, limit=limit)


@register("image.aspect_ratio")
def aspect_ratio(ctx: Context):
    f = ctx.facts
    if f.image is None:
        return None
    if f.image.display_size is None:
        return skipped(f"the size of a {f.sniffed.label} file is not measured (the format is refused anyway)")
    width, height = f.image.display_size
    lo = ctx.profile.limit("image.min_aspect").fraction()
    hi = ctx.profile.limit("image.max_aspect").fraction()
    ratio = Fraction(width, height)  # exact: 2.5 passes, 2.5 plus a pixel does not
    measured = round(float(ratio), 4)
    limit = {"min": float(lo), "max": float(hi)}
    text = f"{width}x{height} is {_ratio_words(ratio)}"
    if not lo <= ratio <= hi:
        return failed(
            f"{text}, outside 1:{float(1 / lo):g} to {float(hi):g}:1; prep pads or crops it",
            measured=measured, limit=limit,
        )
    return passed(f"{text}, within 1:{float(1 / lo):g} to {float(hi):g}:1", measured=measured, limit=limit)


def _ratio_words(ratio: Fraction) -> str:
    if ratio >= 1:
        return f"{float(ratio):.4g}:1"
    return f"1:{float(1 / ratio):.4g}"
