"""Plot bench_peers.py's results: total time against argument size, log-log.

    python benchmarks/plot.py benchmarks/results/peers.json

writes ``peers.png`` (text formats) and ``peers-providers.png`` (provider streams)
next to the JSON file (``--out DIR`` to put them elsewhere).  One panel per chunk size.
On log-log axes a cost growing as n^k is a straight line of slope k: the grey
reference lines have slopes 1 (O(n)) and 2 (O(n^2)).  toolwire and the floors run
parallel to O(n); the re-parse peers parallel to O(n^2).  A peer's cell that ran out
of its time budget is drawn as a hollow marker at its extrapolated total (an estimate,
labelled so), with the budget as a horizontal line: everything above it is
extrapolated.  Needs matplotlib (the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "plot_formats", "plot_providers"]

PEER_STYLE = {"jiter": ("tab:red", "o"), "pjp": ("tab:purple", "s")}
TOOLWIRE, FLOOR, SDK = "tab:blue", "black", "tab:red"
PROVIDER_MARKERS = ("o", "^", "s", "D", "v")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _peer_points(result: dict[str, Any]) -> tuple[float | None, bool]:
    """(seconds, measured?) of a budgeted peer result: measured or extrapolated."""
    if result["finished"]:
        return result["seconds"], True
    return result["extrapolated"], False


def _peer_series(
    ax: Any, xs: list[int], results: list[dict[str, Any]], color: str, marker: str, label: str
) -> list[float]:
    """A peer's line: filled markers where measured, hollow where extrapolated."""
    ys: list[float] = []
    pts: list[tuple[int, float, bool]] = []
    for x, r in zip(xs, results, strict=True):
        y, measured = _peer_points(r)
        if y is not None:
            pts.append((x, y, measured))
            ys.append(y)
    known = [(x, y) for x, y, m in pts if m]
    guessed = [(x, y) for x, y, m in pts if not m]
    if known:
        ax.plot(*zip(*known, strict=True), color=color, marker=marker, lw=1.8, label=label)
    if guessed:
        joined = ([known[-1]] if known else []) + guessed
        ax.plot(*zip(*joined, strict=True), color=color, lw=1.2, ls=":")
        ax.plot(
            *zip(*guessed, strict=True),
            color=color,
            marker=marker,
            ls="none",
            markerfacecolor="white",
            label=f"{label} (extrapolated)",
        )
    return ys


def _reference_slopes(ax: Any, xs: list[int], anchor_low: float, anchor_high: float) -> None:
    """Grey O(n) and O(n^2) lines spanning the sizes, through the given start points."""
    x0, x1 = xs[0], xs[-1]
    ax.plot([x0, x1], [anchor_low, anchor_low * x1 / x0], color="0.6", lw=1, ls="--")
    ax.annotate(
        "O(n)",
        (x1, anchor_low * x1 / x0),
        color="0.4",
        fontsize=8,
        xytext=(3, -3),
        textcoords="offset points",
    )
    ax.plot([x0, x1], [anchor_high, anchor_high * (x1 / x0) ** 2], color="0.6", lw=1, ls="-.")
    ax.annotate(
        "O(n²)",
        (x1, anchor_high * (x1 / x0) ** 2),
        color="0.4",
        fontsize=8,
        xytext=(3, -3),
        textcoords="offset points",
    )


def _axes(plt: Any, chunks: Sequence[int], title: str) -> tuple[Any, list[Any]]:
    fig, axes = plt.subplots(
        1, len(chunks), figsize=(5.2 * len(chunks), 5.2), squeeze=False, sharey=True
    )
    fig.suptitle(title, fontsize=12, y=1.05)
    row = list(axes[0])
    for ax, chunk in zip(row, chunks, strict=True):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{chunk}-character chunks", fontsize=10)
        ax.set_xlabel("tool-call arguments (characters)")
        ax.grid(True, which="major", color="0.9")
    row[0].set_ylabel("total time per stream (s)")
    return fig, row


def _budget_line(ax: Any, budget: float) -> None:
    ax.axhline(budget, color="0.75", lw=0.8)
    ax.annotate(
        f"peer budget {budget:g} s",
        (0.02, budget),
        xycoords=("axes fraction", "data"),
        color="0.5",
        fontsize=7,
        xytext=(0, 2),
        textcoords="offset points",
    )


