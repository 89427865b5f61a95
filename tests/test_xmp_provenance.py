"""XMP/IPTC at intake (every format, parsed safely) and the statements the tool writes and reads back."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from imagegen import pattern
from PIL import Image
from provenance_images import heic_8bit, jxl_lossless
from training_fixtures import make_instructor_case

from examiner.cli import main
from examiner.core.evidence import open_evidence
from examiner.core.inspection import inspect_image
from examiner.core.provenance_write import (
    MakingStatement,
    build_packet,
    codec_is_learned,
    embed_jpeg,
    embed_png,
)
from examiner.core.xmp import parse_packet, read_xmp

COMPOSITE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"


def foreign_packet(source_type: str = COMPOSITE, extra: str = "") -> bytes:
    """An XMP packet as another tool would write it: attribute form, Bag, Alt and a history."""
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
 <rdf:Description rdf:about="" xmlns:ext="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
   xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"
   xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"
   xmp:CreatorTool="Phone Camera 9" ext:AISystemUsed="Generative Fill">
  <ext:DigitalSourceType>{source_type}</ext:DigitalSourceType>
  <dc:creator><rdf:Seq><rdf:li>A. Photographer</rdf:li></rdf:Seq></dc:creator>
  <xmpMM:History><rdf:Seq><rdf:li rdf:parseType="Resource"><stEvt:action>edited</stEvt:action>
   <stEvt:softwareAgent>Editor 2.0</stEvt:softwareAgent></rdf:li></rdf:Seq></xmpMM:History>{extra}
 </rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>""".encode()


def png_with_itxt(arr: np.ndarray, packet: bytes) -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", packet.decode("utf-8"), zip=True)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def jxl_with_xml_box(tmp: Path, arr: np.ndarray, packet: bytes) -> bytes:
    data = jxl_lossless(tmp, arr, container=True)
    return data + (8 + len(packet)).to_bytes(4, "big") + b"xml " + packet


def make(fmt: str, tmp: Path, packet: bytes) -> bytes:
    arr = pattern(24, 32)
    buf = io.BytesIO()
    if fmt == "jpeg":
        Image.fromarray(arr).save(buf, "JPEG", xmp=packet)
    elif fmt == "png":
        return png_with_itxt(arr, packet)
    elif fmt == "tiff":
        Image.fromarray(arr).save(buf, "TIFF", tiffinfo={700: packet})
    elif fmt == "webp":
        Image.fromarray(arr).save(buf, "WEBP", xmp=packet, lossless=True)
    elif fmt == "heif":
        return heic_8bit(arr, xmp=packet)
    elif fmt == "jxl":
        return jxl_with_xml_box(tmp, arr, packet)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["jpeg", "png", "tiff", "webp", "heif", "jxl"])
def test_iptc_source_type_is_read_from_every_format(tmp_path: Path, fmt: str) -> None:
    data = make(fmt, tmp_path, foreign_packet())
    p = tmp_path / f"img.{fmt}"
    p.write_bytes(data)
    report = inspect_image(p)
    xmp = report["provenance"]["xmp"]
    assert xmp is not None, fmt
    assert xmp["iptc"]["digital_source_type"] == COMPOSITE
    assert xmp["iptc"]["ai_system_used"] == "Generative Fill"
    assert xmp["iptc"]["creator_tool"] == "Phone Camera 9"
    assert xmp["iptc"]["history_software_agents"] == "Editor 2.0"
    assert any("compositeWithTrainedAlgorithmicMedia (a trained model" in s for s in report["provenance"]["statements"])
    assert report["format"] == fmt


def test_no_packet_means_no_statement(tmp_path: Path) -> None:
    p = tmp_path / "plain.png"
    Image.fromarray(pattern()).save(p)
    prov = inspect_image(p)["provenance"]
    assert prov["xmp"] is None and prov["statements"] == []
    assert "evidence of nothing by itself" in prov["inference"]


def test_entity_expansion_is_refused_and_intake_goes_on(tmp_path: Path) -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><x:xmpmeta xmlns:x="adobe:ns:meta/">&lol3;</x:xmpmeta>')  # fmt: skip
    external = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&e;</x:xmpmeta>')  # fmt: skip
    for packet in (bomb, external):
        parsed = parse_packet(packet)
        assert parsed["fields"] == {} and "refused by the safe parser" in parsed["errors"][0]
        p = tmp_path / "hostile.png"
        p.write_bytes(png_with_itxt(pattern(), packet))
        assert open_evidence(p).pixels.shape == (32, 40, 3)
        assert "refused by the safe parser" in inspect_image(p)["provenance"]["xmp"]["errors"][0]


