"""Every error a user can see, in one tree.

The CLI catches :class:`KontentSSGError`, prints ``str(error)`` (what, where, how to fix)
and exits with ``error.exit_code``. Anything else escaping is a bug in kontent-ssg.

Exit statuses (also in the README): 0 success, 1 build/content/network error,
2 bad usage or configuration.
"""

from __future__ import annotations

__all__ = [
    "APIError",
    "AssetError",
    "AuthError",
    "BuildError",
    "ConfigError",
    "DeliveryError",
    "KontentSSGError",
    "MalformedResponseError",
    "ManagementError",
    "NetworkError",
    "NotFoundError",
    "RouteError",
    "SnapshotError",
    "StrictError",
    "TemplateError",
    "UsageError",
    "WebhookError",
]


class KontentSSGError(Exception):
    """Base of every user-facing error. ``hint`` says how to fix it."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class UsageError(KontentSSGError):
    """Bad command-line usage."""

    exit_code = 2


class ConfigError(KontentSSGError):
    """``kontent.toml`` or the environment is wrong: names the file and the key."""

    exit_code = 2


class APIError(KontentSSGError):
    """A request to a Kontent.ai API failed. ``url`` names the request and ``status`` is the
    HTTP status (None: no answer); neither ever holds a key."""

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.url = url
        self.status = status


class DeliveryError(APIError):
    """A Delivery API request failed."""


class AuthError(DeliveryError):
    """401/403: the API key is missing or wrong."""


class NotFoundError(DeliveryError):
    """404: unknown environment, item, type or taxonomy."""


class MalformedResponseError(DeliveryError):
    """The API answered with something that is not the documented shape."""


class NetworkError(DeliveryError):
    """The API could not be reached, or kept failing after every retry."""


class SnapshotError(KontentSSGError):
    """A stored snapshot is missing, unreadable or of an unknown format."""


class RouteError(KontentSSGError):
    """An item's URL is unsafe, or two items claim one URL."""


class TemplateError(KontentSSGError):
    """A template is missing or raised: names the template, the line and the item."""


class BuildError(KontentSSGError):
    """The build failed; the previous output is left as it was."""


class AssetError(BuildError):
    """An asset could not be downloaded, was refused (too large) or could not be processed."""


class StrictError(BuildError):
    """``--strict`` and the site has warnings or broken links (listed, for ``--report``)."""

    def __init__(
        self,
        message: str,
        *,
        warnings: list[str],
        broken_links: list[dict[str, object]],
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.warnings = warnings
        self.broken_links = broken_links


class WebhookError(KontentSSGError):
    """A webhook body or signature is unacceptable."""


class ManagementError(APIError):
    """A Management API request failed."""
