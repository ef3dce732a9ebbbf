"""kontent-ssg: a static site generator for the Kontent.ai headless CMS."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
