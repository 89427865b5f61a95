"""What the report says of its tools and methods: recorded versions, devices, the parameters
that reproduce each run, the codecs used with their weights, and the method blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from examiner.core.case import Finding
from examiner.report import methods as methods_mod
from examiner.report.model import (
    CodecUse,
    MethodBlock,
)
from examiner.report.values import (
    fmt,
)

if TYPE_CHECKING:
    from examiner.report.builder import ModelBuilder


def recorded_versions(b: ModelBuilder) -> list[tuple[str, str]]:
    seen: dict[tuple[str, str], list[str]] = {}
    for f in b.findings:
        versions = f.data.get("versions")
        if isinstance(versions, dict):
            for lib, ver in versions.items():
                seen.setdefault((str(lib), str(ver)), []).append(f"F{f.id}")
    rows = []
    for (lib, ver), ids in sorted(seen.items()):
        more = " \u2026" if len(ids) > 6 else ""
        rows.append((f"{lib} (recorded with {', '.join(ids[:6])}{more})", ver))
    return rows


def devices(b: ModelBuilder, recomp: list[Finding]) -> str:
    devices = sorted({str(f.data.get("device")) for f in recomp if f.data.get("device")})
    if not devices:
        return "CPU (no codec run recorded a device)"
    return ", ".join(devices) + " (as recorded with the codec runs)"


def settings_rows(b: ModelBuilder) -> list[tuple[str, str]]:
    """Parameters recorded with each run (what reproduces it), then the current settings."""
    rows: list[tuple[str, str]] = []
    for f in b.findings:
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
    s = b.opt.settings
    if s is None:
        return rows + [("Settings", "not given to the report builder, so not stated")]
    return rows + [
        ("Pixel limit at intake (now)", f"{s.max_pixels:,} pixels"),
        ("Tiling above (now)", f"{s.tile_budget_pixels:,} pixels, overlap {s.tile_overlap} pixels"),
        ("Preferred device (now)", s.device),
    ]


def codec_uses(b: ModelBuilder, recomp: list[Finding]) -> list[CodecUse]:
    out: dict[str, CodecUse] = {}
    for f in recomp:
        cid = str(f.data.get("codec", ""))
        if not cid:
            continue
        info = b.codec_info(cid)
        use = out.get(cid)
        if use is None:
            use = CodecUse(
                codec_id=cid,
                name=info.name if info else str(f.data.get("codec_name") or cid),
                family=str(info.family) if info else str(f.data.get("family", "")),
                demonstration=b.is_demonstration(f),
                cites=tuple(info.citations) if info else tuple(f.data.get("citations") or ()),
            )
            out[cid] = use
        weights = f.data.get("weights_sha256") or {}
        if isinstance(weights, dict):
            for name, digest in weights.items():
                if (str(name), str(digest)) not in use.weights:
                    use.weights.append((str(name), str(digest)))
                    b.add_manifest(f"weights {name}", f"codec {cid}", str(digest))
    for use in out.values():
        b.cit.cite(*use.cites)
    return list(out.values())


def method_blocks(b: ModelBuilder, detections: list[Finding], recomp: list[Finding]) -> list[MethodBlock]:
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
        info = b.codec_info(cid)
        if info is not None:
            infos.append(methods_mod.method_for_codec(info, {}))
        elif cid:
            infos.append(methods_mod.MethodInfo(
                id=f"codec:{cid}", name=f"Codec: {cid}",
                description="The codec's manifest is not installed here; the run's own record is reported under Results.",
            ))
    for kind in sorted({f.kind for f in b.findings} - {"detection", "recompression", "variability", "note"}):
        for f in b.findings:
            if f.kind == kind:
                m = methods_mod.method_for_finding(kind, f.data)
                if m:
                    infos.append(m)
    if b.regions:
        regions_m = methods_mod.registered("regions")
        if regions_m:
            infos.append(regions_m)
        for prov in sorted({r.provenance for r in b.regions}):
            module = methods_mod.PROVENANCE_MODULES.get(prov)
            m = methods_mod.method_of_module(module) if module else None
            if m:
                infos.append(m)
    audit_m = methods_mod.registered("audit")
    if audit_m:
        infos.append(audit_m)
    blocks = []
    for m in methods_mod.describe(infos):
        b.cit.cite(*m.citations)
        blocks.append(MethodBlock(
            name=m.name, description=m.description, parameters=list(m.parameters),
            limitations=list(m.limitations), cites=tuple(m.citations), labels=list(m.labels), version=m.version,
        ))
    return blocks
