"""What an uploaded file really is, decided by its bytes — never by its name or Content-Type.

Accepted: images png/jpeg/gif/webp (decoded with Pillow under a pixel limit), pdf, docx (a zip
checked for bombs before python-docx opens it), and UTF-8 text (txt, md, csv, json). A name may
narrow the text kinds (`.csv`) but must never contradict the content: `x.png` holding HTML, or a
name ending in `.html`, is refused. Runs in a worker thread (Pillow, pypdf and python-docx block).
"""
from __future__ import annotations

import json
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from PIL import Image

from protocol.errors import BadRequest, TooLarge, UnsupportedFileType
from protocol.text import clean

MAX_TEXT_CHARS = 200_000  # extracted text kept per document
DOCX_MAX_ENTRIES = 2_000
DOCX_MAX_UNCOMPRESSED = 100 * 1024 * 1024
DOCX_MAX_RATIO = 200
DOCX_MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # word/document.xml, uncompressed
DOCX_MAX_ELEMENTS = 300_000  # XML elements in it (a million empty paragraphs took 9.6 s)
PDF_MAX_PAGES = 500
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# extension -> the family its content must belong to
EXTENSIONS = {
    "png": "png", "jpg": "jpeg", "jpeg": "jpeg", "gif": "gif", "webp": "webp",
    "pdf": "pdf", "docx": "docx",
    "txt": "text", "text": "text", "log": "text", "md": "markdown", "markdown": "markdown",
    "csv": "csv", "json": "json",
}
IMAGE_MIME = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
TEXT_MIME = {"text": "text/plain", "markdown": "text/markdown", "csv": "text/csv",
             "json": "application/json"}
_MARKUP = re.compile(rb"^\s*<(?:!doctype|html|head|body|script|svg|\?xml|iframe|object|embed|a\s|img\s"
                     rb"|div|meta|style)", re.IGNORECASE)


@dataclass(frozen=True)
class Inspected:
    kind: str  # "image" | "document"
    mime: str
    text: str | None = None  # extracted text of a document


def clean_name(raw: str | None) -> str:
    """The display name, or a clear refusal of one that tries to be a path."""
    name = (raw or "").strip()
    if not name:
        return "upload"
    decoded = unquote(unquote(name))
    if any(ch in decoded for ch in "/\\\x00") or not decoded.strip("."):
        raise BadRequest("the file name must be a plain name, not a path", field="file")
    if any(unicodedata.category(ch).startswith("C") for ch in decoded):
        raise BadRequest("the file name contains control characters", field="file")
    return unquote(name)[:255]  # browsers and aiohttp percent-encode some characters


def family_of_name(name: str) -> str | None:
    """The family the name's extension promises; None without one; refusal for anything else."""
    if "." not in name.strip(".") or name == "upload":
        return None
    extension = name.rsplit(".", 1)[1].lower()
    family = EXTENSIONS.get(extension)
    if family is None:
        raise UnsupportedFileType(f".{extension} files are not accepted; images (png, jpeg, gif, "
                                  "webp) and documents (pdf, docx, txt, md, csv, json) are")
    return family


def inspect(path: Path, name: str, *, max_image_pixels: int) -> Inspected:
    with path.open("rb") as f:
        head = f.read(16)
    if not head:
        raise BadRequest("the file is empty", field="file")
    promised = family_of_name(name)
    family = _sniff(head)
    if family == "zip":
        family = "docx"
    text = None
    if family is None:
        family, text = _text_family(path, promised)
    if promised is not None and promised != family and not _compatible(promised, family):
        raise UnsupportedFileType(f"the file's content is {_describe(family)}, but its name says "
                                  f".{name.rsplit('.', 1)[1].lower()}")
    if family in IMAGE_MIME:
        _check_image(path, family, max_image_pixels)
        return Inspected("image", IMAGE_MIME[family])
    if family == "pdf":
        return Inspected("document", "application/pdf", clean(_pdf_text(path)))  # fonts map anything
    if family == "docx":
        return Inspected("document", DOCX_MIME, clean(_docx_text(path)))
    assert text is not None  # read and decoded once, by _text_family
    return Inspected("document", TEXT_MIME[family], clean(text[:MAX_TEXT_CHARS]))


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return None


