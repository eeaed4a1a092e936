"""submit: send a checked job to EvoLink's Kling 3.0 Motion Control, safely and cheaply.

    >>> from submit import Client
    >>> with Client(api_key) as client:
    ...     task = client.create_task(body)          # POST, with an Idempotency-Key
    ...     task = client.wait(task.id)              # polls with jitter, bounded
    ...     files = client.download(task, "out")    # atomic, resumable
    ...     element = client.create_element("Ann", "Ann, red jacket", video_url=url)  # docs/elements.md

``submit.flow`` holds the steps the CLI strings together (gate, host, journalled create,
recover, download); ``submit.fake.FakeEvoLink`` is a local EvoLink for tests and demos.
``KlingClient`` and ``FalClient`` are the same client for the other hosts of the model
(docs/providers.md), with ``submit.fake.FakeKling`` and ``FakeFal`` as their stand-ins.
"""

from .client import Client, Download, InvalidId, Task, UploadedFile
from .errors import (ApiError, DeadlineExceeded, ErrorInfo, GateRefused, HostingError, SubmitError, TaskFailed,
                     TransportError, WaitTimeout)
from .fal import FalClient
from .journal import Journal, StoredElement
from .kling import KlingClient
from .retry import RetryPolicy

__all__ = ["Client", "KlingClient", "FalClient", "Task", "Download", "UploadedFile", "Journal", "StoredElement", "RetryPolicy", "ErrorInfo", "SubmitError",
           "ApiError", "TransportError", "TaskFailed", "WaitTimeout", "DeadlineExceeded", "HostingError", "GateRefused",
           "InvalidId"]
