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
    credits_per_s = profile.value("billing.credits_per_second").get(request.quality)
    usd_per_s = profile.value("billing.usd_per_second").get(request.quality)
    cap = profile.value("video.max_duration").get(request.orientation)
    if credits_per_s is None or usd_per_s is None or cap is None:
        return None  # quality or orientation invalid: their checks say so
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
    credits = round(credits_per_s * billed, 4)
    usd = round(usd_per_s * billed, 4)
    alternatives = {
        f"at {rate} credits/USD": round(credits / rate, 4)
        for rate in profile.value("billing.credits_per_usd_alternatives")
    }
    return CostEstimate(
        quality=request.quality,
        billed_seconds=billed,
        credits=credits,
        usd=usd,
        basis=basis,
        rounding=rounding.note,
        upper_bound=upper_bound,
        usd_alternatives=alternatives,
    )


def element_cost(profile: Profile) -> CostEstimate:
    """Creating one custom element: one task billed per call (API ref section 2a)."""
    price = profile.value("element.billing")
    return CostEstimate(
        quality="-", billed_seconds=0, credits=price["credits"], usd=price["usd"],
        basis=f"one {profile.value('element.model')} task, billed per call",
        rounding="a fixed price per element, refunded when the task fails",
        usd_alternatives={f"at {rate} credits/USD": round(price["credits"] / rate, 4)
                          for rate in profile.value("billing.credits_per_usd_alternatives")},
        elements=1)


def plus_element(generation: CostEstimate | None, profile: Profile) -> CostEstimate | None:
    """A generation's estimate with the creation of one element added (``submit`` making the
    element on the way); None stays None (the generation's cost is unknown)."""
    if generation is None:
        return None
    element = element_cost(profile)
    return CostEstimate(
        quality=generation.quality, billed_seconds=generation.billed_seconds,
        credits=round(generation.credits + element.credits, 4), usd=round(generation.usd + element.usd, 4),
        basis=f"{generation.basis}; plus {element.credits:g} credit for creating the element ({element.basis})",
        rounding=generation.rounding, upper_bound=generation.upper_bound,
        usd_alternatives={k: round(v + element.usd_alternatives.get(k, 0), 4)
                          for k, v in generation.usd_alternatives.items()},
        elements=generation.elements + 1)
