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
