"""Request parameters: quality, orientation, prompt, element list, callback URL."""

from __future__ import annotations

import dataclasses
import json

import pytest

from preflight import Report, ResolvedRequest, Status, check

P, W, F = Status.PASS, Status.WARN, Status.FAIL


def request_check(check_id: str, **fields):
    return check(**fields).get(check_id)


def test_prompt_length_edge():
    assert request_check("request.prompt", prompt="x" * 2500).status is P
    over = request_check("request.prompt", prompt="x" * 2501)
    assert over.status is F and over.measured["chars"] == 2501


def test_prompt_counted_in_code_points_with_utf16_warning():
    # 2000 emoji are 2000 code points but 4000 UTF-16 units.
    emoji = request_check("request.prompt", prompt="\U0001F483" * 2000)
    assert emoji.status is W and emoji.measured == {"chars": 2000, "utf16_units": 4000}


def test_element_rules():
    assert request_check("request.element_list", element_ids=["el_1"], orientation="video").status is P
    wrong_orientation = request_check("request.element_list", element_ids=["el_1"], orientation="image")
    assert wrong_orientation.status is F and "--orientation video" in wrong_orientation.message
    two = request_check("request.element_list", element_ids=["a", "b"], orientation="video")
    assert two.status is F and "at most 1" in two.message
    assert request_check("request.element_list").status is P


def test_quality_and_orientation_defaults_are_reported():
    report = check()
    assert report.get("request.orientation").status is P
    assert "stricter 10 s" in report.get("request.orientation").message
    assert report.request.orientation == "image" and "orientation" in report.request.defaulted
    assert report.get("request.quality").measured == "720p"
    assert request_check("request.quality", quality="4k").status is F
    assert request_check("request.orientation", orientation="sideways").status is F


def test_the_report_request_is_typed_and_its_json_masks_a_callback_password():
    report = check(orientation="video", callback_url="https://user:hunter2secret@example.com/hook")
    assert isinstance(report.request, ResolvedRequest) and report.request.quality == "720p"
    shown = report.to_dict()["request"]
    assert shown["orientation"] == "video" and "hunter2secret" not in json.dumps(shown)
    again = Report.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again.request == dataclasses.replace(report.request, callback_url="https://user:***@example.com/hook")


@pytest.mark.parametrize("url,expected,words", [
    ("https://8.8.8.8/hook", P, "public"),
    ("http://8.8.8.8/hook", F, "HTTPS"),
    ("ftp://8.8.8.8/hook", F, "HTTPS"),
    ("https://127.0.0.1/hook", F, "loopback"),
    ("https://[::1]/hook", F, "loopback"),
    ("https://10.1.2.3/hook", F, "private"),
    ("https://172.16.0.1/hook", F, "private"),
    ("https://192.168.1.10/hook", F, "private"),
    ("https://169.254.169.254/latest", F, "link-local"),
    ("https://[fe80::1]/hook", F, "link-local"),
    ("https://[::ffff:10.0.0.1]/hook", F, "private"),
    ("https://100.64.0.1/hook", F, "non-public address"),
    ("https://localhost/hook", F, "internal name"),
    ("https://api.localhost/hook", F, "internal name"),
    ("https://printer.local/hook", F, "internal name"),
    ("https://2130706433/hook", F, "internal"),  # 127.0.0.1 written as one number
    ("https://no-such-host.invalid/hook", W, "did not resolve"),
    ("https:///path-only", F, "no host"),
])
def test_callback_url(url, expected, words):
    found = request_check("request.callback_url", callback_url=url)
    assert found.status is expected, found.message
    assert words in found.message


def test_callback_url_length_edge():
    base = "https://8.8.8.8/"
    assert request_check("request.callback_url", callback_url=base + "a" * (2048 - len(base))).status is P
    over = request_check("request.callback_url", callback_url=base + "a" * (2049 - len(base)))
    assert over.status is F and over.measured["chars"] == 2049


def test_host_name_resolving_to_loopback_is_refused(monkeypatch):
    # A public-looking name whose DNS answer is internal must fail after resolution.
    import socket

    real = socket.getaddrinfo

    def fake(host, *args, **kw):
        if host == "hooks.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0))]
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    found = request_check("request.callback_url", callback_url="https://hooks.example.com/x")
    assert found.status is F and "resolves to 127.0.0.1" in found.message