def _compatible(promised: str, family: str) -> bool:
    """Text kinds only differ by name: a `.md` of plain text is fine, a `.json` must parse."""
    return promised in TEXT_MIME and family in TEXT_MIME


def _describe(family: str) -> str:
    return {"markup": "HTML/SVG markup", "binary": "binary data"}.get(family, family)


def _text_family(path: Path, promised: str | None) -> tuple[str, str]:
    """Which text kind the file is, and its text."""
    data = path.read_bytes()
    if b"\x00" in data:
        raise UnsupportedFileType("the file's content is binary data of a kind not accepted")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnsupportedFileType("text files must be UTF-8") from None
    if _MARKUP.match(data.lstrip(b"\xef\xbb\xbf")):
        raise UnsupportedFileType("HTML, SVG and XML files are not accepted")
    if promised == "json" or (promised is None and text.lstrip()[:1] in ("{", "[")):
        try:
            json.loads(text)
            return "json", text
        except ValueError:
            if promised == "json":
                raise BadRequest("the .json file is not valid JSON", field="file") from None
    if promised in TEXT_MIME:
        return promised, text
    return "text", text


def _check_image(path: Path, family: str, max_pixels: int) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise TooLarge(f"the image is {width}×{height} pixels; at most {max_pixels:,} "
                                   "pixels are accepted")
                if image.format is None or image.format.lower() != family:
                    raise UnsupportedFileType("the image's content does not match its format")
                image.verify()
            with Image.open(path) as image:  # verify() leaves the image unusable; decode for real
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge(f"the image has more than {max_pixels:,} pixels") from None
    except (TooLarge, UnsupportedFileType):
        raise
    except Exception:
        raise UnsupportedFileType("the image is damaged or not what it claims to be") from None


def _count_elements(xml: Any) -> None:
    """Refuse a document of more elements than any real one has, reading it as a stream."""
    import xml.etree.ElementTree as ElementTree

    try:
        for count, _ in enumerate(ElementTree.iterparse(xml, events=("start",)), start=1):
            if count > DOCX_MAX_ELEMENTS:
                raise UnsupportedFileType(
                    f"the document has more than {DOCX_MAX_ELEMENTS:,} parts (paragraphs, runs…)")
    except ElementTree.ParseError:
        raise UnsupportedFileType("the .docx document could not be read") from None


def _docx_text(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > DOCX_MAX_ENTRIES:
                raise UnsupportedFileType("the archive has too many entries")
            total = sum(e.file_size for e in entries)
            packed = sum(e.compress_size for e in entries) or 1
            if total > DOCX_MAX_UNCOMPRESSED or total / packed > DOCX_MAX_RATIO:
                raise UnsupportedFileType("the archive expands far beyond its size (a zip bomb?)")
            names = {e.filename for e in entries}
            if "word/document.xml" not in names or "[Content_Types].xml" not in names:
                raise UnsupportedFileType("zip archives are accepted only as .docx documents")
            if archive.getinfo("word/document.xml").file_size > DOCX_MAX_DOCUMENT_BYTES:
                raise UnsupportedFileType("the document's text part is too large")
            with archive.open("word/document.xml") as xml:
                _count_elements(xml)
    except zipfile.BadZipFile:
        raise UnsupportedFileType("the archive is damaged") from None
    import docx  # imported late: lxml and python-docx are only needed for Word files

    try:
        document = docx.Document(str(path))
    except Exception:
        raise UnsupportedFileType("the .docx document could not be read") from None
    text = "\n".join(p.text for p in document.paragraphs)
    return text[:MAX_TEXT_CHARS]


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnsupportedFileType("password-protected PDFs are not accepted")
        if len(reader.pages) > PDF_MAX_PAGES:
            raise UnsupportedFileType(f"the PDF has more than {PDF_MAX_PAGES} pages")
        parts: list[str] = []
        size = 0
        for page in reader.pages:
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text)
            if size >= MAX_TEXT_CHARS:
                break
    except UnsupportedFileType:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError):
        raise UnsupportedFileType("the PDF is damaged and could not be read") from None
    return "\n\n".join(parts)[:MAX_TEXT_CHARS]
