"""What the report says of its tools and methods: recorded versions, devices, the parameters
that reproduce each run, the codecs used with their weights, and the method blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from examiner.core.case import Finding
from examiner.report import methods as methods_mod
from examiner.report.model import (
    CodecUse,
    ManifestRow,
    MethodBlock,
)
from examiner.report.values import (
    fmt,
)

if TYPE_CHECKING:
    from examiner.core.settings import Settings
    from examiner.report.sources import ReportSources


def recorded_versions(findings: list[Finding]) -> list[tuple[str, str]]:
    seen: dict[tuple[str, str], list[str]] = {}
    for f in findings:
        versions = f.data.get("versions")
        if isinstance(versions, dict):
            for lib, ver in versions.items():
                seen.setdefault((str(lib), str(ver)), []).append(f"F{f.id}")
    rows = []
    for (lib, ver), ids in sorted(seen.items()):
        more = " \u2026" if len(ids) > 6 else ""
        rows.append((f"{lib} (recorded with {', '.join(ids[:6])}{more})", ver))
    return rows


def devices(recomp: list[Finding]) -> str:
    devices = sorted({str(f.data.get("device")) for f in recomp if f.data.get("device")})
    if not devices:
        return "CPU (no codec run recorded a device)"
    return ", ".join(devices) + " (as recorded with the codec runs)"


def settings_rows(findings: list[Finding], s: Settings | None) -> list[tuple[str, str]]:
    """Parameters recorded with each run (what reproduces it), then the current settings."""
    rows: list[tuple[str, str]] = []
    for f in findings:
        if f.kind not in ("recompression", "variability"):
            continue
        d = f.data
        parts = [f"quality {d.get('quality', '?')}", f"device {d.get('device', '?')}"]
        params = d.get("params")
        if isinstance(params, dict) and params:
            parts.append("parameters " + fmt(params))
        if d.get("tiled"):
            parts.append("tiled " + fmt(d.get("tiles") or {}))
        rows.append((f"F{f.id} {d.get('codec', '?')} run", "; ".join(parts)))
    if s is None:
        return rows + [("Settings", "not given to the report builder, so not stated")]
    return rows + [
        ("Pixel limit at intake (now)", f"{s.max_pixels:,} pixels"),
        ("Tiling above (now)", f"{s.tile_budget_pixels:,} pixels, overlap {s.tile_overlap} pixels"),
        ("Preferred device (now)", s.device),
    ]


def codec_uses(src: ReportSources, recomp: list[Finding]) -> tuple[list[CodecUse], list[ManifestRow]]:
    """Each codec run, with the weight files it used; and those files' manifest rows. The
    caller cites each use's ``cites`` in order."""
    out: dict[str, CodecUse] = {}
    manifest: list[ManifestRow] = []
    for f in recomp:
        cid = str(f.data.get("codec", ""))
        if not cid:
            continue
        info = src.codec_info(cid)
        use = out.get(cid)
        if use is None:
            use = CodecUse(
                codec_id=cid,
                name=info.name if info else str(f.data.get("codec_name") or cid),
                family=str(info.family) if info else str(f.data.get("family", "")),
                demonstration=src.is_demonstration(f),
                cites=tuple(info.citations) if info else tuple(f.data.get("citations") or ()),
            )
            out[cid] = use
        weights = f.data.get("weights_sha256") or {}
        if isinstance(weights, dict):
            for name, digest in weights.items():
                if (str(name), str(digest)) not in use.weights:
                    use.weights.append((str(name), str(digest)))
                    manifest.append(ManifestRow(f"weights {name}", f"codec {cid}", str(digest)))
    return list(out.values()), manifest


def method_blocks(src: ReportSources, detections: list[Finding], recomp: list[Finding]) -> list[MethodBlock]:
    """The methods used, in the order they are described; the caller cites each one's ``cites``."""
    infos: list[methods_mod.MethodInfo] = []
    intake = methods_mod.registered("intake")
    if intake:
        infos.append(intake)
    for f in detections:
        m = methods_mod.method_for_finding(f.kind, f.data)
        if m:
            infos.append(m)
    for f in recomp:
        cid = str(f.data.get("codec", ""))
        info = src.codec_info(cid)
        if info is not None:
            infos.append(methods_mod.method_for_codec(info, {}))
        elif cid:
            infos.append(methods_mod.MethodInfo(
                id=f"codec:{cid}", name=f"Codec: {cid}",
                description="The codec's manifest is not installed here; the run's own record is reported under Results.",
            ))
    for kind in sorted({f.kind for f in src.findings} - {"detection", "recompression", "variability", "note"}):
        for f in src.findings:
            if f.kind == kind:
                m = methods_mod.method_for_finding(kind, f.data)
                if m:
                    infos.append(m)
    if src.regions:
        regions_m = methods_mod.registered("regions")
        if regions_m:
            infos.append(regions_m)
        for prov in sorted({r.provenance for r in src.regions}):
            module = methods_mod.PROVENANCE_MODULES.get(prov)
            m = methods_mod.method_of_module(module) if module else None
            if m:
                infos.append(m)
    audit_m = methods_mod.registered("audit")
    if audit_m:
        infos.append(audit_m)
    blocks = []
    for m in methods_mod.describe(infos):
        blocks.append(MethodBlock(
            name=m.name, description=m.description, parameters=list(m.parameters),
            limitations=list(m.limitations), cites=tuple(m.citations), labels=list(m.labels), version=m.version,
        ))
    return blocks
