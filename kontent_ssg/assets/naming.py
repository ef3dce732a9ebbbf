"""Where a downloaded asset and its variants go, and how a page names what it used.

Pure functions of the asset's URL and the transformation asked for, so every render process
computes the same paths without asking anyone, and a dependency key can be turned back into
the file it stands for.

- The original: ``{prefix}/<id>/<file name>``. ``<id>`` is the file id in a Kontent.ai asset
  URL (``https://assets-…/{environment}/{file id}/{file name}``: the segment before the file
  name); a URL of another shape gets a hash of the URL instead. Kontent.ai gives a replaced
  file a new file id, so a new file never overwrites an old one.
- A variant: ``{prefix}/<id>/<transformation>/<stem>.<ext>``; ``<transformation>`` is the
  parameters in a fixed order (``w640``, ``w640-h480-crop``, ``q80-webp``) and ``<ext>`` the
  output format's (the original's when no ``fm``).
- File names are sanitised: percent-decoded, accents dropped, anything but ``A-Z a-z 0-9 . _ -``
  replaced by ``-`` (so no ``/``, ``..``, control characters or spaces reach the file system
  or the HTML), no leading dot, at most 120 characters (the extension kept).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

__all__ = [
    "FORMAT_EXTENSIONS",
    "VariantSpec",
    "asset_id",
    "asset_key",
    "original_path",
    "parse_key",
    "safe_file_name",
    "variant_path",
]

#: ``fm`` values of the Image Transformation API -> file extension of the output.
FORMAT_EXTENSIONS = {
    "jpg": "jpg",
    "pjpg": "jpg",
    "png": "png",
    "png8": "png",
    "gif": "gif",
    "webp": "webp",
    "avif": "avif",
}
FITS = ("crop", "clip", "scale")
MAX_NAME = 120

_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DOTS = re.compile(r"\.{2,}")
_DASHES = re.compile(r"-{2,}")
_EXTENSION = re.compile(r"(.*)\.([A-Za-z0-9]{1,16})")
_TOKEN = re.compile(
    r"(?:w(?P<w>\d+)|h(?P<h>\d+)|q(?P<q>\d+)|(?P<fit>crop|clip|scale)|(?P<fm>[a-z0-9]+))"
)


def asset_id(url: str) -> str:
    """The folder of an asset: its Kontent.ai file id, else a hash of its URL."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) >= 2 and _ID.fullmatch(parts[-2]):
        return parts[-2]
    return hashlib.blake2b(url.encode("utf-8"), digest_size=8).hexdigest()


def safe_file_name(raw: str) -> str:
    """A file name safe on disk and in a URL, as close to ``raw`` as that allows."""
    name = unquote(raw)
    name = unicodedata.normalize("NFKD", name)
    name = "".join(c for c in name if not unicodedata.combining(c))
    name = _UNSAFE.sub("-", name)
    name = _DASHES.sub("-", _DOTS.sub("-", name)).strip("-.")
    split = _EXTENSION.fullmatch(name)
    stem, ext = (split.group(1), split.group(2)) if split else (name, "")
    room = MAX_NAME - (len(ext) + 1 if ext else 0)
    stem = stem[:room].strip("-.") or "file"
    return f"{stem}.{ext}" if ext else stem


def _file_name(url: str) -> str:
    parts = [p for p in urlsplit(url).path.split("/") if p]
    return safe_file_name(parts[-1] if parts else "")


def original_path(prefix: str, url: str) -> str:
    """The output path (relative to the output folder) of the asset at ``url``."""
    return f"{prefix}/{asset_id(url)}/{_file_name(url)}"


@dataclass(frozen=True)
class VariantSpec:
    """One transformation, in pixels and a format this machine can write (None: keep)."""

    w: int | None = None
    h: int | None = None
    fit: str | None = None
    fm: str | None = None
    q: int | None = None

    @property
    def token(self) -> str:
        parts = []
        if self.w:
            parts.append(f"w{self.w}")
        if self.h:
            parts.append(f"h{self.h}")
        if self.fit and self.w and self.h:
            parts.append(self.fit)
        if self.q:
            parts.append(f"q{self.q}")
        if self.fm:
            parts.append(self.fm)
        return "-".join(parts)

    @classmethod
    def from_token(cls, token: str) -> VariantSpec:
        values: dict[str, object] = {}
        for part in token.split("-"):
            match = _TOKEN.fullmatch(part)
            if match is None:
                raise ValueError(f"not a variant token: {token!r}")
            for name, value in match.groupdict().items():
                if value is not None:
                    values[name] = int(value) if name in ("w", "h", "q") else value
        return cls(**values)  # type: ignore[arg-type]


def variant_path(prefix: str, url: str, spec: VariantSpec) -> str:
    """The output path of ``spec`` made from the asset at ``url``."""
    name = _file_name(url)
    if spec.fm:
        stem = name.rpartition(".")[0] or name
        name = f"{stem}.{FORMAT_EXTENSIONS[spec.fm]}"
    return f"{prefix}/{asset_id(url)}/{spec.token}/{name}"


def asset_key(url: str, spec: VariantSpec | None = None) -> str:
    """The dependency key of a page that used the asset at ``url`` (or one of its variants).

    The URL comes first, so a page that used any variant can be found by the original's key
    too (see :func:`kontent_ssg.incremental.keys.asset`)."""
    from ..incremental.keys import asset

    return asset(url, spec.token if spec is not None else "")


def parse_key(key: str) -> tuple[str, VariantSpec | None]:
    """(URL, variant or None) of an ``asset:`` key."""
    body = key[len("asset:") :]
    url, space, token = body.rpartition(" ")
    if not space:
        return body, None
    return url, VariantSpec.from_token(token)
