"""Files to upload: real ones made on the spot, and hostile ones built byte by byte."""
from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib

from PIL import Image


def png(width: int = 8, height: int = 8, color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "blue").save(out, "JPEG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(side: int = 20_000) -> bytes:
    """A valid 1-bit PNG of side×side pixels: ~50 KB on disk, 400 megapixels decoded."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    squeeze = zlib.compressobj(9)
    body = b"".join(squeeze.compress(row * 1000) for _ in range(side // 1000)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body)
            + _chunk(b"IEND", b""))


def docx(text: str) -> bytes:
    import docx as python_docx
    document = python_docx.Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def docx_bomb() -> bytes:
    """Shaped like a .docx, but word/document.xml inflates ~1000× (40 MB from ~40 KB)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>" + "a" * 40_000_000)
    return out.getvalue()


def pdf(text: str) -> bytes:
    """A one-page PDF whose page shows `text` (ASCII), with a correct xref table."""
    stream = f"BT /F1 18 Tf 72 700 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return _pdf_file(objects)


def docx_paragraph_flood(paragraphs: int = 1_000_000) -> bytes:
    """A real-looking .docx whose document.xml is a flood of empty paragraphs: a few dozen KB
    compressed, padded so the whole archive passes the compression-ratio check."""
    out = io.BytesIO()
    body = "<w:p/>" * paragraphs
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w='
           '"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
           + body + "</w:body></w:document>")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", xml)
        # incompressible padding, stored: the archive's overall ratio looks like a document's
        archive.writestr(zipfile.ZipInfo("word/media/pad.bin"), os.urandom(len(xml) // 150),
                         compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def pdf_operator_flood(operators: int = 250_000, pages: int = 4) -> bytes:
    """A small PDF whose pages draw one compressed stream of `operators` text operators: cheap
    to send, seconds of CPU for a text extractor per page."""
    stream = zlib.compress(b"BT /F1 1 Tf " + b"(a) Tj " * operators + b"ET", 9)
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages)).encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages]
    content, font = 3 + pages, 4 + pages
    for _ in range(pages):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (content, font))
    objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
                   + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return _pdf_file(objects)


def _pdf_file(objects: list[bytes]) -> bytes:
    """Numbered objects (the first the catalog) as a PDF file with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
