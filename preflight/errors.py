"""The root of every error the preflight library raises for bad input, so a caller can catch
them all in one place (``except PreflightError``) and tell them from bugs.

    PreflightError
    ├── ProfileError       a profile file is missing, unreadable or malformed (preflight.profile)
    ├── ConfigError        a configuration file cannot be used (preflight.config)
    ├── JobError           a job file cannot be read or does not follow the format (preflight.job)
    ├── TextFileError      a job, config or profile file is not a small regular text file
    ├── VideoProbeError    a container cannot be opened or holds no video stream
    └── HeaderError        an image header cannot be parsed

A file that cannot be read is not an exception in ``check()``: it is a failed ``*.readable``
check in the report. These are raised where there is no report to put them in.
"""

from __future__ import annotations


class PreflightError(Exception):
    """Bad input to the preflight library; the message names what and where."""
