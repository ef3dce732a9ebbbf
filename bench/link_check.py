"""Time the link check's attribute search (``site.links.page_links``) over a built site's pages.

Run it from two checkouts (``cd CHECKOUT && PYTHONPATH=. python bench/link_check.py PUBLIC``)
alternating, to compare them: it reads every ``.html`` file under PUBLIC (a build's output)
into memory, then times ``page_links`` over all of them ``--runs`` times.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from kontent_ssg.site.links import page_links


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("public", type=Path, help="a built site's output folder")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    texts = [p.read_text(encoding="utf-8") for p in sorted(args.public.rglob("*.html"))]
    for _ in range(args.runs):
        started = time.perf_counter()
        links = sum(1 for text in texts for _ in page_links(text))
        seconds = time.perf_counter() - started
        print(
            f"{len(texts)} pages, {links} links: {seconds:.3f} s, "
            f"{seconds / max(links, 1) * 1e6:.2f} µs a link"
        )


if __name__ == "__main__":
    main()