def plot_formats(data: dict[str, Any], out: Path) -> Path | None:
    cells = [c for c in data["formats"] if c["toolwire_s"] is not None]
    if not cells:
        return None
    plt = _pyplot()
    config, sizes, xs = _sizes(data)
    labels = data.get("peer_labels", {})
    fig, axes = _axes(plt, config["chunks"], "Text formats: one tool call, total time vs size")
    for ax, chunk in zip(axes, config["chunks"], strict=True):
        here = [c for c in cells if c["chunk"] == chunk]
        names = list(dict.fromkeys(c["format"] for c in here))
        lows: list[float] = []
        for i, name in enumerate(names):
            pts = {c["size"]: c for c in here if c["format"] == name}
            line = [(data["arguments_chars"][s], pts[s]["toolwire_s"]) for s in sizes if s in pts]
            lows += [y for _, y in line]
            label = f"toolwire ({len(names)} formats)" if i == 0 else None
            ax.plot(
                *zip(*line, strict=True),
                color=TOOLWIRE,
                alpha=0.45,
                lw=1.2,
                marker=".",
                label=label,
            )
        ref = "tags" if "tags" in names else names[0]
        pts = {c["size"]: c for c in here if c["format"] == ref}
        for key, style, label in (
            ("event_floor_s", "--", "event floor"),
            ("noop_s", ":", "no-op loop"),
        ):
            line = [(data["arguments_chars"][s], pts[s][key]) for s in sizes if s in pts]
            ax.plot(*zip(*line, strict=True), color=FLOOR, ls=style, lw=1.2, label=label)
            lows += [y for _, y in line]
        ax.plot(
            xs,
            [data["json_loads_s"][s] for s in sizes],
            color="0.3",
            ls="-.",
            lw=1.2,
            marker="x",
            label="json.loads once",
        )
        highs: list[float] = []
        for key, (color, marker) in PEER_STYLE.items():
            by = {
                p["size"]: p["result"]
                for p in data["peers"]
                if p["peer"] == key and p["chunk"] == chunk
            }
            if by:
                px = [data["arguments_chars"][s] for s in sizes if s in by]
                highs += _peer_series(
                    ax, px, [by[s] for s in sizes if s in by], color, marker, labels.get(key, key)
                )
        _budget_line(ax, config["budget"])
        anchor = min(lows)
        _reference_slopes(ax, xs, anchor / 3, (min(highs) if highs else anchor) * 3)
    return _save(plt, fig, axes, data, out / "peers.png")


def plot_providers(data: dict[str, Any], out: Path) -> Path | None:
    cells = [c for c in data["providers"] if c["toolwire_s"] is not None]
    if not cells:
        return None
    plt = _pyplot()
    config, sizes, xs = _sizes(data)
    title = "Provider streams: one tool call, one SSE event per argument fragment"
    fig, axes = _axes(plt, config["chunks"], title)
    providers = list(dict.fromkeys(c["provider"] for c in cells))
    for ax, chunk in zip(axes, config["chunks"], strict=True):
        lows: list[float] = []
        highs: list[float] = []
        for provider, marker in zip(providers, PROVIDER_MARKERS, strict=False):
            pts = [c for c in cells if c["provider"] == provider and c["chunk"] == chunk]
            if not pts:
                continue
            pts.sort(key=lambda c: sizes.index(c["size"]))
            px = [data["arguments_chars"][c["size"]] for c in pts]
            tw = [c["toolwire_s"] for c in pts]
            floor = [c["loads_floor_s"] for c in pts]
            ax.plot(px, tw, color=TOOLWIRE, marker=marker, lw=1.6, label=f"toolwire {provider}")
            ax.plot(
                px,
                floor,
                color=FLOOR,
                marker=marker,
                ms=4,
                ls="--",
                lw=1,
                label=f"json.loads per event {provider}",
            )
            lows += tw + floor
            sdk = [(x, c["sdk"]) for x, c in zip(px, pts, strict=True) if c["sdk"]]
            if sdk:
                highs += _peer_series(
                    ax,
                    [x for x, _ in sdk],
                    [r for _, r in sdk],
                    SDK,
                    marker,
                    f"SDK re-parse {provider}",
                )
        if not lows:
            continue
        _budget_line(ax, config["budget"])
        _reference_slopes(ax, xs, min(lows) / 3, (min(highs) if highs else min(lows)) * 3)
    return _save(plt, fig, axes, data, out / "peers-providers.png")


def _sizes(data: dict[str, Any]) -> tuple[dict[str, Any], list[str], list[int]]:
    """The run's config, its size labels, and their lengths in characters (the x axis)."""
    config: dict[str, Any] = data["config"]
    sizes: list[str] = config["sizes"]
    return config, sizes, [data["arguments_chars"][s] for s in sizes]


def _save(plt: Any, fig: Any, axes: list[Any], data: dict[str, Any], path: Path) -> Path:
    """The legend and the footer, then the PNG at ``path``."""
    _legend(fig, axes)
    _footer(fig, data)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _legend(fig: Any, axes: list[Any]) -> None:
    """One legend under the panels, with every label drawn in any of them."""
    seen: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    fig.legend(
        list(seen.values()),
        list(seen),
        loc="upper center",
        ncol=3,
        fontsize=8,
        bbox_to_anchor=(0.5, 0.0),
        frameon=False,
    )


def _footer(fig: Any, data: dict[str, Any]) -> None:
    env = data.get("environment", {})
    text = (
        f"bench_peers.py, one run, {env.get('implementation', '')} {env.get('python', '')}, "
        f"toolwire {env.get('toolwire', '?')}; hollow markers: extrapolated from a partial "
        "run stopped by the budget (estimates, not measurements)"
    )
    fig.text(0.5, 1.0, text, ha="center", va="bottom", fontsize=7, color="0.4")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("results", type=Path, help="the JSON written by bench_peers.py --json")
    ap.add_argument("--out", type=Path, help="directory for the PNGs (default: the JSON's)")
    ns = ap.parse_args(argv)
    data = json.loads(ns.results.read_text(encoding="utf-8"))
    out: Path = ns.out or ns.results.parent
    out.mkdir(parents=True, exist_ok=True)
    written = [p for p in (plot_formats(data, out), plot_providers(data, out)) if p]
    for p in written:
        print(p)
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main())
