"""Post-processing towards PDF/A-3b with pikepdf, with the report's data attached.

What is done: an sRGB output intent (ICC profile made by LittleCMS with its header date fixed,
so the bytes never change), XMP metadata that identifies PDF/A-3b and repeats the document
information (title, author, subject, producer, creator, dates from the case), the document
information trimmed to entries the XMP mirrors, and ``report-data.json`` (everything the
report says, images by their SHA-256) attached as an associated file (``/AF``,
``AFRelationship /Data``). The file ID is derived from the content, so the output stays
deterministic.

What is not done: no PDF/A validator runs here. Known gaps for strict conformance: characters
outside the DejaVu fonts are drawn with the ``.notdef`` glyph, and reportlab's TrueType subsets
are not checked against every font rule of ISO 19005.
"""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime

from examiner.report.model import ReportModel, model_as_dict

ATTACHMENT_NAME = "report-data.json"


def srgb_icc() -> bytes:
    """An sRGB ICC profile with a fixed creation date in its header (bytes 24-35)."""
    from PIL import ImageCms

    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    fixed = (2000, 1, 1, 0, 0, 0)
    data[24:36] = b"".join(v.to_bytes(2, "big") for v in fixed)
    return bytes(data)


def report_data(model: ReportModel) -> bytes:
    """The report's content as canonical JSON (what the attachment holds)."""
    return json.dumps(model_as_dict(model), sort_keys=True, ensure_ascii=False, indent=1).encode("utf-8")


def _pdf_date(epoch: int) -> str:
    return time.strftime("D:%Y%m%d%H%M%S+00'00'", time.gmtime(epoch))


def to_pdfa3b(pdf: bytes, model: ReportModel) -> bytes:
    import pikepdf
    from pikepdf import Name

    iso = datetime.fromtimestamp(model.issued_epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        info = doc.docinfo
        title = str(info.get("/Title", ""))
        author = str(info.get("/Author", ""))
        subject = str(info.get("/Subject", ""))
        creator = str(info.get("/Creator", ""))
        producer = str(info.get("/Producer", ""))
        for key in list(info.keys()):
            if key not in ("/Title", "/Author", "/Subject", "/Creator", "/Producer", "/CreationDate", "/ModDate"):
                del info[key]
        info["/CreationDate"] = info["/ModDate"] = _pdf_date(model.issued_epoch)

        icc = doc.make_stream(srgb_icc())
        icc["/N"] = 3
        intent = pikepdf.Dictionary(
            Type=Name.OutputIntent,
            S=Name.GTS_PDFA1,
            OutputConditionIdentifier="sRGB IEC61966-2.1",
            Info="sRGB IEC61966-2.1",
            DestOutputProfile=icc,
        )
        doc.Root.OutputIntents = pikepdf.Array([intent])

        date = _pdf_date(model.issued_epoch)
        spec = pikepdf.AttachedFileSpec(
            doc,
            report_data(model),
            description=f"Content of report {model.report_id} as JSON (images by SHA-256)",
            filename=ATTACHMENT_NAME,
            mime_type="application/json",
            creation_date=date,
            mod_date=date,
            relationship=Name.Data,
        )
        doc.attachments[ATTACHMENT_NAME] = spec
        doc.Root.AF = pikepdf.Array([spec.obj])

        with doc.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
            meta["pdfaid:part"] = "3"
            meta["pdfaid:conformance"] = "B"
            meta["dc:title"] = title
            meta["dc:creator"] = [author] if author else []
            meta["dc:description"] = subject
            meta["xmp:CreatorTool"] = creator
            meta["pdf:Producer"] = producer
            meta["xmp:CreateDate"] = iso
            meta["xmp:ModifyDate"] = iso
            meta["xmp:MetadataDate"] = iso
        out = io.BytesIO()
        doc.save(out, deterministic_id=True, min_version="1.7", fix_metadata_version=False)
        return out.getvalue()


def read_attachment(pdf: bytes) -> dict[str, object]:
    """The attached report data of a PDF made by :func:`to_pdfa3b`."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        spec = doc.attachments.get(ATTACHMENT_NAME)
        if spec is None:
            return {}
        data = json.loads(spec.get_file().read_bytes().decode("utf-8"))
    return data if isinstance(data, dict) else {}
