"""Errors for misuse and bad input, never for a broken origin (that is a Finding).

    OriginDoctorError          anything the CLI shows as one line and exit code 2
    ├── UsageError             a flag or argument that makes no sense
    ├── InputError             a file that cannot be read or parsed (names the file and line)
    └── ProfileError           a profile that is missing or malformed
"""

from __future__ import annotations


class OriginDoctorError(Exception):
    """Base of every error the CLI turns into `error: <message>` and exit code 2."""

    exit_code = 2


class UsageError(OriginDoctorError):
    pass


class InputError(OriginDoctorError):
    pass


class ProfileError(OriginDoctorError):
    pass
