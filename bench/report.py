"""The benchmark's results as a markdown table of figures and ratios, and the issue's targets."""

from __future__ import annotations

from collections.abc import Callable


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}×" if theirs else "–"


def _row(label: str, ours: float, server: float | None, remove: float | None, fmt: Callable[[float], str]) -> str:
    cells = [label, fmt(ours), fmt(server) if server is not None else "–", fmt(remove) if remove is not None else "–"]
    cells.append(_ratio(ours, server) if server is not None else "–")
    cells.append(_ratio(ours, remove) if remove is not None else "–")
    return "| " + " | ".join(cells) + " |"


def model_table(model: str, result: dict) -> list[str]:
    ours, peer, remove = result["ours"], result["rembg_s"], result["remove"]
    model_time, peer_model = ours["model_time_s"], result["peer_model"]
    rembg_time = remove["model_time_s"]
    lines = [
        f"### {model}" + ("" if peer_model == model else f" (`rembg s` and `remove()` serve {peer_model})"),
        "",
        f"Pure model time (ONNX Runtime `session.run`, 320×320 tensor): ours **{_ms(model_time)}**, rembg's "
        f"default session of {peer_model} {_ms(rembg_time)}: **{rembg_time / model_time:.2f}× faster**.",
        "",
        "| measure | ours | `rembg s` | `remove()` | ours ÷ `rembg s` | ours ÷ `remove()` |",
        "|---|---|---|---|---|---|",
    ]
    for size, ours_latency in ours["latency"].items():
        peer_latency, remove_latency = peer["latency"][size], remove["latency"][size]
        lines.append(
            _row(f"{size} median", ours_latency["median"], peer_latency["median"], remove_latency["median"], _ms)
        )
        lines.append(_row(f"{size} p95", ours_latency["p95"], peer_latency["p95"], remove_latency["p95"], _ms))
    for clients, figures in ours["throughput"].items():
        lines.append(
            _row(
                f"images/s, 12 MP, {clients} client(s)",
                figures["images_per_second"],
                peer["throughput"][clients]["images_per_second"],
                None,
                lambda value: f"{value:.2f}",
            )
        )
    lines.append(_row("peak RSS (MB)", ours["peak_rss_mb"], peer["peak_rss_mb"], None, lambda v: f"{v:.0f}"))
    lines.append(_row("start → ready", ours["ready_s"], peer["ready_s"], None, _ms))
    lines.append(_row("cold start → first 200", ours["cold_start_s"], peer["cold_start_s"], None, _ms))
    lines.append(_row("25 MP JPEG → PNG", ours["largest_s"], peer["largest_s"], None, _ms))
    for size in ours["latency"]:
        lines.append(
            _row(
                f"output bytes, {size}",
                ours["latency"][size]["output_bytes"],
                peer["latency"][size]["output_bytes"],
                remove["latency"][size]["output_bytes"],
                lambda value: f"{value / 1e6:.2f} MB",
            )
        )
    ratio_to_model = ours["latency"]["1280x960"]["median"] / model_time
    lines += ["", f"1280×960 over HTTP ÷ pure model time: **{ratio_to_model:.2f}×**.", ""]
    return lines


def inflight_table(model: str, result: dict) -> list[str]:
    one, two = result["ours"]["throughput"]["4"], result["ours_inflight2"]["throughput"]["4"]
    return [
        f"MAX_INFLIGHT 1 vs 2, {model}, 4 clients on 12 MP (429s retried after 50 ms):",
        "",
        "| MAX_INFLIGHT | images/s | p95 per image | peak RSS (MB) |",
        "|---|---|---|---|",
        f"| 1 | {one['images_per_second']:.2f} | {_ms(one['p95'])} | {result['ours']['peak_rss_mb']:.0f} |",
        f"| 2 | {two['images_per_second']:.2f} | {_ms(two['p95'])} | {result['ours_inflight2']['peak_rss_mb']:.0f} |",
        "",
    ]


def targets(results: dict) -> list[tuple[str, bool]]:
    checks = []
    for name in ("u2net-int8", "u2net"):
        result = results["models"].get(name)
        if not result:
            continue
        ours, peer, remove = result["ours"], result["rembg_s"], result["remove"]
        medium = ours["latency"]["1280x960"]["median"]
        large = ours["latency"]["4032x3024"]["median"]
        four = ours["throughput"]["4"]["images_per_second"] / peer["throughput"]["4"]["images_per_second"]
        checks += [
            (f"{name} 1280×960 ≤ 1.25 × its model time", medium <= 1.25 * ours["model_time_s"]),
            (f"{name} 1280×960 ≤ 0.7 × rembg s", medium <= 0.7 * peer["latency"]["1280x960"]["median"]),
            (f"{name} 4032×3024 ≤ 0.35 × rembg s", large <= 0.35 * peer["latency"]["4032x3024"]["median"]),
            (f"{name} peak RSS through 25 MP ≤ 1.5 GB", ours["peak_rss_mb"] <= 1536),
        ]
        if name == "u2net-int8":  # the fast tier (issue 16)
            checks += [
                (
                    "u2net-int8 model time ≥ 1.5× faster than rembg's u2net session",
                    remove["model_time_s"] >= 1.5 * ours["model_time_s"],
                ),
                ("u2net-int8 4 clients on 12 MP ≥ 3 × rembg s", four >= 3),
                ("u2net-int8 peak RSS through 25 MP ≤ 0.8 GB", ours["peak_rss_mb"] <= 800),
                ("u2net-int8 ready ≤ 1.0 s", ours["ready_s"] <= 1.0),
                ("u2net-int8 cold start (process) ≤ 1.5 s", ours["cold_start_s"] <= 1.5),
            ]
        else:
            checks.append((f"{name} 4 clients on 12 MP ≥ 2 × rembg s", four >= 2))
    u2netp = results["models"].get("u2netp")
    if u2netp:
        checks.append(("u2netp peak RSS ≤ 1.0 GB", u2netp["ours"]["peak_rss_mb"] <= 1024))
    return checks


def markdown(results: dict) -> str:
    lines = [
        f"## remove-bg benchmark ({results['machine']['cpus']} CPUs, Python {results['machine']['python']}, "
        f"{results['seconds']:.0f} s)",
        "",
    ]
    for model, result in results["models"].items():
        lines += model_table(model, result)
        lines += inflight_table(model, result)
    lines += ["Targets:", ""]
    lines += [f"- {'met' if met else 'MISSED'}: {label}" for label, met in targets(results)]
    return "\n".join(lines) + "\n"
