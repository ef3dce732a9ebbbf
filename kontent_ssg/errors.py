"""Every error a user can see, in one tree.

The CLI catches :class:`KontentSSGError`, prints ``str(error)`` (what, where, how to fix)
and exits with ``error.exit_code``. Anything else escaping is a bug in kontent-ssg.

Exit statuses (also in the README): 0 success, 1 build/content/network error,
2 bad usage or configuration.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

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
    "PluginError",
    "RouteError",
    "SnapshotError",
    "StrictError",
    "TemplateError",
    "UnknownNameError",
    "UsageError",
    "WebhookError",
    "did_you_mean",
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


class UnknownNameError(ConfigError):
    """A name in ``kontent.toml`` or a template that the content model or the site does not
    have (a content type, element, taxonomy group, listing, ``url_for`` target), or a name
    used the wrong way; names where it was written and the closest valid name."""

    located = False  # the message already says which template and line


class RouteError(KontentSSGError):
    """An item's URL is unsafe, or two items claim one URL."""


class TemplateError(KontentSSGError):
    """A template is missing or raised: names the template, the line and the item."""


class BuildError(KontentSSGError):
    """The build failed; the previous output is left as it was."""


class AssetError(BuildError):
    """An asset could not be downloaded, was refused (too large) or could not be processed."""


class PluginError(BuildError):
    """A site plugin raised: names the plugin, what it was doing and the page."""

    located = False  # the message already says which template and line


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


def did_you_mean(name: str, candidates: Iterable[str], *, listed: str = "") -> str:
    """``"; did you mean 'article'?"`` for the closest candidate, else (with ``listed``, the
    candidates' kind) ``" (content types: a, b, c)"``, else ``""``: the tail of a message about
    an unknown ``name``."""
    known = sorted(set(candidates))
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    if listed:
        shown = ", ".join(known[:12]) + (", …" if len(known) > 12 else "")
        return f" ({listed}: {shown or 'none'})"
    return ""
