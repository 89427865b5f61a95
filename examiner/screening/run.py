"""Starting and resuming a screening run: the checks before any work, then the engine."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from examiner.errors import ExaminerError
from examiner.screening import tasks
from examiner.screening.engine import EventCallback, Screening, ScreenOptions
from examiner.screening.ranking import rank_label
from examiner.screening.store import ResultsFile
from examiner.screening.walk import resolve_sources


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def check_outputs_outside(sources: list[str], outputs: list[Path]) -> None:
    """Nothing is ever written into the evidence: results and reports must lie outside the sources."""
    for out in outputs:
        where = out.resolve()
        for s in sources:
            if _inside(where, Path(s)):
                raise ExaminerError(f"{out}: lies inside the source {s}; write results outside the evidence")


def create(out: str | Path, sources: list[str], options: ScreenOptions, actor: str) -> ResultsFile:
    """A new results file recording what will be screened, how, and with which program and model."""
    from examiner.analysis.detector import known_error_rates, load_model
    from examiner.core.evidence import DECODE_POLICY
    from examiner.core.formats import DEFAULT_MAX_PIXELS

    if not sources:
        raise ExaminerError("name at least one source folder or file to screen")
    missing = [s for s in sources if not os.path.lexists(s)]
    if missing:
        raise ExaminerError(f"source not found: {', '.join(missing)}")
    roots = resolve_sources(sources)
    check_outputs_outside(roots, [Path(out)])
    if options.model_path is not None:
        options.model_path = str(Path(options.model_path).resolve())
    if options.max_pixels is None:
        options.max_pixels = DEFAULT_MAX_PIXELS
    versions = tasks.model_versions(options.model_path)
    model = load_model(options.model_path)
    meta: dict[str, Any] = {
        "sources": roots,
        "versions": versions,
        "options": options.to_dict(),
        "decode_policy": DECODE_POLICY,
        "client_host": socket.gethostname(),
        "error_rates": tasks.jsonable(known_error_rates(model)),
        "ranking": f"by the detection's {rank_label('lr')} when it reports one, else by its {rank_label('score')}; "
        "images at the likelihood ratio's cap by the uncapped log10 LR of their score, then by the row where "
        "the image was first found",
    }
    return ResultsFile.create(out, actor, meta)


def options_of(rf: ResultsFile) -> ScreenOptions:
    return ScreenOptions.from_dict(rf.meta()["options"])


def check_resumable(rf: ResultsFile) -> None:
    """A results file continues only with the program and model it was started with."""
    from examiner.screening.custody import verify_log

    report = verify_log(rf)
    if not report.ok:
        raise ExaminerError(f"{rf.path}: {report.summary()}; the results file is not continued")
    recorded = rf.meta()["versions"]
    current = tasks.model_versions(options_of(rf).model_path)
    for k in ("tool_version", "model_version", "model_sha256"):
        if recorded.get(k) != current.get(k):
            raise ExaminerError(f"{rf.path}: made with {k} {recorded.get(k)}, this program has {current.get(k)}; "
                                "start a new results file instead of mixing versions")  # fmt: skip


def screen(rf: ResultsFile, client: Any, on_event: EventCallback | None = None,
           engine: dict[str, Any] | None = None, rows_wanted: bool = True) -> dict[str, Any]:  # fmt: skip
    """Run (or continue) the screening recorded in ``rf`` on the cluster behind ``client``."""
    return Screening(rf, client, options_of(rf), on_event, engine or {}, rows_wanted).run()
