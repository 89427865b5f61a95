"""A self-contained HTML report of the top-ranked images of a screening run.

One file, no server, no scripts and no network: thumbnails are embedded as ``data:`` URIs and a
Content-Security-Policy forbids everything else, so a hostile file name or detector text cannot
run in the examiner's browser. Every text from the evidence (paths, reasons) is escaped.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from examiner import APP_NAME, __version__
from examiner.core.audit import utc_now
from examiner.screening import store
from examiner.screening.custody import verify_log
from examiner.screening.store import ResultsFile

_CSS = """
body{font-family:sans-serif;margin:1.5em;color:#111}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #bbb;padding:4px 6px;vertical-align:top;font-size:13px}
th{background:#eee;text-align:left}
td.num{text-align:right;white-space:nowrap}
.neural{color:#a00;font-weight:bold}.inconclusive{color:#a60}.not-neural{color:#060}
code{font-size:12px;word-break:break-all}
.small{font-size:12px;color:#444}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _rank_text(r: dict[str, Any]) -> str:
    if r.get("lr") is not None:
        return f"LR {float(r['lr']):.3g}" + (f" ({_e(r['verbal_scale'])})" if r.get("verbal_scale") else "")
    return f"score {float(r['score']):.3f}" if r.get("score") is not None else "-"


def _thumb(rf: ResultsFile, sha: str) -> str:
    t = rf.followup(sha, "thumbnail")
    if t is None or t.get("blob") is None:
        reason = "" if t is None else t.get("reason") or ""
        return f'<span class="small">no thumbnail {_e(reason)}</span>'
    uri = "data:image/jpeg;base64," + base64.b64encode(bytes(t["blob"])).decode("ascii")
    return f'<img src="{uri}" alt="thumbnail of {_e(sha[:16])}">'


def _followup_text(rf: ResultsFile, sha: str) -> str:
    parts = []
    ident = rf.followup(sha, "identify")
    if ident is not None:
        d = json.loads(ident["data"]) if ident.get("data") else {}
        parts.append("Identification: " + _e(d.get("summary") or ident.get("reason") or ident["status"]))
    var = rf.followup(sha, "variability")
    if var is not None:
        d = json.loads(var["data"]) if var.get("data") else {}
        text = (f"invented fraction {d['invented_fraction']:.3f} over {len(d.get('seeds', []))} seeds with {d.get('codec')}"
                if "invented_fraction" in d else (var.get("reason") or var["status"]))  # fmt: skip
        parts.append("Seed variability: " + _e(text))
    return "<br>".join(parts)


def render(rf: ResultsFile, top: int) -> str:
    meta = rf.meta()
    counts = store.counts(rf.conn)
    chain = verify_log(rf)
    rows = rf.top(top)
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">",
           f"<title>Screening report - {_e(rf.path.name)}</title><style>{_CSS}</style></head><body>",
           f"<h1>Screening report: top {len(rows)} of {counts['distinct_images_analysed']} distinct images</h1>"]  # fmt: skip
    v = meta["versions"]
    facts = [
        ("Results file", str(rf.path.resolve())),
        ("Sources", "; ".join(meta["sources"])),
        ("Program", f"{APP_NAME} {v['tool_version']}"),
        ("Detector model", f"version {v['model_version']}, SHA-256 {v['model_sha256']}"),
        ("Ranking", meta.get("ranking", "")),
        ("Files", f"{counts['files']} ({counts['duplicates']} duplicates by SHA-256)"),
        ("Outcomes", ", ".join(f"{k}: {n}" for k, n in sorted(counts["outcomes"].items()))),
        ("Verdicts", ", ".join(f"{k}: {n}" for k, n in sorted(counts["verdicts"].items())) or "none"),
        ("Log", f"{chain.summary()}; head {chain.head_hash}"),
        ("Made", f"{utc_now()} by {__version__}"),
    ]
    out.append("<table>" + "".join(f"<tr><th>{_e(k)}</th><td>{_e(val)}</td></tr>" for k, val in facts) + "</table>")
    out.append("<h2>Top-ranked images</h2><table><tr><th>#</th><th>Image</th><th>Rank</th><th>Verdict</th>"
               "<th>Files (row id: path)</th><th>SHA-256 / facts</th><th>Explanation</th></tr>")  # fmt: skip
    for i, r in enumerate(rows, 1):
        data = json.loads(r["data"]) if r.get("data") else {}
        det = data.get("detection", {})
        intake = data.get("intake", {})
        files = rf.files_with_hash(r["sha256"])
        listed = "<br>".join(f"{fid}: <code>{_e(p)}</code>" for fid, p in files[:20])
        if len(files) > 20:
            listed += f"<br>... and {len(files) - 20} more copies"
        verdict = str(r.get("verdict") or "")
        out.append(
            f"<tr><td class=num>{i}</td><td>{_thumb(rf, r['sha256'])}</td><td class=num>{_rank_text(r)}</td>"
            f'<td class="{_e(verdict)}">{_e(verdict)}</td><td>{listed}</td>'
            f"<td><code>{_e(r['sha256'])}</code><br>{_e(intake.get('format', ''))} {_e(intake.get('width', ''))}x"
            f"{_e(intake.get('height', ''))}<br><span class=small>model {_e(r.get('model_version'))}, worker "
            f"{_e(r.get('worker'))}</span></td><td>{_e(det.get('explanation', ''))}<br>{_followup_text(rf, r['sha256'])}</td></tr>"
        )
    out.append("</table>")
    problems = list(store.iter_rows(rf.conn, "outcome IN ('refused', 'error')", order="f.id", limit=200))
    if problems:
        out.append(f"<h2>Refused and errors (first {len(problems)})</h2><table><tr><th>Row</th><th>Path</th>"
                   "<th>Outcome</th><th>Reason</th></tr>")  # fmt: skip
        for p in problems:
            out.append(f"<tr><td class=num>{p['id']}</td><td><code>{_e(p['path'])}</code></td><td>{_e(p['outcome'])}</td>"
                       f"<td>{_e(p['reason'])}</td></tr>")  # fmt: skip
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)


def write(rf: ResultsFile, path: str | Path, top: int) -> dict[str, Any]:
    """Write the report atomically and record its SHA-256 in the results file's log."""
    p = Path(path)
    text = render(rf, top).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=".report-", dir=str(p.parent))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    info = {"path": str(p.resolve()), "sha256": hashlib.sha256(text).hexdigest(), "top": top}
    rf.log_action("screening.report_written", info)
    return info
