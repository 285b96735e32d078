"""What a file must be to be attached to a ticket: a type ticketflow stores, bytes that are
what the type says, a name safe to send back, and a size within the limit."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

import filetype

from ticketflow.errors import UnsupportedMediaType

# Types recognised by their bytes (magic numbers), and the text types, stored as UTF-8.
BINARY_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp",
                          "application/pdf", "application/zip"})
TEXT_TYPES = frozenset({"text/plain", "text/csv", "application/json"})
ACCEPTED = sorted(BINARY_TYPES | TEXT_TYPES)
# What a client says when it does not know: the bytes decide.
UNKNOWN_TYPES = frozenset({"", "application/octet-stream"})
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f\"\\/:*?<>|]")
MAX_NAME = 255


def content_type(declared: str | None, data: bytes) -> str:
    """The type to store ``data`` as: what its bytes are, when ticketflow stores that type
    and the client said the same (or nothing). Anything else is refused (415)."""
    said = (declared or "").split(";")[0].strip().lower()
    kind = filetype.guess(data[:8192])
    if kind is not None:
        if kind.mime not in BINARY_TYPES or said not in UNKNOWN_TYPES | {kind.mime}:
            raise UnsupportedMediaType(
                f"the file is {kind.mime}, sent as {said or 'no type'}: accepted types are "
                + ", ".join(ACCEPTED))
        return str(kind.mime)
    if said in BINARY_TYPES:
        raise UnsupportedMediaType(f"the file's bytes are not {said}")
    if (said in TEXT_TYPES or said in UNKNOWN_TYPES) and _is_text(data):
        return said if said in TEXT_TYPES else "text/plain"
    raise UnsupportedMediaType(f"{said or 'this file'} is not accepted: accepted types are "
                               + ", ".join(ACCEPTED))


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return "\x00" not in text


def safe_filename(name: str | None) -> str:
    """The file's own name, without any folder, control or quoting characters, at most 255
    characters; ``file`` when nothing is left."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    cleaned = _UNSAFE_NAME.sub("_", unicodedata.normalize("NFC", base)).strip(" .")
    return cleaned[:MAX_NAME] or "file"
