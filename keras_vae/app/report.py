"""A self-contained HTML page of a run: configuration, metrics, figures."""

import html
import json


def _table(rows):
    cells = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_format(v))}</td></tr>"
        for k, v in rows.items())
    return f"<table>{cells}</table>"


def _format(value):
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e-2 else f"{value:.2f}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_format(v)}" for k, v in value.items())
    if isinstance(value, list):
        return json.dumps([round(v, 3) if isinstance(v, float) else v for v in value])
    return str(value)


def write_report(path, metrics, figures, config=None):
    """Writes `report.html`: configuration, metrics table and figures (PNG files beside it)."""
    parts = ["<!doctype html><meta charset='utf-8'><title>keras_vae run report</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}"
             "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:3px 8px;"
             "text-align:left}img{max-width:100%}</style>",
             "<h1>keras_vae run report</h1>"]
    if config:
        parts += ["<h2>Configuration</h2>", _table(config)]
    units = "nats per image" + ("; *bits_per_dim: bits per data dimension" if any(
        "bits_per_dim" in key for key in metrics) else "")
    parts += [f"<h2>Metrics ({units})</h2>", _table(metrics), "<h2>Figures</h2>"]
    for caption, file in figures.items():
        parts.append(f"<h3>{html.escape(caption)}</h3><img src='{html.escape(file)}' "
                     f"alt='{html.escape(caption)}'>")
    with open(path, "w") as f:
        f.write("\n".join(parts))
    return path
