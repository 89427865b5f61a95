"""From a screening row to a case: one image taken in through the normal case workflow.

The results file is verified first (its log, every row and meta key against the log, and any
expected head or trusted key given): one that does not verify gives no case, and says why. The
case is created with the usual intake (the file is hashed again, read-only); if its SHA-256
no longer matches the results file, no case is made. The screening result goes into the case as
a finding (kind ``screening``) naming the results file, its row and the head of its log, and the
results file's own log records that a case was made from the row.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from examiner.core.formats import DEFAULT_MAX_PIXELS
from examiner.errors import ExaminerError
from examiner.findings.records import ScreeningRecord
from examiner.findings.schema import add_record
from examiner.screening import store
from examiner.screening.custody import require_verified
from examiner.screening.store import ResultsFile


def default_case_path(results: Path, file_id: int) -> Path:
    return results.with_name(f"{results.stem}-row{file_id}.mcase")


def make_case(results: str | Path, file_id: int, case_path: str | Path | None = None, case_id: str | None = None,
              examiner: str | None = None, actor: str | None = None,
              max_pixels: int = DEFAULT_MAX_PIXELS, expect_head: str | None = None,
              public_keys: Sequence[bytes] = ()) -> dict[str, Any]:  # fmt: skip
    from examiner.core.actors import default_actor
    from examiner.core.case import Case

    rp = Path(results)
    who = actor or examiner or default_actor()
    with ResultsFile.open(rp, actor=who) as rf:
        checked = require_verified(rf, "case", expect_head, public_keys)
        r = store.row(rf.conn, file_id)
        if r is None:
            raise ExaminerError(f"{rp}: no row {file_id}")
        if r["sha256"] is None or r["outcome"] == store.PENDING:
            raise ExaminerError(f"{rp}: row {file_id} ({r['path']}) has no analysed image ({r['outcome']})")
        path = rf.path_of(file_id)
        sources = rf.meta()["sources"]
        target = Path(case_path) if case_path else default_case_path(rp, file_id)
        from examiner.screening.run import check_outputs_outside

        check_outputs_outside(sources, [target])
        cid = case_id or re.sub(r"[^A-Za-z0-9._-]+", "-", f"{rp.stem}-row{file_id}")
        case = Case.create(target, cid, examiner or who, actor=who, max_pixels=max_pixels,
                           title=f"Screening row {file_id}: {os.path.basename(path)}")
        try:
            item = case.add_evidence(path)
            if item.sha256 != r["sha256"]:
                raise ExaminerError(f"{r['path']}: its SHA-256 is now {item.sha256}, but screening recorded {r['sha256']}; "
                                    "the file changed since it was screened, no case made")  # fmt: skip
            analysis = rf.conn.execute("SELECT data, worker, done_utc FROM analyses WHERE sha256 = ?", (r["sha256"],)).fetchone()
            detection = json.loads(analysis[0]).get("detection") if analysis and analysis[0] else None
            add_record(case, item.id, ScreeningRecord(
                results_file=str(rp.resolve()), row=int(file_id), log_head=checked.chain.head_hash, log_intact=checked.ok,
                outcome=r["outcome"], verdict=r["verdict"], score=r["score"], lr=r["lr"],
                verbal_scale=r["verbal_scale"], model_version=r["model_version"], tool_version=r["tool_version"],
                worker=analysis[1] if analysis else None, analysed_utc=analysis[2] if analysis else None,
                detection=detection,
            ))  # fmt: skip
            evidence_id = item.id
        except BaseException:
            case.close()
            target.unlink(missing_ok=True)
            raise
        case.close()
        info = {"case": str(target.resolve()), "case_id": cid, "row": file_id, "evidence_id": evidence_id,
                "path": r["path"], "sha256": r["sha256"]}  # fmt: skip
        rf.log_action("screening.case_made", info)
    return info
