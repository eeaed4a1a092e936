"""The local EvoLink checks what the documentation says the service checks (API ref sections 2,
3, 5, 6 and 7). Raw HTTP with httpx, so these read the server as any client would."""

from __future__ import annotations

import copy

import httpx
import pytest

from submit.fake import FakeEvoLink

KEY = "fake-test-key"
GOOD = {
    "model": "kling-v3-motion-control",
    "image_urls": ["https://example.com/character.jpg"],
    "video_urls": ["https://example.com/dance.mp4"],
    "quality": "720p",
    "model_params": {"character_orientation": "image"},
}


@pytest.fixture(scope="module")
def server():
    with FakeEvoLink(api_key=KEY) as fake:
        yield fake


def post(server, body, key=KEY, **headers):
    auth = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{server.url}/v1/videos/generations", json=body, headers={**auth, **headers})


def changed(path: str, value):
    body = copy.deepcopy(GOOD)
    target = body
    *parents, last = path.split(".")
    for name in parents:
        target = target[name]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return body


_DELETE = object()


@pytest.mark.parametrize("path,value,expected", [
    ("model", "kling-v2", "model must be"),
    ("image_urls", [], "exactly one"),
    ("video_urls", ["https://a/1.mp4", "https://a/2.mp4"], "exactly one"),
    ("image_urls", ["ftp://example.com/a.jpg"], "http(s)"),
    ("prompt", "x" * 2501, "2500"),
    ("quality", "4k", "720p, 1080p"),
    ("model_params", _DELETE, "model_params is required"),
    ("model_params.character_orientation", "sideways", "image, video"),
    ("model_params.keep_sound", "yes", "boolean"),
    ("model_params.element_list", [{"element_id": "e1"}], "requires character_orientation video"),
    ("model_params.element_list", [{"element_id": 7}], "non-empty string"),
    ("callback_url", "http://example.com/hook", "HTTPS"),
    ("callback_url", "https://192.168.1.5/hook", "private"),
    ("callback_url", "https://example.com/" + "a" * 2048, "2048"),
    ("element_type", "video_refer", "unknown field"),
])
def test_invalid_bodies_are_refused_as_documented(server, path, value, expected):
    reply = post(server, changed(path, value))
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["code"] == "invalid_request" and error["type"] == "invalid_request_error"
    assert expected in error["message"]


def test_a_prompt_of_exactly_2500_characters_is_accepted(server):
    reply = post(server, changed("prompt", "x" * 2500))
    assert reply.status_code == 200 and reply.json()["status"] == "pending"


def test_bearer_key_is_checked_and_never_echoed(server):
    missing = post(server, GOOD, key=None)
    wrong = post(server, GOOD, key="not-the-key")
    assert missing.status_code == wrong.status_code == 401
    assert missing.json()["error"]["message"] == "Authentication required"
    assert wrong.json()["error"]["code"] == "unauthorized" and "not-the-key" not in wrong.text


def test_idempotency_key_replays_and_conflicts(server):
    first = post(server, GOOD, **{"Idempotency-Key": "k-1"})
    again = post(server, GOOD, **{"Idempotency-Key": "k-1"})
    assert again.json()["id"] == first.json()["id"] and again.headers["Idempotency-Replayed"] == "true"
    other = post(server, changed("prompt", "different"), **{"Idempotency-Key": "k-1"})
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"


def test_unreachable_inputs_fail_the_task_with_the_documented_code(server):
    task_id = post(server, GOOD).json()["id"]
    auth = {"Authorization": f"Bearer {KEY}"}
    for _ in range(server.polls_to_complete):
        body = httpx.get(f"{server.url}/v1/tasks/{task_id}", headers=auth).json()
    assert body["status"] == "failed" and body["error"]["code"] == "image_processing_error"
    assert body["error"]["type"] == "task_error"


def test_task_ids_and_unknown_tasks(server):
    auth = {"Authorization": f"Bearer {KEY}"}
    bad = httpx.get(f"{server.url}/v1/tasks/12345", headers=auth)
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "task_id"
    unknown = httpx.get(f"{server.url}/v1/tasks/task-unified-1-abcdefgh", headers=auth)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "task_not_found"


def test_insufficient_credits_is_402():
    with FakeEvoLink(api_key=KEY, credits=1.0) as poor:
        reply = post(poor, GOOD)
    assert reply.status_code == 402 and reply.json()["error"]["code"] == "insufficient_quota"


def test_files_api_shapes_and_quota():
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    with FakeEvoLink(api_key=KEY, max_files=1) as fake:
        auth = {"Authorization": f"Bearer {KEY}"}
        up = httpx.post(f"{fake.url}/api/v1/files/upload/stream", headers=auth,
                        files={"file": ("a.png", png, "image/png")}).json()
        assert up["success"] is True and up["data"]["mime_type"] == "image/png"
        assert up["data"]["expires_at"].endswith("+08:00")
        assert httpx.get(up["data"]["file_url"]).content == png
        full = httpx.post(f"{fake.url}/api/v1/files/upload/stream", headers=auth,
                          files={"file": ("b.png", png, "image/png")}).json()
        assert full == {"success": False, "code": 403, "msg": "File quota exceeded"}
        quota = httpx.get(f"{fake.url}/api/v1/files/quota", headers=auth).json()["data"]
        assert quota["used_files"] == 1 and quota["remain_files"] == 0


def test_faults_can_be_injected_over_http(server):
    added = httpx.post(f"{server.url}/_fake/faults", json={"route": "GET /v1/credits", "kind": "status",
                                                          "status": 503, "retry_after": "7"})
    assert added.status_code == 200
    reply = httpx.get(f"{server.url}/v1/credits", headers={"Authorization": f"Bearer {KEY}"})
    assert reply.status_code == 503 and reply.headers["Retry-After"] == "7"
    assert reply.json()["error"]["code"] == "service_unavailable"
    assert httpx.get(f"{server.url}/v1/credits", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
