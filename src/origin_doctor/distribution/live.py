"""Read a distribution, and the custom policies it uses, from the CloudFront API through boto3
(optional extra `aws`). Every AWS or connection error becomes one line naming what failed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from origin_doctor.distribution.model import HeaderPolicy
from origin_doctor.distribution.parse import parse_policies
from origin_doctor.errors import InputError, UsageError

INSTALL_HINT = "--id needs boto3: pip install 'origin-doctor[aws]' (or pass the saved get-distribution JSON file)"


class CloudFrontReader:
    """A CloudFront client with bounded timeouts and retries (a hung endpoint must not hang us)."""

    def __init__(self, profile_name: str | None, endpoint_url: str | None) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise UsageError(INSTALL_HINT) from None
        import botocore.exceptions as errors

        self._errors = errors
        config = Config(connect_timeout=10, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"})
        try:
            session = boto3.Session(profile_name=profile_name)
            self._client = session.client("cloudfront", endpoint_url=endpoint_url, config=config,
                                          region_name=session.region_name or "us-east-1")
        except errors.BotoCoreError as exc:
            raise InputError(f"AWS: {exc}") from None

    def distribution(self, distribution_id: str) -> dict[str, Any]:
        """get-distribution output (Distribution.DistributionConfig plus Id and DomainName)."""
        response = self._call(f"get-distribution --id {distribution_id}", "get_distribution", Id=distribution_id)
        response.pop("ResponseMetadata", None)
        return response

    def policies(self, wanted: Iterable[tuple[str, str]]) -> tuple[list[HeaderPolicy], dict[str, str]]:
        """Custom policies by (id, kind). Returns what was read and, for the rest, why not: a policy
        we cannot read is a warning in the report, not an error."""
        found: list[HeaderPolicy] = []
        failures: dict[str, str] = {}
        for policy_id, kind in wanted:
            operation = "get_origin_request_policy" if kind == "origin_request" else "get_cache_policy"
            label = f"{operation.replace('_', '-')} --id {policy_id}"
            try:
                response = self._call(label, operation, Id=policy_id)
            except InputError as exc:
                failures[policy_id] = str(exc)
                continue
            response.pop("ResponseMetadata", None)
            found += parse_policies(response, label)
        return found, failures

    def _call(self, label: str, operation: str, **params: Any) -> dict[str, Any]:
        errors = self._errors
        try:
            response: dict[str, Any] = getattr(self._client, operation)(**params)
        except errors.ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
            message = error.get("Message") or ""
            raise InputError(f"AWS {label}: {code} {message}".rstrip()) from None
        except (errors.BotoCoreError, OSError) as exc:
            raise InputError(f"AWS {label}: {exc}") from None
        return response
