"""A local EvoLink: the task, files and credits endpoints of API ref sections 2, 3, 7 and 8,
served over real HTTP, for tests and for demos that need no key, network or money.

It behaves as the documentation says the service does: checks the bearer key, validates the
body field by field, fetches the image and video URLs and checks them against the limits
(metadata only, like the service's own intake), moves a task from pending through processing
to completed over a few polls, reserves and settles credits, serves the result with Range
support and lets the link expire. Where the documentation disagrees with itself the reading is
a setting (``code_style`` for integer or string ``error.code``, ``credit_unit`` for
``credits_reserved``, ``files_accept_video``).

Faults are injected on demand, in process (``server.inject(...)``) or over HTTP
(``POST /_fake/faults``): status codes with or without Retry-After, HTML error pages, malformed
JSON, dropped connections before or after the request is acted on, slow answers, downloads cut
in the middle, and tasks that fail with a business code or stay pending forever. Hostile ones
too: an endless body, a reply dripped a byte at a time (headers included), an error said with
HTTP 200, the bearer key echoed in an error, and a next task whose id or result link the fault
chooses (``value``).

    >>> with FakeEvoLink(api_key="k") as server:
    ...     client = Client("k", api_base=server.url, files_base=server.url)

The other hosts of the model have theirs (``hosts``): ``FakeKling`` and ``FakeFal``.
"""

from .hosts import FakeFal, FakeKling
from .state import FakeEvoLink, Fault
from .validation import validate_generation

__all__ = ["FakeEvoLink", "FakeFal", "FakeKling", "Fault", "validate_generation"]
