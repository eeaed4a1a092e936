"""preflight: check inputs for a motion-control generation before anything is paid for.

    >>> from preflight import check
    >>> report = check(image="me.jpg", video="dance.mp4", orientation="video")
    >>> report.ok, [c.id for c in report.checks if c.status.value == "fail"]

Importing this package is cheap: media libraries load only when a check needs them.
"""

__version__ = "0.1.0"

from .api import check, check_element, check_files  # noqa: E402
from .config import ConfigError  # noqa: E402
from .errors import PreflightError  # noqa: E402
from .job import JobError  # noqa: E402
from .profile import Profile, ProfileError, load_profile  # noqa: E402
from .providers import ProviderVerdict, check_providers  # noqa: E402
from .report import Check, CostEstimate, ExitCode, Report, Status  # noqa: E402
from .request import ElementRequest, Request, ResolvedRequest  # noqa: E402

__all__ = [
    "check_providers", "ProviderVerdict",
    "check", "check_element", "check_files", "Check", "ConfigError", "CostEstimate", "ElementRequest", "ExitCode",
    "JobError", "PreflightError",
    "Profile", "ProfileError", "Report", "Request", "ResolvedRequest", "Status", "load_profile", "__version__",
]
