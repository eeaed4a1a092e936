"""Checks on the request parameters. Numbers and allowed values come from the profile (request.*)."""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
from urllib.parse import urlsplit

from ..request import PLAIN_ID
from .base import Context, failed, passed, register, warned

# How long a callback host's name may take to resolve before the check gives up on it.
DNS_TIMEOUT_S = 3.0
_INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa", ".corp")


@register("request.quality")
def quality(ctx: Context):
    allowed = ctx.profile.value("request.qualities")
    q = ctx.request.quality
    if q not in allowed:
        return failed(f"quality {q!r} is not one of {', '.join(allowed)}", measured=q, limit=allowed)
    if "quality" in ctx.request.defaulted:
        note = ctx.profile.limit("request.default_quality").note
        return passed(f"{q} (not given: the API's default; {note})", measured=q, limit=allowed)
    return passed(q, measured=q, limit=allowed)


@register("request.orientation")
def orientation(ctx: Context):
    allowed = ctx.profile.value("request.orientations")
    o = ctx.request.orientation
    limits = ctx.profile.value("video.max_duration")
    if o not in allowed:
        return failed(f"character_orientation {o!r} is not one of {', '.join(allowed)}", measured=o, limit=allowed)
    if "orientation" in ctx.request.defaulted:
        longer = max(limits, key=limits.get)
        return passed(
            f"{o} (not given: defaulted to the stricter {limits[o]:g} s limit; "
            f"{ctx.request.setting('orientation', longer)} allows up to {limits[longer]:g} s)",
            measured=o, limit=allowed,
        )
    return passed(f"{o} (video up to {limits[o]:g} s)", measured=o, limit=allowed)


@register("request.prompt")
def prompt(ctx: Context):
    text = ctx.request.prompt
    limit = ctx.profile.value("request.prompt_max_chars")
    if not text:
        return passed("no prompt (optional)", measured=0, limit=limit)
    chars = len(text)
    utf16_units = len(text.encode("utf-16-le")) // 2
    measured = {"chars": chars, "utf16_units": utf16_units}
    if chars > limit:
        return failed(f"{chars:,} characters, over the {limit:,} limit", measured=measured, limit=limit)
    if utf16_units > limit:
        return warned(
            f"{chars:,} characters but {utf16_units:,} UTF-16 units (emoji and rare scripts count twice "
            f"in some services): over {limit:,} in that reading",
            measured=measured, limit=limit,
        )
    return passed(f"{chars:,} characters, limit {limit:,}", measured=measured, limit=limit)


@register("request.element_list")
def element_list(ctx: Context):
    ids, name = ctx.request.element_ids, ctx.request.element
    most = ctx.profile.value("request.element_max_items")
    needs = ctx.profile.value("request.element_requires_orientation")
    measured = [*ids, *([f"name:{name}"] if name else [])]
    limit = {"max_items": most, "orientation": needs}
    if not ctx.request.elements:
        return passed("no element (optional)", measured=measured, limit=limit)
    problems = []
    if ctx.request.elements > most:
        problems.append(f"{ctx.request.elements} elements given, at most {most} allowed")
    bad = [i for i in ids if not PLAIN_ID.fullmatch(i) or len(i) > ctx.profile.value("network.task_id_max_chars")]
    if bad:
        problems.append(f"element id {bad[0]!r} is not a plain id (letters, digits, '.', '_' and '-', starting "
                        "with a letter or digit)")
    if ctx.request.orientation != needs:
        problems.append(f"an element requires {ctx.request.setting('orientation', needs)} "
                        f"(it is {ctx.request.orientation})")
    if problems:
        return failed("; ".join(problems), measured=measured, limit=limit)
    which = f"element {ids[0]}" if ids else f"element {name!r}, its id looked up in submit's journal,"
    return passed(f"{which} (must be a video_refer element from kling-custom-element)", measured=measured,
                  limit=limit)


