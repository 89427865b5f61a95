"""The triage page of a screening run: one self-contained HTML file an examiner can scan.

A compact table of the top-ranked distinct images (thumbnail with the localised area drawn on
it, rank, verdict, likelihood ratio in words, why the image is high, file name and a short path
with the full one on hover), details folded per row, the model's validation stated once at the
top, and the refusals and errors folded at the bottom. Sorting and filtering work offline in one
inline script that the page's Content-Security-Policy admits by its SHA-256 and nothing else: no
script from outside, no inline handlers, no network, thumbnails as ``data:`` URIs. Every text
from the evidence (paths, reasons) is escaped, so a hostile file name cannot run.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from examiner import APP_NAME, __version__
from examiner.core.audit import utc_now
from examiner.screening import store
from examiner.screening.custody import VerifyReport, verify
from examiner.screening.ranking import main_trace
from examiner.screening.store import ResultsFile

_CSS = """
body{font-family:system-ui,sans-serif;margin:1em 1.5em;color:#111;font-size:14px}
h1{font-size:20px;margin:.2em 0}h2{font-size:16px;margin:1.2em 0 .4em}
table{border-collapse:collapse}
.facts th,.facts td{padding:1px 8px 1px 0;text-align:left;vertical-align:top;font-size:13px}
.facts th{font-weight:600;white-space:nowrap;color:#333}
.validation{background:#f4f4f8;border-left:4px solid #88a;padding:.5em .8em;max-width:70em;font-size:13px}
.ok{color:#060;font-weight:600}.bad{color:#a00;font-weight:600}
.tools{margin:.6em 0;display:flex;gap:1em;align-items:center;font-size:13px}
.tools input{width:22em}
#top{table-layout:fixed;width:100%;max-width:1400px}
#top th,#top td{padding:3px 6px;vertical-align:top;text-align:left}
#top tr.more td{border-bottom:1px solid #ddd;padding-top:0}
#top th{background:#eee;font-size:13px;position:sticky;top:0;white-space:nowrap}
#top th[data-key]{cursor:pointer}#top th[data-key]::after{content:" \\2195";color:#888}
#top td{font-size:13px}
.c-thumb{width:84px}.c-rank{width:3.2em}.c-verdict{width:7em}.c-lr{width:13em}.c-why{width:auto}
.c-file{width:22em}
td.num{text-align:right;white-space:nowrap}
.neural{color:#a00;font-weight:700}.inconclusive{color:#a60;font-weight:600}.not-neural{color:#060}
.thumb{position:relative;display:inline-block;line-height:0}
.thumb img{max-width:80px;max-height:80px}
.box{position:absolute;border:2px solid #f0f;box-sizing:border-box}
.name{font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.path{color:#555;font-size:12px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;direction:rtl;text-align:left}
.small{font-size:12px;color:#444}
details{margin-top:2px}summary{cursor:pointer;color:#225;font-size:12px}
details .more{font-size:12px;max-width:75em;padding:2px 0 6px}
code{font-size:12px;word-break:break-all}
tbody.hidden{display:none}
"""

# Sorting by a column's data-key (numbers when both values are numbers), and filtering by a text
# in the name or path and by the verdict. Admitted by the CSP through its SHA-256.
_SCRIPT = """
(function(){
var table=document.getElementById('top');if(!table)return;
var rows=Array.prototype.slice.call(table.tBodies);
var text=document.getElementById('filter-text');var verdict=document.getElementById('filter-verdict');
var shown=document.getElementById('shown');
function apply(){var q=(text.value||'').toLowerCase();var v=verdict.value;var n=0;
rows.forEach(function(r){var ok=(!v||r.dataset.verdict===v)&&(!q||r.dataset.search.indexOf(q)>=0);
r.classList.toggle('hidden',!ok);if(ok)n++;});shown.textContent=n+' of '+rows.length+' shown';}
text.addEventListener('input',apply);verdict.addEventListener('change',apply);
var dir={};
Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th){var k=th.dataset.key;if(!k)return;
th.addEventListener('click',function(){var d=dir[k]=-(dir[k]||(k==='rank'||k==='name'?-1:1));
rows.sort(function(a,b){var x=a.dataset[k],y=b.dataset[k];var fx=parseFloat(x),fy=parseFloat(y);
var c=(!isNaN(fx)&&!isNaN(fy))?fx-fy:(x<y?-1:x>y?1:0);if(c===0)c=parseFloat(a.dataset.rank)-parseFloat(b.dataset.rank);
return d*c;});rows.forEach(function(r){table.appendChild(r);});});});
apply();
})();
""".strip()
SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")
CSP = f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src '{SCRIPT_HASH}'; base-uri 'none'; form-action 'none'"
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")
PROBLEMS_LISTED = 200


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _short_path(path: str, keep: int = 3) -> str:
    parts = path.split("/")
    return path if len(parts) <= keep + 1 else ".../" + "/".join(parts[-keep:])


def _lr_text(r: dict[str, Any]) -> tuple[str, str]:
    if r.get("lr") is not None:
        return f"{float(r['lr']):.3g}", str(r.get("verbal_scale") or "")
    return (f"score {float(r['score']):.3f}", "") if r.get("score") is not None else ("-", "")


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text.strip()) if s] if text else []


def common_tail(explanations: list[str]) -> list[str]:
    """The sentences every explanation ends with (the model's validation): said once, at the top."""
    lists = [_sentences(t) for t in explanations if t]
    if len(lists) < 2:
        return []
    tail: list[str] = []
    for group in zip(*(reversed(s) for s in lists), strict=False):
        if len(set(group)) != 1:
            break
        tail.insert(0, group[0])
    return tail


def localisation_text(det: dict[str, Any]) -> str:
    loc = det.get("localisation")
    if not isinstance(loc, dict) or not loc.get("windows"):
        return "no window flagged"
    boxes = loc.get("boxes") or []
    where = ", ".join(f"{b[2]}x{b[3]} at ({b[0]},{b[1]})" for b in boxes[:3]) + (" ..." if len(boxes) > 3 else "")
    return f"{loc.get('flagged_windows', 0)} of {loc['windows']} windows flagged" + (f": {where}" if where else "")


def _thumb(rf: ResultsFile, sha: str, det: dict[str, Any], intake: dict[str, Any]) -> str:
    t = rf.followup(sha, "thumbnail")
    if t is None or t.get("blob") is None:
        reason = "" if t is None else t.get("reason") or ""
        return f'<span class="small">no thumbnail {_e(reason)}</span>'
    uri = "data:image/jpeg;base64," + base64.b64encode(bytes(t["blob"])).decode("ascii")
    boxes = ""
    loc = det.get("localisation")
    w, h = intake.get("width"), intake.get("height")
    if isinstance(loc, dict) and isinstance(w, int) and isinstance(h, int) and w > 0 and h > 0:
        for b in (loc.get("boxes") or [])[:8]:
            x, y, bw, bh = (100.0 * float(v) for v in (b[0] / w, b[1] / h, b[2] / w, b[3] / h))
            boxes += f'<span class="box" style="left:{x:.1f}%;top:{y:.1f}%;width:{bw:.1f}%;height:{bh:.1f}%"></span>'
    alt = f"thumbnail {sha[:12]}" + (", localised area outlined" if boxes else "")
    return f'<span class="thumb"><img src="{uri}" alt="{_e(alt)}">{boxes}</span>'


def _followup_text(rf: ResultsFile, sha: str) -> str:
    parts = []
    ident = rf.followup(sha, "identify")
    if ident is not None:
        d = json.loads(ident["data"]) if ident.get("data") else {}
        parts.append("<b>Identification:</b> " + _e(d.get("summary") or ident.get("reason") or ident["status"]))
    var = rf.followup(sha, "variability")
    if var is not None:
        d = json.loads(var["data"]) if var.get("data") else {}
        text = (f"invented fraction {d['invented_fraction']:.3f} over {len(d.get('seeds', []))} seeds with {d.get('codec')}"
                if "invented_fraction" in d else (var.get("reason") or var["status"]))  # fmt: skip
        parts.append("<b>Seed variability:</b> " + _e(text))
    return "<br>".join(parts)


def _validation(meta: dict[str, Any], tail: list[str]) -> str:
    rates = meta.get("error_rates") or {}
    keys = [(k, v) for k, v in rates.items() if isinstance(v, (int, float, str)) and k not in ("set", "measured_on")]
    facts = "; ".join(f"{k.replace('_', ' ')} {v}" for k, v in keys)
    lines = []
    if tail:
        lines.append(_e(" ".join(tail)))
    if rates.get("set"):
        lines.append(f"<b>Validation:</b> {_e(rates['set'])}" + (f", on {_e(rates['measured_on'])}" if rates.get("measured_on") else ""))
    if facts:
        lines.append(f"<span class=small>{_e(facts)}</span>")
    body = "<br>".join(lines) or "The model carries no measured error rates."
    return f'<div class="validation"><b>The model and how it was validated</b> (the same for every row)<br>{body}</div>'


def _row(rf: ResultsFile, i: int, r: dict[str, Any], tail: list[str]) -> str:
    data = json.loads(r["data"]) if r.get("data") else {}
    det, intake = data.get("detection", {}), data.get("intake", {})
    files = rf.files_with_hash(r["sha256"])
    first = files[0][1] if files else ""
    name = os.path.basename(first)
    lr, words = _lr_text(r)
    verdict = str(r.get("verdict") or "")
    explanation = _sentences(str(det.get("explanation") or ""))
    own = " ".join(explanation[: len(explanation) - len(tail)] if tail else explanation)
    trace = main_trace(det.get("explanation"))
    where = localisation_text(det)
    copies = "<br>".join(f"row {fid}: <code>{_e(p)}</code>" for fid, p in files[:20])
    if len(files) > 20:
        copies += f"<br>... and {len(files) - 20} more copies"
    search = " ".join(p for _fid, p in files[:20]).lower()
    uncapped = r.get("rank_uncapped")
    details = (
        f'<details><summary>details</summary><div class="more">'
        f"<b>Files</b> ({len(files)}):<br>{copies}<br><b>SHA-256</b> <code>{_e(r['sha256'])}</code><br>"
        f"{_e(intake.get('format', ''))} {_e(intake.get('width', ''))}x{_e(intake.get('height', ''))}; "
        f"score {_e(r.get('score'))}; uncapped log10 LR {'' if uncapped is None else f'{float(uncapped):.2f}'}; "
        f"LR 90% interval {_e(det.get('lr_interval_90'))}<br>"
        f"<b>Explanation:</b> {_e(own)}<br><b>Localisation:</b> {_e(where)}<br>{_followup_text(rf, r['sha256'])}"
        f"<br><span class=small>model {_e(r.get('model_version'))}, worker {_e(r.get('worker'))}, "
        f"{_e(r.get('done_utc'))}</span></div></details>"
    )  # fmt: skip
    # One tbody per image: its row and, below it across the table, its folded details; the
    # script sorts and filters whole tbodies.
    sort_lr = "" if r.get("rank") is None else f"{float(r['rank']):.6g}"
    return (
        f'<tbody data-rank="{i}" data-verdict="{_e(verdict)}" data-lr="{_e(sort_lr)}" data-name="{_e(name.lower())}" '
        f'data-search="{_e(search)}"><tr><td>{_thumb(rf, r["sha256"], det, intake)}</td><td class=num>{i}</td>'
        f'<td class="{_e(verdict)}">{_e(verdict)}</td><td><b>{_e(lr)}</b><br><span class=small>{_e(words)}</span></td>'
        f"<td>{_e(trace) or '<span class=small>no single trace named</span>'}<br><span class=small>localisation: "
        f"{_e(where)}</span></td>"
        f'<td><div class="name" title="{_e(first)}">{_e(name)}</div><div class="path" title="{_e(first)}">'
        f"<bdi>{_e(_short_path(first))}</bdi></div>"
        + (f"<span class=small>+ {len(files) - 1} identical cop{'y' if len(files) == 2 else 'ies'}</span>" if len(files) > 1 else "")
        + f'</td></tr><tr class="more"><td></td><td colspan="5">{details}</td></tr></tbody>'
    )  # fmt: skip


def render(rf: ResultsFile, top: int, checked: VerifyReport | None = None) -> str:
    """The page; ``checked`` is the file's verification when the caller just made it."""
    meta = rf.meta()
    counts = store.counts(rf.conn)
    checked = checked or verify(rf)
    rows = rf.top(top)
    explanations = [str((json.loads(r["data"]) if r.get("data") else {}).get("detection", {}).get("explanation") or "")
                    for r in rows]  # fmt: skip
    tail = common_tail(explanations)
    v = meta["versions"]
    state = (f'<span class="ok">verified</span>: {_e(checked.summary())}' if checked.ok else
             f'<span class="bad">DOES NOT VERIFY</span>: {_e(checked.summary())}')  # fmt: skip
    facts = [
        ("Results file", _e(rf.path.resolve())),
        ("Sources", _e("; ".join(meta["sources"]))),
        ("Program, model", _e(f"{APP_NAME} {v['tool_version']}; detector model {v['model_version']} "
                              f"(SHA-256 {v['model_sha256']})")),  # fmt: skip
        ("Files", _e(f"{counts['files']} ({counts['duplicates']} duplicates by SHA-256); outcomes: "
                     + ", ".join(f"{k} {n}" for k, n in sorted(counts["outcomes"].items()))
                     + "; verdicts: " + (", ".join(f"{k} {n}" for k, n in sorted(counts["verdicts"].items())) or "none"))),
        ("Ranking", _e(meta.get("ranking", ""))),
        ("Log", state),
        ("Log head", f"<code>{_e(checked.head or '')}</code> <span class=small>(check later with "
                     "examiner screen --verify RESULTS --expect-head N:HASH)</span>"),
        ("Made", _e(f"{utc_now()} by {APP_NAME} {__version__}")),
    ]  # fmt: skip
    verdicts = sorted({str(r.get("verdict")) for r in rows if r.get("verdict")})
    out = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width">',
        f"<title>Screening triage - {_e(rf.path.name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Screening triage: top {len(rows)} of {counts['distinct_images_analysed']} distinct images</h1>",
        '<table class="facts">' + "".join(f"<tr><th>{k}</th><td>{val}</td></tr>" for k, val in facts) + "</table>",
        _validation(meta, tail),
        '<div class="tools"><label>Filter <input id="filter-text" type="search" placeholder="file name or path"></label>'
        '<label>Verdict <select id="filter-verdict"><option value="">all</option>'
        + "".join(f'<option value="{_e(x)}">{_e(x)}</option>' for x in verdicts)
        + '</select></label><span id="shown" class="small"></span>'
        '<span class="small">click a column heading to sort; the magenta outline is the localised area</span></div>',
        '<table id="top"><colgroup><col class="c-thumb"><col class="c-rank"><col class="c-verdict"><col class="c-lr">'
        '<col class="c-why"><col class="c-file"></colgroup><thead><tr><th>Image</th><th data-key="rank">#</th>'
        '<th data-key="verdict">Verdict</th><th data-key="lr">Likelihood ratio</th><th>Main trace and localisation (why it ranks where it does)</th>'
        '<th data-key="name">File</th></tr></thead>',
    ]  # fmt: skip
    out += [_row(rf, i, r, tail) for i, r in enumerate(rows, 1)]
    out.append("</table>")
    problems = list(store.iter_rows(rf.conn, "outcome IN ('refused', 'error')", order="f.id", limit=PROBLEMS_LISTED))
    if problems:
        n_all = sum(n for k, n in counts["outcomes"].items() if k in ("refused", "error"))
        out.append(f"<h2>Refused and errors ({n_all}{f', first {len(problems)} listed' if n_all > len(problems) else ''})</h2>"
                   "<details><summary>show them</summary><table class=facts><tr><th>Row</th><th>Path</th>"
                   "<th>Outcome</th><th>Reason</th></tr>")  # fmt: skip
        for p in problems:
            out.append(f"<tr><td class=num>{p['id']}</td><td><code>{_e(p['path'])}</code></td><td>{_e(p['outcome'])}</td>"
                       f"<td>{_e(p['reason'])}</td></tr>")  # fmt: skip
        out.append("</table></details>")
    out.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(out)


def write(rf: ResultsFile, path: str | Path, top: int, checked: VerifyReport | None = None) -> dict[str, Any]:
    """Write the report atomically and record its SHA-256 in the results file's log."""
    p = Path(path)
    text = render(rf, top, checked).encode("utf-8")
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
