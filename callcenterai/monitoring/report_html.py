"""The drift report as one self-contained HTML page: tables and inline SVG, no script, no network.

Evidently's own page of the text_domain check is saved beside it (``evidently.html``,
its JavaScript embedded) and linked; this page reads without it.
"""

from __future__ import annotations

from html import escape

from callcenterai.monitoring.checks import CHECKS

EVIDENTLY_PAGE = "evidently.html"
BAR_WIDTH = 260  # pixels for a share of 1
COLOURS = {"reference": "#7f8c9b", "window": "#d9822b"}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d2733; max-width: 70rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #cfd6de; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
.drifted { color: #b3261e; font-weight: bold; } .steady { color: #1e7b34; }
.legend span { display: inline-block; width: 0.8rem; height: 0.8rem; margin: 0 0.3rem 0 1rem; }
"""

TITLES = {
    "text_length": "Text length (words)",
    "unknown_words": "Words unknown to the TF-IDF vocabulary",
    "language_mix": "Language mix",
    "label_mix": "Predicted-label mix",
    "confidence": "Confidence",
    "text_domain": "Text domain (Evidently)",
}


def _verdict(drifted: bool) -> str:
    return '<span class="drifted">drift</span>' if drifted else '<span class="steady">no drift</span>'


def _summary_table(checks: dict) -> str:
    rows = "".join(
        f"<tr><td><a href='#{name}'>{name}</a></td><td>{checks[name]['score']:.4f}</td>"
        f"<td>{checks[name]['threshold']:g}</td><td>{_verdict(checks[name]['drifted'])}</td>"
        f"<td>{escape(checks[name]['method'])}</td></tr>"
        for name in CHECKS
        if name in checks
    )
    head = "<tr><th>check</th><th>score</th><th>threshold</th><th>verdict</th><th>method</th></tr>"
    return f"<table>{head}{rows}</table>"


def _paired_bars(rows: list[dict], key: str) -> str:
    """Reference and window shares per row as horizontal bars (inline SVG)."""
    label_width, line = 210, 14
    height = len(rows) * (2 * line + 8)
    parts = []
    for index, row in enumerate(rows):
        top = index * (2 * line + 8)
        parts.append(f'<text x="0" y="{top + line + 4}" font-size="12">{escape(str(row[key]))}</text>')
        for offset, side in enumerate(("reference", "window")):
            share = float(row.get(side, 0.0))
            y = top + offset * line
            width = max(share * BAR_WIDTH, 0.5)
            parts.append(
                f'<rect x="{label_width}" y="{y}" width="{width:.1f}" height="{line - 2}" '
                f'fill="{COLOURS[side]}"/><text x="{label_width + width + 4:.1f}" y="{y + line - 3}" '
                f'font-size="11">{share:.1%}</text>'
            )
    total_width = label_width + BAR_WIDTH + 60
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_width}" height="{height}" '
        f'role="img">{"".join(parts)}</svg>'
    )


def _legend() -> str:
    return (
        '<p class="legend">'
        + "".join(f'<span style="background:{colour}"></span>{side}' for side, colour in COLOURS.items())
        + "</p>"
    )


def _key_values(values: dict) -> str:
    cells = "".join(
        f"<tr><th>{escape(str(key))}</th><td>{escape(str(value))}</td></tr>" for key, value in values.items()
    )
    return f"<table>{cells}</table>"


def _detail(name: str, check: dict, evidently_page: bool) -> str:
    detail = check["detail"]
    parts = [f"<h2 id='{name}'>{TITLES[name]}: {_verdict(check['drifted'])}</h2>"]
    parts.append(
        f"<p>score {check['score']:.4f} against threshold {check['threshold']:g}: "
        f"{escape(check['method'])}.</p>"
    )
    if "bins" in detail:
        parts.append(
            _key_values(
                {
                    f"{side} {stat}": value
                    for side in ("reference", "window")
                    for stat, value in detail[side].items()
                }
            )
        )
        parts.append(_legend() + _paired_bars(detail["bins"], "bin"))
    elif "shares" in detail:
        parts.append(_legend() + _paired_bars(detail["shares"], "category"))
    else:
        parts.append(
            _key_values({key: value for key, value in detail.items() if key != "most_common_unknown"})
        )
    if detail.get("most_common_unknown"):
        words = ", ".join(f"{escape(str(word))} ({count})" for word, count in detail["most_common_unknown"])
        parts.append(f"<p>Unknown words met most often in the window: {words}</p>")
    if name == "text_domain" and evidently_page:
        parts.append(
            f"<p>Evidently's report of this check (needs JavaScript, works offline): "
            f"<a href='{EVIDENTLY_PAGE}'>{EVIDENTLY_PAGE}</a></p>"
        )
    return "".join(parts)


def render_report(run: dict, evidently_page: bool) -> str:
    """The whole page for a run record (drift.json's content)."""
    checks = run["checks"]
    body = [
        "<h1>Drift report</h1>",
        f"<p>{escape(run['created_at'])}: {run['window_tickets']} answered tickets (the window) "
        f"against {run['reference_tickets']} training tickets (the reference): "
        f"{_verdict(run['drifted'])}.</p>",
        _summary_table(checks),
        *(_detail(name, checks[name], evidently_page) for name in CHECKS if name in checks),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Drift report</title>'
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )
