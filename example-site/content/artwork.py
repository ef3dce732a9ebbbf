"""Small original SVG illustrations for the example site (no network, no binary blobs).

Every picture is drawn from a motif and a palette so the output is deterministic: the same
arguments give byte-identical files. ``build_snapshot.py`` calls :func:`render` for each asset
and writes the result under ``example-site/static/images/``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from xml.sax.saxutils import escape

__all__ = ["PALETTES", "render"]

# background top, background bottom, accent, dark, light
PALETTES: dict[str, tuple[str, str, str, str, str]] = {
    "crema": ("#f6e7d3", "#e9c9a3", "#b5562b", "#3b2418", "#fffaf3"),
    "dusk": ("#2d2a3e", "#5b3f52", "#e39a5b", "#17141f", "#f7e3cf"),
    "sage": ("#e3ead9", "#b9c8a6", "#6b7f4a", "#2c3321", "#f8faf3"),
    "ember": ("#f3d2bf", "#d9895f", "#8c2f1b", "#2e150d", "#fff4ec"),
    "harbour": ("#d6e4ea", "#8fb2c2", "#2f5d73", "#142b36", "#f4f9fb"),
    "cocoa": ("#e8d8c8", "#b99476", "#5a3522", "#24140c", "#fbf6f0"),
    "night": ("#1d2430", "#34465a", "#d9a441", "#0e1218", "#eef2f6"),
    "blossom": ("#f5e1e1", "#e3b1a8", "#a3473f", "#3a1c1a", "#fff7f6"),
}


def render(
    motif: str, width: int, height: int, palette: str, *, seed: int = 0, label: str = ""
) -> str:
    """Return the SVG text of one illustration."""
    top, bottom, accent, dark, light = PALETTES[palette]
    rng = random.Random(f"{motif}:{palette}:{seed}:{width}x{height}")
    body = _MOTIFS[motif](width, height, (top, bottom, accent, dark, light), rng, label)
    title = escape(label or motif.replace("_", " "))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">\n'
        f"<title>{title}</title>\n"
        "<defs>\n"
        f'<linearGradient id="bg" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0" stop-color="{top}"/><stop offset="1" stop-color="{bottom}"/>'
        "</linearGradient>\n"
        "</defs>\n"
        f'<rect width="{width}" height="{height}" fill="url(#bg)"/>\n'
        f"{_bokeh(width, height, light, rng)}"
        f"{body}"
        "</svg>\n"
    )


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _bokeh(w: int, h: int, light: str, rng: random.Random) -> str:
    out = []
    for _ in range(7):
        r = rng.uniform(0.04, 0.16) * min(w, h)
        out.append(
            f'<circle cx="{_f(rng.uniform(0, w))}" cy="{_f(rng.uniform(0, h))}" r="{_f(r)}" '
            f'fill="{light}" opacity="{_f(rng.uniform(0.08, 0.22))}"/>\n'
        )
    return "".join(out)


def _bean(cx: float, cy: float, size: float, angle: float, fill: str, line: str) -> str:
    rx, ry = size, size * 0.68
    return (
        f'<g transform="translate({_f(cx)} {_f(cy)}) rotate({_f(angle)})">'
        f'<ellipse rx="{_f(rx)}" ry="{_f(ry)}" fill="{fill}"/>'
        f'<path d="M{_f(-rx * 0.85)} 0 C{_f(-rx * 0.3)} {_f(-ry * 0.55)} {_f(rx * 0.3)} '
        f'{_f(ry * 0.55)} {_f(rx * 0.85)} 0" fill="none" stroke="{line}" '
        f'stroke-width="{_f(size * 0.12)}" stroke-linecap="round"/></g>\n'
    )


def _steam(x: float, y: float, height: float, color: str, n: int = 3) -> str:
    out = []
    for i in range(n):
        dx = (i - (n - 1) / 2) * height * 0.28
        sx = x + dx
        out.append(
            f'<path d="M{_f(sx)} {_f(y)} c{_f(-height * 0.12)} {_f(-height * 0.2)} '
            f"{_f(height * 0.12)} {_f(-height * 0.35)} 0 {_f(-height * 0.55)} "
            f's{_f(height * 0.12)} {_f(-height * 0.3)} 0 {_f(-height * 0.45)}" fill="none" '
            f'stroke="{color}" stroke-width="{_f(height * 0.05)}" stroke-linecap="round" '
            'opacity="0.7"/>\n'
        )
    return "".join(out)


Palette = tuple[str, str, str, str, str]


def _cup(w: int, h: int, p: Palette, rng: random.Random, label: str) -> str:
    _, _, accent, dark, light = p
    s = min(w, h)
    cx, cy = w * 0.5, h * 0.62
    cw, ch = s * 0.42, s * 0.3
    return (
        f'<ellipse cx="{_f(cx)}" cy="{_f(cy + ch * 0.55)}" rx="{_f(cw * 0.95)}" '
        f'ry="{_f(ch * 0.18)}" fill="{dark}" opacity="0.25"/>\n'
        f'<ellipse cx="{_f(cx)}" cy="{_f(cy + ch * 0.48)}" rx="{_f(cw * 0.85)}" '
        f'ry="{_f(ch * 0.14)}" fill="{light}"/>\n'
        f'<path d="M{_f(cx - cw / 2)} {_f(cy - ch / 2)} h{_f(cw)} '
        f"c0 {_f(ch * 0.8)} {_f(-cw * 0.2)} {_f(ch)} {_f(-cw / 2)} {_f(ch)} "
        f's{_f(-cw / 2)} {_f(-ch * 0.2)} {_f(-cw / 2)} {_f(-ch)}z" fill="{light}"/>\n'
        f'<path d="M{_f(cx + cw * 0.47)} {_f(cy - ch * 0.3)} c{_f(cw * 0.3)} 0 '
        f'{_f(cw * 0.3)} {_f(ch * 0.5)} 0 {_f(ch * 0.55)}" fill="none" stroke="{light}" '
        f'stroke-width="{_f(s * 0.03)}"/>\n'
        f'<ellipse cx="{_f(cx)}" cy="{_f(cy - ch / 2)}" rx="{_f(cw / 2)}" '
        f'ry="{_f(ch * 0.12)}" fill="{dark}"/>\n'
        f'<ellipse cx="{_f(cx - cw * 0.06)}" cy="{_f(cy - ch / 2)}" rx="{_f(cw * 0.2)}" '
        f'ry="{_f(ch * 0.05)}" fill="{accent}" opacity="0.8"/>\n'
        f"{_steam(cx, cy - ch * 0.7, s * 0.3, light)}"
    )


def _beans(w: int, h: int, p: Palette, rng: random.Random, label: str) -> str:
    _, _, accent, dark, light = p
    s = min(w, h)
    out = []
    for _ in range(38):
        out.append(
            _bean(
                rng.uniform(0, w),
                rng.uniform(0, h),
                rng.uniform(0.035, 0.07) * s,
                rng.uniform(0, 180),
                rng.choice([dark, accent, dark]),
                light,
            )
        )
    return "".join(out)


def _hills(w: int, h: int, p: Palette, rng: random.Random, label: str) -> str:
    _, _, accent, dark, light = p
    out = [
        f'<circle cx="{_f(w * rng.uniform(0.6, 0.8))}" cy="{_f(h * 0.3)}" '
        f'r="{_f(min(w, h) * 0.12)}" fill="{light}" opacity="0.9"/>\n'
    ]
    colors = [accent, dark, dark]
    opac = [0.45, 0.65, 0.9]
    for layer in range(3):
        base = h * (0.55 + layer * 0.15)
        pts = [f"M0 {_f(h)}", f"L0 {_f(base)}"]
        steps = 8
        for i in range(1, steps + 1):
            x = w * i / steps
            y = base - math.sin(i * 0.9 + layer + rng.uniform(0, 1)) * h * 0.08
            cx = w * (i - 0.5) / steps
            pts.append(f"Q{_f(cx)} {_f(y - h * 0.06)} {_f(x)} {_f(y)}")
        pts.append(f"L{_f(w)} {_f(h)}Z")
        out.append(f'<path d="{" ".join(pts)}" fill="{colors[layer]}" opacity="{opac[layer]}"/>\n')
    # rows of coffee shrubs on the nearest hill
    for i in range(14):
        x = w * (i + 0.5) / 14
        y = h * 0.9 - (i % 2) * h * 0.02
        out.append(
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(h * 0.035)}" fill="{light}" '
            'opacity="0.18"/>\n'
        )
    return "".join(out)


def _kettle(w: int, h: int, p: Palette, rng: random.Random, label: str) -> str:
    _, _, accent, dark, light = p
    s = min(w, h)
    cx = w * 0.56
    return (
        # dripper and carafe
        f'<path d="M{_f(cx - s * 0.16)} {_f(h * 0.5)} h{_f(s * 0.32)} l{_f(-s * 0.1)} '
        f'{_f(s * 0.16)} h{_f(-s * 0.12)}z" fill="{light}"/>\n'
        f'<rect x="{_f(cx - s * 0.14)}" y="{_f(h * 0.5 + s * 0.19)}" width="{_f(s * 0.28)}" '
        f'height="{_f(s * 0.26)}" rx="{_f(s * 0.05)}" fill="{light}" opacity="0.85"/>\n'
        f'<rect x="{_f(cx - s * 0.14)}" y="{_f(h * 0.5 + s * 0.33)}" width="{_f(s * 0.28)}" '
        f'height="{_f(s * 0.12)}" rx="{_f(s * 0.04)}" fill="{dark}" opacity="0.85"/>\n'
        # kettle body, spout and handle
        f'<ellipse cx="{_f(cx - s * 0.42)}" cy="{_f(h * 0.38)}" rx="{_f(s * 0.14)}" '
        f'ry="{_f(s * 0.11)}" fill="{dark}"/>\n'
        f'<path d="M{_f(cx - s * 0.3)} {_f(h * 0.4)} C{_f(cx - s * 0.18)} {_f(h * 0.42)} '
        f'{_f(cx - s * 0.14)} {_f(h * 0.3)} {_f(cx - s * 0.04)} {_f(h * 0.3)}" fill="none" '
        f'stroke="{dark}" stroke-width="{_f(s * 0.025)}" stroke-linecap="round"/>\n'
        f'<path d="M{_f(cx - s * 0.55)} {_f(h * 0.33)} c{_f(-s * 0.08)} 0 {_f(-s * 0.08)} '
        f'{_f(s * 0.12)} 0 {_f(s * 0.12)}" fill="none" stroke="{dark}" '
        f'stroke-width="{_f(s * 0.025)}"/>\n'
        # the stream of water
        f'<path d="M{_f(cx - s * 0.035)} {_f(h * 0.31)} Q{_f(cx)} {_f(h * 0.38)} {_f(cx)} '
        f'{_f(h * 0.5)}" fill="none" stroke="{accent}" stroke-width="{_f(s * 0.008)}"/>\n'
    )


def _chart(w: int, h: int, p: Palette, rng: random.Random, label: str) -> str:
    _, _, _, dark, light = p
    shades = ["#c9a27a", "#a87448", "#8a5632", "#6a3d22", "#4b2915", "#2f190c"]
    out = []
    n = len(shades)
    pad = w * 0.08
    bw = (w - 2 * pad) / n
    for i, shade in enumerate(shades):
        x = pad + i * bw + bw / 2
        bar_h = h * (0.25 + 0.08 * i)
        out.append(
            f'<rect x="{_f(x - bw * 0.35)}" y="{_f(h * 0.85 - bar_h)}" width="{_f(bw * 0.7)}" '
            f'height="{_f(bar_h)}" rx="{_f(bw * 0.08)}" fill="{light}" opacity="0.55"/>\n'
        )
        out.append(_bean(x, h * 0.85 - bar_h - bw * 0.35, bw * 0.28, -25, shade, light))
    out.append(
        f'<rect x="{_f(pad * 0.6)}" y="{_f(h * 0.85)}" width="{_f(w - pad * 1.2)}" '
        f'height="{_f(h * 0.012)}" fill="{dark}"/>\n'
    )
    return "".join(out)


def _drum(w: int, h: int, p: Palette, rng: random.Random, label: str) -> str:
    _, _, accent, dark, light = p
    s = min(w, h)
    cx, cy = w * 0.48, h * 0.55
    out = [
        # hopper
        f'<path d="M{_f(cx - s * 0.12)} {_f(cy - s * 0.42)} h{_f(s * 0.24)} '
        f'l{_f(-s * 0.07)} {_f(s * 0.14)} h{_f(-s * 0.1)}z" fill="{dark}"/>\n',
        # chimney
        f'<rect x="{_f(cx + s * 0.2)}" y="{_f(cy - s * 0.6)}" width="{_f(s * 0.05)}" '
        f'height="{_f(s * 0.42)}" fill="{dark}"/>\n',
        # drum
        f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(s * 0.27)}" fill="{dark}"/>\n',
        f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(s * 0.2)}" fill="{accent}"/>\n',
        f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(s * 0.06)}" fill="{light}"/>\n',
        # cooling tray
        f'<ellipse cx="{_f(cx + s * 0.42)}" cy="{_f(cy + s * 0.3)}" rx="{_f(s * 0.3)}" '
        f'ry="{_f(s * 0.07)}" fill="{dark}" opacity="0.85"/>\n',
        # legs
        f'<rect x="{_f(cx - s * 0.2)}" y="{_f(cy + s * 0.25)}" width="{_f(s * 0.05)}" '
        f'height="{_f(s * 0.2)}" fill="{dark}"/>\n',
        f'<rect x="{_f(cx + s * 0.15)}" y="{_f(cy + s * 0.25)}" width="{_f(s * 0.05)}" '
        f'height="{_f(s * 0.2)}" fill="{dark}"/>\n',
    ]
    for _ in range(9):
        out.append(
            _bean(
                cx + s * 0.42 + rng.uniform(-0.22, 0.22) * s,
                cy + s * 0.27 + rng.uniform(-0.03, 0.02) * s,
                s * 0.025,
                rng.uniform(0, 180),
                "#5a3522",
                light,
            )
        )
    out.append(_steam(cx + s * 0.225, cy - s * 0.62, s * 0.25, light, n=2))
    return "".join(out)


def _jar(w: int, h: int, p: Palette, rng: random.Random, label: str) -> str:
    _, _, accent, dark, light = p
    s = min(w, h)
    cx = w * 0.5
    top = h * 0.22
    jw, jh = s * 0.4, s * 0.62
    out = [
        f'<rect x="{_f(cx - jw / 2)}" y="{_f(top)}" width="{_f(jw)}" height="{_f(jh)}" '
        f'rx="{_f(s * 0.05)}" fill="{light}" opacity="0.55"/>\n',
        f'<rect x="{_f(cx - jw / 2 + s * 0.02)}" y="{_f(top + jh * 0.3)}" '
        f'width="{_f(jw - s * 0.04)}" height="{_f(jh * 0.66)}" rx="{_f(s * 0.04)}" '
        f'fill="{dark}"/>\n',
        f'<rect x="{_f(cx - jw * 0.42)}" y="{_f(top - s * 0.06)}" width="{_f(jw * 0.84)}" '
        f'height="{_f(s * 0.07)}" rx="{_f(s * 0.015)}" fill="{accent}"/>\n',
    ]
    for _ in range(10):
        x = cx + rng.uniform(-0.15, 0.15) * s
        y = top + jh * rng.uniform(0.36, 0.9)
        size = rng.uniform(0.02, 0.035) * s
        out.append(
            f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(size)}" height="{_f(size)}" '
            f'rx="{_f(size * 0.2)}" fill="{light}" opacity="0.45" '
            f'transform="rotate({_f(rng.uniform(0, 45))} {_f(x)} {_f(y)})"/>\n'
        )
    return "".join(out)


def _waves(w: int, h: int, p: Palette, rng: random.Random, label: str) -> str:
    _, _, accent, dark, light = p
    out = []
    for i in range(6):
        y = h * (0.35 + i * 0.1)
        amp = h * 0.03
        d = [f"M0 {_f(y)}"]
        for k in range(8):
            x0 = w * k / 8
            d.append(
                f"C{_f(x0 + w / 24)} {_f(y - amp)} {_f(x0 + w / 12)} {_f(y + amp)} "
                f"{_f(x0 + w / 8)} {_f(y)}"
            )
        color = accent if i % 2 else dark
        out.append(
            f'<path d="{" ".join(d)}" fill="none" stroke="{color}" '
            f'stroke-width="{_f(h * 0.018)}" opacity="{_f(0.35 + i * 0.1)}"/>\n'
        )
    s = min(w, h)
    out.append(
        f'<path d="M{_f(w * 0.5)} {_f(h * 0.08)} c{_f(s * 0.1)} {_f(s * 0.15)} '
        f"{_f(s * 0.12)} {_f(s * 0.22)} 0 {_f(s * 0.26)} c{_f(-s * 0.12)} {_f(-s * 0.04)} "
        f'{_f(-s * 0.1)} {_f(-s * 0.11)} 0 {_f(-s * 0.26)}z" fill="{light}" opacity="0.9"/>\n'
    )
    return "".join(out)


def _storefront(w: int, h: int, p: Palette, rng: random.Random, label: str) -> str:
    _, _, accent, dark, light = p
    x0, x1 = w * 0.12, w * 0.88
    y0, y1 = h * 0.18, h * 0.9
    out = [
        f'<rect x="{_f(x0)}" y="{_f(y0)}" width="{_f(x1 - x0)}" height="{_f(y1 - y0)}" '
        f'fill="{dark}"/>\n',
        f'<rect x="{_f(x0 + w * 0.03)}" y="{_f(y0 + h * 0.05)}" width="{_f(x1 - x0 - w * 0.06)}" '
        f'height="{_f(h * 0.09)}" fill="{light}" opacity="0.9"/>\n',
    ]
    stripes = 12
    sw = (x1 - x0 + w * 0.04) / stripes
    for i in range(stripes):
        color = accent if i % 2 == 0 else light
        x = x0 - w * 0.02 + i * sw
        out.append(
            f'<path d="M{_f(x)} {_f(y0 + h * 0.16)} h{_f(sw)} v{_f(h * 0.08)} '
            f'q{_f(-sw / 2)} {_f(h * 0.04)} {_f(-sw)} 0z" fill="{color}"/>\n'
        )
    win_y = y0 + h * 0.3
    out.append(
        f'<rect x="{_f(x0 + w * 0.05)}" y="{_f(win_y)}" width="{_f(w * 0.38)}" '
        f'height="{_f(h * 0.3)}" fill="{light}" opacity="0.35"/>\n'
    )
    out.append(
        f'<rect x="{_f(x0 + w * 0.5)}" y="{_f(win_y)}" width="{_f(w * 0.14)}" '
        f'height="{_f(y1 - win_y)}" fill="{accent}" opacity="0.85"/>\n'
    )
    out.append(
        f'<rect x="{_f(x1 - w * 0.17)}" y="{_f(win_y)}" width="{_f(w * 0.12)}" '
        f'height="{_f(h * 0.3)}" fill="{light}" opacity="0.35"/>\n'
    )
    for i in range(4):
        out.append(
            f'<circle cx="{_f(x0 + w * (0.1 + i * 0.09))}" cy="{_f(win_y + h * 0.24)}" '
            f'r="{_f(h * 0.025)}" fill="{light}" opacity="0.8"/>\n'
        )
    out.append(_steam(x0 + w * 0.24, win_y + h * 0.18, h * 0.12, light))
    return "".join(out)


def _portrait(w: int, h: int, p: Palette, rng: random.Random, label: str) -> str:
    _, _, accent, dark, light = p
    s = min(w, h)
    initials = "".join(part[0] for part in label.split()[:2]).upper()
    return (
        f'<circle cx="{_f(w / 2)}" cy="{_f(h * 0.4)}" r="{_f(s * 0.2)}" fill="{dark}"/>\n'
        f'<path d="M{_f(w / 2 - s * 0.36)} {_f(h)} c0 {_f(-s * 0.38)} {_f(s * 0.72)} '
        f'{_f(-s * 0.38)} {_f(s * 0.72)} 0z" fill="{dark}"/>\n'
        f'<circle cx="{_f(w * 0.74)}" cy="{_f(h * 0.72)}" r="{_f(s * 0.14)}" fill="{accent}"/>\n'
        f'<text x="{_f(w * 0.74)}" y="{_f(h * 0.72 + s * 0.04)}" text-anchor="middle" '
        f'font-family="Georgia, serif" font-size="{_f(s * 0.11)}" fill="{light}">'
        f"{escape(initials)}</text>\n"
    )


def _card(w: int, h: int, p: Palette, rng: random.Random, label: str) -> str:
    _, _, accent, dark, light = p
    rows = [("Dose", "18 g"), ("Yield", "36 g"), ("Time", "27-32 s"), ("Temp", "93 C")]
    out = [
        f'<rect x="{_f(w * 0.08)}" y="{_f(h * 0.1)}" width="{_f(w * 0.84)}" '
        f'height="{_f(h * 0.8)}" rx="{_f(w * 0.03)}" fill="{light}"/>\n',
        f'<text x="{_f(w * 0.14)}" y="{_f(h * 0.25)}" font-family="Georgia, serif" '
        f'font-size="{_f(h * 0.08)}" fill="{dark}">{escape(label)}</text>\n',
    ]
    for i, (k, v) in enumerate(rows):
        y = h * (0.4 + i * 0.12)
        out.append(
            f'<text x="{_f(w * 0.14)}" y="{_f(y)}" font-family="sans-serif" '
            f'font-size="{_f(h * 0.055)}" fill="{dark}">{k}</text>\n'
            f'<text x="{_f(w * 0.86)}" y="{_f(y)}" text-anchor="end" font-family="sans-serif" '
            f'font-size="{_f(h * 0.055)}" fill="{accent}">{escape(v)}</text>\n'
        )
    return "".join(out)


_MOTIFS: dict[str, Callable[[int, int, Palette, random.Random, str], str]] = {
    "beans": _beans,
    "card": _card,
    "chart": _chart,
    "cup": _cup,
    "drum": _drum,
    "hills": _hills,
    "jar": _jar,
    "kettle": _kettle,
    "portrait": _portrait,
    "storefront": _storefront,
    "waves": _waves,
}