def test_oversized_and_malformed_packets_are_not_parsed() -> None:
    assert "parsing limit" in parse_packet(b"<a>" + b"x" * (2 << 20) + b"</a>")["errors"][0]
    assert "not well-formed" in parse_packet(b"<x:xmpmeta")["errors"][0]


def test_values_are_escaped_and_prefixes_cannot_be_spoofed() -> None:
    hostile = "\u202eevil\x9b2J"  # XML 1.0 allows both: a bidi override and the C1 CSI control
    fields = parse_packet(foreign_packet(extra=f"<dc:title>{hostile}</dc:title>"))["fields"]
    assert "\u202e" not in fields["dc:title"] and "\\u202e" in fields["dc:title"] and "\x9b" not in fields["dc:title"]
    # A property in another namespace under the prefix "Iptc4xmpExt" is not an IPTC property.
    spoof = foreign_packet().replace(b"http://iptc.org/std/Iptc4xmpExt/2008-02-29/", b"http://example.invalid/fake/")
    spoof = spoof.replace(b"xmlns:ext=", b"xmlns:Iptc4xmpExt=").replace(b"ext:", b"Iptc4xmpExt:")
    assert "Iptc4xmpExt:DigitalSourceType" not in parse_packet(spoof)["fields"]


# ---------------------------------------------------------------- what the tool writes


def statement(**kw: object) -> MakingStatement:
    base: dict[str, object] = {"kind": "re-compression", "source_sha256": "a" * 64, "codec_id": "mbt2018-mean-mse",
                               "learned": True, "quality": 3, "bpp": 0.4567, "weights_sha256": {"w.pth.tar": "b" * 64}}  # fmt: skip
    base.update(kw)
    return MakingStatement(**base)  # type: ignore[arg-type]


def test_written_statement_reads_back_with_every_field(tmp_path: Path) -> None:
    png = io.BytesIO()
    Image.fromarray(pattern()).save(png, "PNG")
    out = embed_png(png.getvalue(), build_packet(statement()))
    xmp = read_xmp(out, "png")
    assert xmp is not None
    nc = xmp["neural_codec"]
    assert (nc["CodecId"], nc["Quality"], nc["Learned"], nc["SourceSha256"]) == ("mbt2018-mean-mse", "3", "True", "a" * 64)
    assert nc["WeightsSha256"] == "b" * 64 + "  w.pth.tar" and float(nc["BitsPerPixel"]) == pytest.approx(0.4567)
    assert nc["Tool"].startswith("Miscompression Examiner ")
    assert xmp["iptc"]["digital_source_type"].endswith("/trainedAlgorithmicMedia")
    assert xmp["statements"][0].startswith("this file states it was made by learned codec mbt2018-mean-mse")
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(out))), np.asarray(Image.open(png)))


def test_classical_codec_claims_no_learned_source_type() -> None:
    xmp = parse_packet(build_packet(statement(codec_id="jpeg", learned=False, weights_sha256={})))["fields"]
    assert "Iptc4xmpExt:DigitalSourceType" not in xmp and xmp["mxnc:Learned"] == "False"


def test_codec_families_decide_learned() -> None:
    class Info:
        def __init__(self, family: str, extra: dict[str, object]) -> None:
            self.family, self.extra = family, extra

    assert codec_is_learned(Info("neural", {}))
    assert codec_is_learned(Info("external", {"weights": ["jpegai.bin"]}))
    assert not codec_is_learned(Info("classical", {"weights": []}))


