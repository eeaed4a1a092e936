"""How a check is written: a small function from facts to a Finding, registered under its id.

A check returns ``None`` when what it needs was not measured (the file is unreadable, say);
the runner turns that into a ``skip`` that says why, so every id appears in every report.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

from ..probe import FileFacts
from ..profile import Profile, reading
from ..report import Status
from ..request import ElementRequest, ResolvedRequest


@dataclass
class Finding:
    status: Status
    message: str
    measured: Any = None
    limit: Any = None
    times: list[Any] = field(default_factory=list)
    unconfirmed: tuple[str, ...] = ()  # the unconfirmed profile entries the verdict rests on
    # The entries that decided a verdict when the check read others too (a duration over the
    # maximum is not decided by the minimum); empty: every entry it read.
    decided_by: tuple[str, ...] = ()


def passed(message: str, **kw) -> Finding:
    return Finding(Status.PASS, message, **kw)


def warned(message: str, **kw) -> Finding:
    return Finding(Status.WARN, message, **kw)


def failed(message: str, **kw) -> Finding:
    return Finding(Status.FAIL, message, **kw)


def skipped(message: str, **kw) -> Finding:
    return Finding(Status.SKIP, message, **kw)


@dataclass(frozen=True)
class Context:
    """Everything a check may look at."""

    profile: Profile
    request: ResolvedRequest
    facts: FileFacts | None = None  # None for request checks
    element: ElementRequest | None = None  # for the element.* request checks


CheckFunction = Callable[[Context], "Finding | None"]


@dataclass(frozen=True)
class CheckSpec:
    id: str
    subject: str
    function: CheckFunction
    # What the skip says when the function returns None.
    unmeasured: str


# Subjects: the generation's inputs and request, and a custom element's (element_video, the
# frontal element_image and the element_ref pictures, and the element request itself).
REGISTRY: dict[str, list[CheckSpec]] = {"image": [], "video": [], "request": [], "element_video": [],
                                        "element_image": [], "element_ref": [], "element": []}

# Findings that may never pass as a mere warning, whatever the profile's severity table or a
# configuration says: a generation with a cut, no person or several people is paid for and
# wasted. The content checks' judge and the configuration loader both read this one set.
NEVER_RELAXED = frozenset({"image.person", "video.people", "video.cuts"})


@dataclass(frozen=True)
class ContentCheckSpec:
    id: str
    subject: str  # image, video or pair
    function: Callable  # (content, profile) -> Finding; for pair, ({"image": ..., "video": ...}, profile)


# Content checks, by subject, in the order reports list them (the order they are registered).
CONTENT_REGISTRY: dict[str, list[ContentCheckSpec]] = {"image": [], "video": [], "pair": [], "element_video": [],
                                                       "element_image": [], "element_ref": []}


def content_check(check_id: str):
    """Register a content check: a function from an analysis result and the profile to a Finding."""
    subject = check_id.split(".", 1)[0]

    def decorate(function: Callable) -> Callable:
        CONTENT_REGISTRY[subject].append(ContentCheckSpec(check_id, subject, function))
        return function

    return decorate


def qualified(finding: Finding, profile: Profile, keys: Iterable[str]) -> Finding:
    """``finding`` as a verdict on unconfirmed values must read: a failure becomes a warning that
    says which value is unconfirmed (the host may well accept the input), and any other verdict
    names them, so that nothing rests silently on a guess."""
    doubtful = profile.unconfirmed(finding.decided_by or keys)
    if not doubtful or finding.status is Status.SKIP:
        return finding
    host = profile.provider or profile.id
    names = ", ".join(limit.key for limit in doubtful)
    finding = replace(finding, unconfirmed=tuple(limit.key for limit in doubtful))
    if finding.status is Status.FAIL:
        return replace(finding, status=Status.WARN,
                       message=f"{finding.message} [{host} states no such limit: {names} UNCONFIRMED, so this only "
                               "warns; the host may accept it]")
    return replace(finding, message=f"{finding.message} [{host}: {names} UNCONFIRMED]")


def run_judged(function: Callable[..., "Finding | None"], profile: Profile, *args) -> "Finding | None":
    """``function(*args)`` with the profile entries it reads collected, its verdict ``qualified``."""
    with reading() as keys:
        finding = function(*args)
    return None if finding is None else qualified(finding, profile, keys)


def run_content_check(spec: ContentCheckSpec, content, profile: Profile) -> Finding:
    """One content check, failing closed: a bug in a check fails the gate, it never passes it."""
    try:
        return run_judged(spec.function, profile, content, profile)
    except Exception as exc:
        return failed(f"internal error in this check ({type(exc).__name__}: {exc}); please report it")


def run_content_checks(subject: str, content, profile: Profile) -> dict[str, Finding]:
    """Every registered content check of ``subject`` on one analysis, by id."""
    return {spec.id: run_content_check(spec, content, profile) for spec in CONTENT_REGISTRY[subject]}


def register(check_id: str, unmeasured: str = "not measured: the file is not readable"):
    subject = check_id.split(".", 1)[0]

    def decorate(function: CheckFunction) -> CheckFunction:
        REGISTRY[subject].append(CheckSpec(check_id, subject, function, unmeasured))
        return function

    return decorate


def size_text(n: int) -> str:
    """Bytes for people: '9,999,999 bytes (10.0 MB)', '2,285 bytes (2.3 kB)'."""
    if n >= 100_000:
        return f"{n:,} bytes ({n / 1e6:.1f} MB)"
    return f"{n:,} bytes ({n / 1e3:.1f} kB)"


def accepted_format(ctx: Context, kind: str, measured, section: str | None = None) -> Finding | None:
    """The file's format by content against the profile's ``{section}.formats`` (``section``
    defaults to ``kind``); a name that does not say what the content is, is a warning. ``kind``
    is "image" or "video"."""
    f = ctx.facts
    section = section or kind
    if f.sniffed is None or f.sniffed.kind != kind:
        return None
    allowed = ctx.profile.value(f"{section}.formats")
    fmt = f.sniffed.format
    if fmt not in allowed:
        # A promise only where it can be kept: prep converts what it can read.
        remedy = "prep converts it" if f.problem is None else "and this one cannot be read either"
        return failed(f"{f.sniffed.label} is not accepted (only {', '.join(a.upper() for a in allowed)}); {remedy}",
                      measured=measured, limit=allowed)
    mismatch = extension_mismatch(f.path, fmt, f.sniffed.label, ctx.profile.value(f"{section}.extensions"))
    if mismatch:
        mismatch.measured = measured
        return mismatch
    brand = f" (brand {f.sniffed.brand.strip()})" if f.sniffed.brand else ""
    return passed(f"{f.sniffed.label}{brand} by content", measured=measured, limit=allowed)


def file_size_within(ctx: Context, key: str, remedy: str) -> Finding | None:
    """The file's size in bytes against the profile's limit ``key``."""
    size = ctx.facts.size
    if size is None:
        return None
    limit = ctx.profile.limit(key)
    if size > limit.value:
        return failed(f"{size_text(size)} is over the limit ({limit.note or size_text(limit.value)}); {remedy}",
                      measured=size, limit=limit.value)
    return passed(f"{size_text(size)}; limit {limit.note or size_text(limit.value)}", measured=size, limit=limit.value)


def extension_mismatch(path: str, fmt: str, label: str, extensions: dict[str, list[str]]) -> Finding | None:
    """A warning when a file's name does not say what its content is."""
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    expected = extensions.get(fmt, [])
    if suffix in expected:
        return None
    named = f"the name ends in {suffix!r}" if suffix else "the name has no extension"
    return warned(
        f"content is {label} but {named}: hosts send a Content-Type from the name and the service "
        f"may judge by it; rename to {expected[0]!r}",
        measured={"content": fmt, "extension": suffix},
        limit=expected,
    )
