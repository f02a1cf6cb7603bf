"""A minimal writer of OLE compound files (MS-CFB version 3), for test fixtures no installed library writes:
a legacy `.xls` (a BIFF8 "Workbook" stream) and an Outlook `.msg` (MAPI property streams).

Written from the MS-CFB, MS-XLS and MS-OXMSG specifications; only what xlrd and extract-msg read is
produced. Storages are given as nested dicts: name -> bytes (a stream) or dict (a storage).
"""

from __future__ import annotations

import struct

SECTOR = 512
MINI = 64
CUTOFF = 4096
FREE, END, FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF


def _key(name: str) -> tuple[int, str]:
    return (len(name), name.upper())


def write_cfb(tree: dict) -> bytes:
    """The bytes of a compound file holding `tree` (name -> bytes or dict) under its root storage."""
    entries: list[dict] = [{"name": "Root Entry", "type": 5, "data": b"", "children": []}]

    def add(storage: dict, parent: int) -> None:
        for name, value in sorted(storage.items(), key=lambda item: _key(item[0])):
            index = len(entries)
            entry = {"name": name, "type": 1 if isinstance(value, dict) else 2,
                     "data": b"" if isinstance(value, dict) else bytes(value), "children": []}
            entries.append(entry)
            entries[parent]["children"].append(index)
            if isinstance(value, dict):
                add(value, index)

    add(tree, 0)
    # Small streams go to the mini stream, large ones to regular sectors.
    mini_stream = bytearray()
    mini_fat: list[int] = []
    for entry in entries[1:]:
        data = entry["data"]
        if entry["type"] != 2 or len(data) >= CUTOFF:
            continue
        if not data:
            entry["start"] = END
            continue
        first = len(mini_fat)
        count = -(-len(data) // MINI)
        mini_fat += [*list(range(first + 1, first + count)), END]
        entry["start"] = first
        mini_stream += data + b"\0" * (count * MINI - len(data))
    big = [entry for entry in entries[1:] if entry["type"] == 2 and len(entry["data"]) >= CUTOFF]
    n_minifat = -(-len(mini_fat) * 4 // SECTOR) if mini_fat else 0
    n_dir = -(-len(entries) * 128 // SECTOR)
    n_mini = -(-len(mini_stream) // SECTOR)
    n_big = sum(-(-len(entry["data"]) // SECTOR) for entry in big)
    n_fat = 1
    while n_fat * SECTOR // 4 < n_fat + n_minifat + n_dir + n_mini + n_big:
        n_fat += 1
    fat: list[int] = [FATSECT] * n_fat
    sectors: list[bytes] = []

    def chain(data: bytes) -> int:
        count = -(-len(data) // SECTOR)
        start = len(fat)
        fat.extend([*list(range(start + 1, start + count)), END])
        for i in range(count):
            sectors.append(data[i * SECTOR:(i + 1) * SECTOR].ljust(SECTOR, b"\0"))
        return start

    minifat_start = chain(b"".join(struct.pack("<I", v) for v in mini_fat)) if mini_fat else END
    dir_placeholder = len(fat)
    fat.extend([*list(range(dir_placeholder + 1, dir_placeholder + n_dir)), END])
    dir_index = len(sectors)
    sectors.extend([b""] * n_dir)
    entries[0]["start"] = chain(bytes(mini_stream)) if mini_stream else END
    entries[0]["size"] = len(mini_stream)
    for entry in big:
        entry["start"] = chain(entry["data"])
    # Siblings: each storage's children as a chain of right siblings, in CFB order (all black).
    for entry in entries:
        entry.setdefault("left", NOSTREAM)
        entry.setdefault("right", NOSTREAM)
        entry["child"] = entry["children"][0] if entry["children"] else NOSTREAM
        for a, b in zip(entry["children"], entry["children"][1:], strict=False):
            entries[a]["right"] = b
    directory = bytearray()
    for entry in entries:
        name = entry["name"].encode("utf-16-le") + b"\0\0"
        size = entry.get("size", len(entry["data"]))
        start = entry.get("start", END if entry["type"] != 1 else 0)
        directory += struct.pack("<64sHBBIII16sIQQIQ", name.ljust(64, b"\0"), len(name), entry["type"], 1,
                                 entry["left"], entry["right"], entry["child"], b"\0" * 16, 0, 0, 0,
                                 start if entry["type"] != 1 else 0, size if entry["type"] != 1 else 0)
    directory = bytes(directory).ljust(n_dir * SECTOR, b"\0")
    # Unused directory slots are empty entries (type 0) whose sibling ids say "none".
    slots = bytearray(directory)
    for i in range(len(entries), n_dir * SECTOR // 128):
        slots[i * 128 + 68:i * 128 + 80] = struct.pack("<III", NOSTREAM, NOSTREAM, NOSTREAM)
    for i in range(n_dir):
        sectors[dir_index + i] = bytes(slots[i * SECTOR:(i + 1) * SECTOR])
    fat += [FREE] * (n_fat * SECTOR // 4 - len(fat))
    fat_bytes = b"".join(struct.pack("<I", v) for v in fat)
    fat_sectors = [fat_bytes[i * SECTOR:(i + 1) * SECTOR] for i in range(n_fat)]
    difat = list(range(n_fat)) + [FREE] * (109 - n_fat)
    header = struct.pack("<8s16sHHHHH6sIIIIIIIII", bytes.fromhex("D0CF11E0A1B11AE1"), b"\0" * 16, 0x3E, 3,
                         0xFFFE, 9, 6, b"\0" * 6, 0, n_fat, dir_placeholder, 0, CUTOFF, minifat_start, n_minifat,
                         END, 0)
    header += b"".join(struct.pack("<I", v) for v in difat)
    return header + b"".join(fat_sectors) + b"".join(sectors)


# ---- a BIFF8 workbook (.xls) --------------------------------------------------------------------------


def _record(kind: int, data: bytes) -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _unicode(text: str, length_bytes: int = 2) -> bytes:
    encoded = text.encode("utf-16-le")
    size = struct.pack("<H", len(text)) if length_bytes == 2 else struct.pack("<B", len(text))
    return size + b"\x01" + encoded


def write_xls(sheets: dict[str, list[list[object]]]) -> bytes:
    """A BIFF8 workbook: one sheet per item, strings as LABEL records, numbers as NUMBER records."""
    bof_globals = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x06))
    codepage = _record(0x0042, struct.pack("<H", 1200))
    font = _record(0x0031, struct.pack("<HHHHHBBBB", 200, 0, 0x7FFF, 400, 0, 0, 0, 0, 0) + _unicode("Arial", 1))
    fonts = font * 4
    xfs = b"".join(_record(0x00E0, struct.pack("<HHHBBBBIIH", 0, 0, 0xFFF5 if i < 15 else 0x0001, 0x20, 0, 0, 0,
                                                 0, 0, 0x20C0)) for i in range(16))
    sheet_streams = []
    for name, rows in sheets.items():
        body = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 0x06))
        width = max((len(row) for row in rows), default=0)
        body += _record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, int | float):
                    body += _record(0x0203, struct.pack("<HHHd", r, c, 15, float(value)))
                else:
                    body += _record(0x0204, struct.pack("<HHH", r, c, 15) + _unicode(str(value)))
        body += _record(0x000A, b"")
        sheet_streams.append((name, body))
    boundsheets_size = sum(4 + 6 + len(_unicode(name, 1)) for name, _ in sheet_streams)
    offset = len(bof_globals) + len(codepage) + len(fonts) + len(xfs) + boundsheets_size + 4  # + EOF
    boundsheets = b""
    for name, body in sheet_streams:
        boundsheets += _record(0x0085, struct.pack("<IBB", offset, 0, 0) + _unicode(name, 1))
        offset += len(body)
    workbook = bof_globals + codepage + fonts + xfs + boundsheets + _record(0x000A, b"")
    workbook += b"".join(body for _, body in sheet_streams)
    return write_cfb({"Workbook": workbook.ljust(CUTOFF, b"\0")})


# ---- an Outlook message (.msg) ---------------------------------------------------------------------------


def _prop(tag: int, kind: int, value: bytes) -> bytes:
    """A fixed-size property entry of a properties stream: type, id, flags (readable, writable), value."""
    return struct.pack("<HHI", kind, tag, 6) + value.ljust(8, b"\0")


def _string(text: str) -> bytes:
    return text.encode("utf-16-le")


def write_msg(subject: str, sender: str, body: str, attachments: list[tuple[str, bytes]], *,
              date: tuple[int, ...] = (2024, 10, 15, 9, 30)) -> bytes:
    """An IPM.Note with Unicode string properties and attachments by value (MS-OXMSG 2.2)."""
    import datetime as dt

    when = dt.datetime(*date, tzinfo=dt.UTC)
    filetime = int((when - dt.datetime(1601, 1, 1, tzinfo=dt.UTC)).total_seconds() * 10_000_000)
    header = struct.pack("<8sIIII8s", b"\0" * 8, 0, len(attachments), 0, len(attachments), b"\0" * 8)
    properties = header + _prop(0x0039, 0x0040, struct.pack("<Q", filetime)) + \
        _prop(0x0E06, 0x0040, struct.pack("<Q", filetime))
    tree: dict = {
        "__properties_version1.0": properties,
        "__substg1.0_001A001F": _string("IPM.Note"),
        "__substg1.0_0037001F": _string(subject),
        "__substg1.0_0C1A001F": _string(sender),
        "__substg1.0_0E04001F": _string("Underwriting Desk"),
        "__substg1.0_1000001F": _string(body),
        "__nameid_version1.0": {"__substg1.0_00020102": b"", "__substg1.0_00030102": b"",
                                "__substg1.0_00040102": b""},
    }
    for number, (name, data) in enumerate(attachments):
        tree[f"__attach_version1.0_#{number:08X}"] = {
            "__properties_version1.0": b"\0" * 8 + _prop(0x3705, 0x0003, struct.pack("<I", 1))
            + _prop(0x0E20, 0x0003, struct.pack("<I", len(data))),
            "__substg1.0_3707001F": _string(name),
            "__substg1.0_3001001F": _string(name),
            "__substg1.0_37010102": data,
        }
    return write_cfb(tree)