def test_jpeg_embedding_replaces_an_earlier_packet_and_keeps_the_scan(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.fromarray(pattern()).save(buf, "JPEG", quality=90, xmp=foreign_packet())
    once = embed_jpeg(buf.getvalue(), build_packet(statement()))
    twice = embed_jpeg(once, build_packet(statement(quality=4)))
    assert twice.count(b"http://ns.adobe.com/xap/1.0/\x00") == 1
    assert read_xmp(twice, "jpeg")["neural_codec"]["Quality"] == "4"  # type: ignore[index]
    sos = buf.getvalue().index(b"\xff\xda")
    assert twice.endswith(buf.getvalue()[sos:])


def test_recompress_out_carries_xmp_that_inspect_reads_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.png"
    Image.fromarray(pattern(32, 48)).save(src)
    out = tmp_path / "out.png"
    assert main(["recompress", str(src), "--codec", "jpeg", "--quality", "40", "--out", str(out)]) == 0
    capsys.readouterr()
    prov = inspect_image(out)["provenance"]
    nc = prov["xmp"]["neural_codec"]
    assert nc["CodecId"] == "jpeg" and nc["Quality"] == "40" and nc["Learned"] == "False"
    assert nc["SourceSha256"] == open_evidence(src).sha256
    assert main(["inspect", str(out)]) == 0
    assert "this file states it was made by codec jpeg" in capsys.readouterr().out


def test_annotate_writes_a_copy_and_never_the_original(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "decoded.png"
    Image.fromarray(pattern()).save(src)
    before = (src.read_bytes(), src.stat().st_mtime_ns)
    copy = tmp_path / "archived.png"
    argv = ["annotate", str(src), "--out", str(copy), "--codec", "hific-lo", "--learned", "yes", "--quality", "1",
            "--bpp", "0.15", "--weights-sha256", "C" * 64, "--source-sha256", "d" * 64]  # fmt: skip
    assert main(argv) == 0
    assert (src.read_bytes(), src.stat().st_mtime_ns) == before
    assert np.array_equal(open_evidence(copy).pixels, open_evidence(src).pixels)
    said = inspect_image(copy)["provenance"]["statements"]
    assert said[0].startswith("this file states it was made by learned codec hific-lo (quality 1, 0.150000 bpp")
    capsys.readouterr()
    assert main(["annotate", str(src), "--out", str(src), "--codec", "x", "--learned", "no"]) == 2
    assert "refusing to write over the input image" in capsys.readouterr().err
    link = tmp_path / "link.png"
    link.hardlink_to(src)
    assert main(["annotate", str(src), "--out", str(link), "--codec", "x", "--learned", "no"]) == 2
    assert main(["annotate", str(src), "--out", str(copy), "--codec", "x", "--learned", "no"]) == 2  # exists
    assert main(["annotate", str(src), "--out", str(tmp_path / "n.png"), "--codec", "not-installed"]) == 2
    assert "--learned yes|no" in capsys.readouterr().err
    webp = tmp_path / "a.webp"
    Image.fromarray(pattern()).save(webp, lossless=True)
    assert main(["annotate", str(webp), "--out", str(tmp_path / "b.webp"), "--codec", "x", "--learned", "no"]) == 2
    assert "JPEG and PNG are" in capsys.readouterr().err
    assert src.read_bytes() == before[0]


def test_dataset_crops_and_exercise_reconstructions_carry_statements(tmp_path: Path) -> None:
    from examiner.training.dataset_export import export_dataset
    from examiner.training.exercise_pack import make_pack

    case = make_instructor_case(tmp_path / "c")
    export_dataset([case], tmp_path / "ds")
    crops = sorted((tmp_path / "ds" / "crops").glob("*.png"))
    assert crops
    for crop in crops:
        nc = read_xmp(crop.read_bytes(), "png")["neural_codec"]  # type: ignore[index]
        assert nc["Kind"] == "dataset crop" and len(nc["SourceSha256"]) == 64
    pack, _ = make_pack(case, tmp_path / "ex.mxpack", instructor="I. Structor")
    with zipfile.ZipFile(pack.path) as z:
        recs = [n for n in z.namelist() if n.endswith("-reconstruction.png")]
        originals = [n for n in z.namelist() if n.endswith("-original.png")]
        assert recs
        for name in recs:
            nc = read_xmp(z.read(name), "png")["neural_codec"]  # type: ignore[index]
            assert nc["Kind"] == "training exercise reconstruction"
        for name in originals:
            assert read_xmp(z.read(name), "png") is None


def test_a_computed_map_names_its_codec_but_claims_no_picture() -> None:
    packet = build_packet(statement(kind="seed-variability map", codec_made=False))
    png = io.BytesIO()
    Image.fromarray(pattern()).save(png, "PNG")
    xmp = read_xmp(embed_png(png.getvalue(), packet), "png")
    assert xmp is not None and "digital_source_type" not in xmp["iptc"]
    assert xmp["statements"][0].startswith("this file states: seed-variability map computed by Miscompression Examiner")
    assert "not a picture" in xmp["statements"][0]
