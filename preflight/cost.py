"""What a generation will cost, from the profile's prices and the billed duration."""

from __future__ import annotations

import math

from .profile import Profile
from .report import CostEstimate
from .request import ResolvedRequest


def estimate(profile: Profile, request: ResolvedRequest, video_seconds: float | None,
             usable_seconds: float | None = None) -> CostEstimate | None:
    """Price of one generation. Without a measured video, the orientation's maximum is assumed.

    ``usable_seconds``, when content analysis found that the model will stop early (at a cut or
    strong camera movement), is what gets billed instead of the whole clip.
    """
    cap = profile.value("video.max_duration").get(request.orientation)
    if cap is None or request.quality not in profile.value("request.qualities"):
        return None  # quality or orientation invalid: their checks say so
    # A host that bills in dollars has no credits; a price nobody published is None, not 0.
    credits_per_s = (profile.value("billing.credits_per_second").get(request.quality)
                     if profile.has("billing.credits_per_second") else None)
    usd_per_s = profile.value("billing.usd_per_second").get(request.quality)
    floor = profile.value("billing.min_billed_seconds")
    rounding = profile.limit("billing.rounding")
    upper_bound = video_seconds is None
    if upper_bound:
        seconds = cap
        basis = f"no video measured: assumes the {cap:g} s maximum for orientation {request.orientation}"
    else:
        seconds = min(video_seconds, cap)
        capped = f", capped at {cap:g} s" if video_seconds > cap else ""
        basis = f"video {video_seconds:.3f} s{capped}"
        if usable_seconds is not None and usable_seconds < seconds:
            seconds = usable_seconds
            basis += f", of which the model will most likely use {usable_seconds:.3f} s"
    # Round up: never estimate below the bill (the provider's pages disagree on rounding).
    billed = max(floor, math.ceil(seconds - 1e-9))
    basis += f", rounded up to {billed} s"
    credits = None if credits_per_s is None else round(credits_per_s * billed, 4)
    usd = None if usd_per_s is None else round(usd_per_s * billed, 4)
    alternatives = _alternatives(profile, credits)
    price = profile.limit("billing.usd_per_second")
    if usd is None:
        basis += f"; no published {request.quality} price for {profile.provider or profile.id}"
    elif not price.confirmed:
        basis += f"; the price is UNCONFIRMED ({price.source})"
    return CostEstimate(
        quality=request.quality,
        billed_seconds=billed,
        credits=credits,
        usd=usd,
        basis=basis,
        rounding=rounding.note,
        upper_bound=upper_bound,
        usd_alternatives=alternatives,
        price_confirmed=usd is not None and price.confirmed,
    )


def _alternatives(profile: Profile, credits: float | None) -> dict[str, float]:
    """The credits in USD at each conversion rate the host's pages use (EvoLink has two)."""
    if credits is None or not profile.has("billing.credits_per_usd_alternatives"):
        return {}
    return {f"at {rate} credits/USD": round(credits / rate, 4)
            for rate in profile.value("billing.credits_per_usd_alternatives")}


def element_cost(profile: Profile) -> CostEstimate:
    """Creating one custom element: one task billed per call (API ref section 2a)."""
    price = profile.value("element.billing")
    return CostEstimate(
        quality="-", billed_seconds=0, credits=price["credits"], usd=price["usd"],
        basis=f"one {profile.value('element.model')} task, billed per call",
        rounding="a fixed price per element, refunded when the task fails",
        usd_alternatives=_alternatives(profile, price["credits"]),
        elements=1)


def plus_element(generation: CostEstimate | None, profile: Profile) -> CostEstimate | None:
    """A generation's estimate with the creation of one element added (``submit`` making the
    element on the way); None stays None (the generation's cost is unknown)."""
    if generation is None:
        return None
    element = element_cost(profile)
    return CostEstimate(
        quality=generation.quality, billed_seconds=generation.billed_seconds,
        credits=None if generation.credits is None else round(generation.credits + element.credits, 4),
        usd=None if generation.usd is None else round(generation.usd + element.usd, 4),
        basis=f"{generation.basis}; plus {element.credits:g} credit for creating the element ({element.basis})",
        rounding=generation.rounding, upper_bound=generation.upper_bound,
        usd_alternatives={k: round(v + element.usd_alternatives.get(k, 0), 4)
                          for k, v in generation.usd_alternatives.items()},
        elements=generation.elements + 1, price_confirmed=generation.price_confirmed)