def _resolve(host: str, timeout: float) -> tuple[list[str] | None, str | None]:
    """Addresses of ``host``, or (None, why not). Runs in a thread so a slow resolver cannot hang us."""
    result: dict = {}

    def work():
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
            result["addrs"] = sorted({info[4][0] for info in infos})
        except (OSError, UnicodeError) as exc:
            result["error"] = str(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return None, f"no answer within {timeout:g} s"
    return result.get("addrs"), result.get("error")


def _internal_reason(address: str) -> str | None:
    """What kind of non-public address ``address`` is ("a loopback address"), or None."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved or not ip.is_global:
        return "a reserved, multicast or otherwise non-public address"
    return None


# A host name as DNS spells it (letters, digits, hyphens; dots between labels), or an IP literal.
_HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$")


def _host_problem(host: str) -> str | None:
    """Why ``host`` (lower case, IDNA applied) cannot be a host name, or None."""
    if ":" in host:
        return None  # an IPv6 literal: judged as an address
    try:
        ipaddress.ip_address(host)
        return None  # an IPv4 literal: judged as an address
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return f"host {host!r} is not a valid host name"
    if not _HOST_NAME.match(ascii_host):
        bad = next((c for c in host if not (c.isalnum() or c in ".-_")), None)
        what = f"contains {bad!r}" if bad else "is not spelled as a host name"
        return f"host {host!r} {what}: not a valid host name"
    return None


@register("request.callback_url")
def callback_url(ctx: Context):
    url = ctx.request.callback_url
    max_chars = ctx.profile.value("request.callback_max_chars")
    schemes = ctx.profile.value("request.callback_schemes")
    limit = {"schemes": schemes, "max_chars": max_chars, "public_only": ctx.profile.value("request.callback_public_only")}
    if not url:
        return passed("no callback URL (optional): poll the task instead", limit=limit)
    measured = {"chars": len(url)}
    if len(url) > max_chars:
        return failed(f"{len(url):,} characters, over the {max_chars:,} limit", measured=measured, limit=limit)
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # raises on a malformed port
    except ValueError as exc:
        return failed(f"not a valid URL: {exc}", measured=measured, limit=limit)
    if parts.scheme.lower() not in schemes:
        return failed(f"scheme {parts.scheme or '(none)'!r} is not allowed: {'/'.join(schemes).upper()} only",
                      measured=measured, limit=limit)
    if not host:
        return failed("the URL has no host", measured=measured, limit=limit)
    if parts.username is not None or parts.password is not None:
        return failed("the URL carries a user name or password (user:pass@host); credentials in a URL end up in "
                      "logs on every server it passes: use a token in the path or query, or a signed request",
                      measured=measured, limit=limit)
    host = host.rstrip(".").lower()
    problem = _host_problem(host)
    if problem:
        return failed(problem, measured=measured, limit=limit)
    if host == "localhost" or host.endswith(_INTERNAL_SUFFIXES) or "." not in host and ":" not in host:
        return failed(f"host {host!r} is an internal name; the service only calls public addresses",
                      measured=measured, limit=limit)
    literal = _internal_reason(host)
    if literal:
        return failed(f"host {host} is {literal}; the service refuses internal addresses",
                      measured=measured, limit=limit)
    addresses, error = _resolve(host, DNS_TIMEOUT_S)
    if addresses is None:
        return warned(
            f"host {host!r} did not resolve here ({error}): checked as a name only; make sure the service can reach it",
            measured=measured, limit=limit,
        )
    measured["addresses"] = addresses
    internal = [(a, r) for a in addresses if (r := _internal_reason(a))]
    if internal:
        address, reason = internal[0]
        return failed(f"host {host} resolves to {address}, {reason}; the service refuses internal addresses",
                      measured=measured, limit=limit)
    return passed(f"HTTPS, {len(url)} characters, {host} resolves to public addresses", measured=measured, limit=limit)
