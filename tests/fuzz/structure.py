"""The structure of a signed clip, as the fuzzer sees it: the ISO-BMFF box
tree (or RIFF chunks), the JUMBF superboxes of the C2PA store, the CBOR
boxes and the COSE_Sign1 of each claim signature, and which byte ranges the
hard binding hashes and the claim signature covers.

Nodes are named by position, not by content (``/moov[0]/trak[1]/mdia[0]``,
``/uuid[0]/c2pa/m1/c2pa.signature/cbor[0]``; manifests are ``m0``, ``m1``…
in store order, the active one last), so a recipe recorded against one
signed clip applies to a clip signed again later (new UUIDs, new signature
bytes, same shape).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cbor2

C2PA_UUID = bytes.fromhex("D8FEC3D61B0E483C92975828877EC481")
# Boxes whose payload is a list of boxes. stsd and sample entries need a
# fixed skip before their children (below).
_CONTAINERS = {
    b"moov",
    b"trak",
    b"mdia",
    b"minf",
    b"stbl",
    b"dinf",
    b"edts",
    b"udta",
    b"mvex",
    b"moof",
    b"traf",
    b"mfra",
    b"jumb",
}
_SKIP = {b"stsd": 8, b"avc1": 78, b"hvc1": 78, b"hev1": 78, b"mp4v": 78, b"mp4a": 28, b"dref": 8}
_MANIFEST_LABEL = re.compile(r"^urn:c2pa:")
# c2pa.hash.data (AVI) and c2pa.hash.bmff.v* (MP4/MOV) hold the exclusions.
_HASH_LABELS = ("c2pa.hash.data", "c2pa.hash.bmff")


@dataclass
class Node:
    """One box, chunk or JUMBF box: *offset* and *size* are absolute in the file."""

    path: str
    kind: bytes
    offset: int
    size: int
    header: int
    children: list[Node] = field(default_factory=list)
    label: str | None = None  # JUMBF description label
    top_level: bool = False

    @property
    def end(self) -> int:
        return self.offset + self.size

    @property
    def payload(self) -> tuple[int, int]:
        return self.offset + self.header, self.end


@dataclass(frozen=True)
class Region:
    """A named byte range a mutation can aim at."""

    name: str
    start: int
    end: int


@dataclass
class Layout:
    fmt: str  # "bmff" | "riff"
    size: int
    nodes: dict[str, Node]
    top: list[Node]
    regions: dict[str, Region]
    hashed: list[tuple[int, int]]  # ranges the hard binding covers
    signed: list[tuple[int, int]]  # ranges the active claim's signature covers (directly or by hashed URI)
    manifest_box: str | None  # path of the C2PA box/chunk

    def touches(self, ranges: list[tuple[int, int]], start: int, end: int) -> bool:
        return any(s < max(end, start + 1) and start < e for s, e in ranges)

    def inside(self, ranges: list[tuple[int, int]], pos: int) -> bool:
        """Whether an insertion at *pos* falls strictly inside a range."""
        return any(s < pos < e for s, e in ranges)


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int, int]]:
    """``(type, offset, size, header)`` of the boxes in ``data[start:end]``;
    stops at the first box that does not fit."""
    out, pos = [], start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                break
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            break
        out.append((kind, pos, size, header))
        pos += size
    return out


def _name(kind: bytes) -> str:
    return kind.decode("latin-1") if all(32 < b < 127 for b in kind) else kind.hex()


def _jumd_label(data: bytes, node: Node) -> str | None:
    # jumd payload: 16-byte content type UUID, a toggles byte, then the
    # label (NUL-terminated) when toggle bit 1 is set.
    start, end = node.payload
    if end - start < 18 or not data[start + 16] & 0x02:
        return None
    nul = data.find(b"\0", start + 17, end)
    return data[start + 17 : nul if nul >= 0 else end].decode("utf-8", "replace")


class _Walker:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.nodes: dict[str, Node] = {}
        self.manifests = 0

    def add(
        self,
        parent: str,
        siblings: dict[str, int],
        kind: bytes,
        offset: int,
        size: int,
        header: int,
        *,
        name: str | None = None,
    ) -> Node:
        base = name or _name(kind)
        index = siblings.get(base, 0)
        siblings[base] = index + 1
        path = f"{parent}/{base}" if name and index == 0 else f"{parent}/{base}[{index}]"
        node = Node(path, kind, offset, size, header)
        self.nodes[path] = node
        return node

    def walk_boxes(self, parent: Node | None, path: str, start: int, end: int) -> list[Node]:
        siblings: dict[str, int] = {}
        children = []
        for kind, offset, size, header in _boxes(self.data, start, end):
            name = None
            if kind == b"jumb":
                first = _boxes(self.data, offset + header, offset + size)
                label = None
                if first and first[0][0] == b"jumd":
                    jumd = Node("", b"jumd", first[0][1], first[0][2], first[0][3])
                    label = _jumd_label(self.data, jumd)
                if label and _MANIFEST_LABEL.match(label):
                    name = f"m{self.manifests}"
                    self.manifests += 1
                elif label:
                    name = label.replace("/", "_")
            node = self.add(path, siblings, kind, offset, size, header, name=name)
            if kind == b"jumb":
                node.label = name
            children.append(node)
            skip = _SKIP.get(kind)
            if kind in _CONTAINERS or skip is not None:
                body = offset + header + (skip or 0)
                node.children = self.walk_boxes(node, node.path, body, offset + size)
            elif kind == b"uuid" and self.data[offset + header : offset + header + 16] == C2PA_UUID:
                # uuid + version/flags + "manifest\0" + 8-byte offset, then the JUMBF store
                jumb = self.data.find(b"jumb", offset + header, offset + size) - 4
                if jumb > offset:
                    node.children = self.walk_boxes(node, node.path, jumb, offset + size)
        return children


def parse(data: bytes) -> Layout:
    """The layout of a signed MP4/MOV (BMFF) or AVI (RIFF) file."""
    walker = _Walker(data)
    if data[:4] == b"RIFF":
        fmt, top = "riff", []
        siblings: dict[str, int] = {}
        pos = 12
        while pos + 8 <= len(data):
            kind = data[pos : pos + 4]
            length = int.from_bytes(data[pos + 4 : pos + 8], "little")
            node = walker.add("", siblings, kind, pos, 8 + length + (length & 1), 8)
            node.top_level = True
            if kind == b"C2PA":
                node.children = walker.walk_boxes(node, node.path, pos + 8, min(len(data), pos + 8 + length))
            top.append(node)
            pos = node.end
    else:
        fmt = "bmff"
        top = walker.walk_boxes(None, "", 0, len(data))
        for node in top:
            node.top_level = True
    nodes = walker.nodes
    manifest_box = next((n.path for n in top if n.kind == b"C2PA" or (n.kind == b"uuid" and n.children)), None)
    layout = Layout(fmt, len(data), nodes, top, {}, [], [], manifest_box)
    _regions(data, layout)
    _hashed(data, layout)
    return layout


def thaw(value: Any) -> Any:
    """cbor2 decodes the inside of a tag as immutable (frozendict, tuple):
    plain dicts and lists, so the fuzzer can read and edit them alike."""
    if isinstance(value, cbor2.CBORTag):
        return cbor2.CBORTag(value.tag, thaw(value.value))
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


def loads(raw: bytes) -> Any:
    return thaw(cbor2.loads(raw))


def _cbor_at(data: bytes, node: Node) -> Any:
    start, end = node.payload
    try:
        return loads(data[start:end])
    except Exception:  # noqa: BLE001 - a mutated clip's CBOR may be anything
        return None


def _regions(data: bytes, layout: Layout) -> None:
    """Every node and its payload; the parts of each COSE_Sign1; the
    ranges the active claim signs."""
    regions = layout.regions
    regions["*"] = Region("*", 0, layout.size)
    for node in layout.nodes.values():
        regions[node.path] = Region(node.path, node.offset, min(node.end, layout.size))
        start, end = node.payload
        end = min(end, layout.size)
        if end > start:
            regions[node.path + "#payload"] = Region(node.path + "#payload", start, end)
    manifests = sorted(
        (n for n in layout.nodes.values() if n.label and re.fullmatch(r"m\d+", n.label)), key=lambda n: n.offset
    )
    for manifest in manifests:
        for node in layout.nodes.values():
            if not node.path.startswith(manifest.path + "/"):
                continue
            if node.path.endswith("c2pa.signature/cbor[0]"):
                _cose_regions(data, node, regions, layout if manifest is manifests[-1] else None)
            elif manifest is manifests[-1] and node.kind != b"jumd" and node.kind != b"jumb":
                # the claim is signed; each assertion's box is bound by a
                # hashed URI in the claim
                rel = node.path[len(manifest.path) :]
                if rel.startswith("/c2pa.claim") or rel.startswith("/c2pa.assertions/"):
                    start, end = node.payload
                    # c2pa-rs hashes an embedded file's description (bfdb)
                    # as parsed: its toggles byte may change unnoticed
                    # (measured), the media type may not
                    layout.signed.append((start + 1, end) if node.kind == b"bfdb" else (start, end))


def _cose_regions(data: bytes, node: Node, regions: dict[str, Region], active: Layout | None) -> None:
    start, end = node.payload
    raw = data[start:end]
    try:
        cose = loads(raw)
        items = cose.value if isinstance(cose, cbor2.CBORTag) else cose
        protected, signature = items[0], items[3]
        headers = loads(protected) if protected else {}
    except Exception:  # noqa: BLE001 - a seed we cannot read has no COSE regions
        return
    at = raw.find(protected)
    if at >= 0:
        regions[node.path + "#protected"] = Region(node.path + "#protected", start + at, start + at + len(protected))
        if active is not None:
            active.signed.append((start + at, start + at + len(protected)))
    chain = headers.get(33) if isinstance(headers, dict) else None
    for i, cert in enumerate([chain] if isinstance(chain, bytes) else chain or []):
        pos = raw.find(cert)
        if pos >= 0:
            name = f"{node.path}#x5chain{i}"
            regions[name] = Region(name, start + pos, start + pos + len(cert))
    pos = raw.rfind(signature) if signature else -1
    if at >= 0 and pos > at + len(protected):
        # the unprotected header (time-stamp tokens, pad): not signed
        name = node.path + "#unprotected"
        regions[name] = Region(name, start + at + len(protected), start + pos)
        unprotected = items[1] if isinstance(items[1], dict) else {}
        for key in ("sigTst", "sigTst2"):
            tokens = (unprotected.get(key) or {}).get("tstTokens") if isinstance(unprotected.get(key), dict) else None
            for i, token in enumerate(tokens or []):
                value = token.get("val") if isinstance(token, dict) else None
                if not isinstance(value, bytes):
                    continue
                found = raw.find(value)
                if found >= 0:
                    name = f"{node.path}#{key}.{i}"
                    regions[name] = Region(name, start + found, start + found + len(value))
                    for j, cert in enumerate(_token_certificates(value)):
                        at_cert = raw.find(cert, found)
                        if at_cert >= 0:
                            regions[f"{name}.cert{j}"] = Region(
                                f"{name}.cert{j}", start + at_cert, start + at_cert + len(cert)
                            )
    if pos >= 0:
        regions[node.path + "#signature"] = Region(node.path + "#signature", start + pos, start + pos + len(signature))
        if active is not None:
            active.signed.append((start + pos, start + pos + len(signature)))


def _hash_assertion(data: bytes, layout: Layout) -> dict[str, Any] | None:
    manifests = sorted(
        (n for n in layout.nodes.values() if n.label and re.fullmatch(r"m\d+", n.label)), key=lambda n: n.offset
    )
    if not manifests:
        return None
    for node in layout.nodes.values():
        if node.path.startswith(manifests[-1].path + "/c2pa.assertions/") and node.kind == b"cbor":
            label = node.path.split("/")[-2]
            if label.startswith(_HASH_LABELS):
                value = _cbor_at(data, node)
                return value if isinstance(value, dict) else None
    return None


def _hashed(data: bytes, layout: Layout) -> None:
    """The ranges the hard binding covers, from the active manifest's own
    hash assertion (its exclusions), so the fuzzer knows which changes
    must never verify."""
    try:
        assertion = _hash_assertion(data, layout)
        if not assertion:  # a mutation hid it (a changed label): claim no more than the media
            raise KeyError("no hash assertion")
        _hashed_ranges(data, layout, assertion)
    except (TypeError, ValueError, KeyError, AttributeError):
        # a mutated clip's exclusions may be anything: then claim only the
        # media boxes no provenance clip excludes
        layout.hashed[:] = [(n.offset, n.end) for n in layout.top if n.kind in (b"moov", b"mdat")]


def _hashed_ranges(data: bytes, layout: Layout, assertion: dict[str, Any]) -> None:
    exclusions = assertion.get("exclusions") or []
    if layout.fmt == "riff":
        # c2pa.hash.data: the whole file but [start, start+length) ranges
        cuts = sorted((int(e["start"]), int(e["start"]) + int(e["length"])) for e in exclusions)
        pos = 0
        for s, e in cuts:
            if s > pos:
                layout.hashed.append((pos, s))
            pos = max(pos, e)
        layout.hashed.append((pos, max(pos + 1, layout.size + 1)))  # appended bytes are hashed too
        return
    # c2pa.hash.bmff: every top-level box but those its exclusions name
    # (mdat's payload is covered by the Merkle leaves); the header of an
    # excluded box still frames what is hashed, so it counts as hashed.
    excluded: list[tuple[bytes, bytes | None]] = []
    for e in exclusions:
        xpath = str(e.get("xpath", ""))
        if xpath.count("/") != 1 or e.get("subset"):
            continue
        match = None
        for d in e.get("data") or []:
            if int(d.get("offset", -1)) == 8:
                match = bytes(d["value"])
        excluded.append((xpath[1:].encode("latin-1"), match))
    for node in layout.top:
        if node.kind == b"uuid" and data[node.offset + 8 : node.offset + 24] == C2PA_UUID:
            # the manifest store itself: never under the hard binding (c2pa-rs
            # excludes it by construction, whatever a mutated exclusion says)
            layout.hashed.append((node.offset, node.offset + node.header))
            continue
        is_excluded = any(
            node.kind == kind and (match is None or data[node.offset + 8 : node.offset + 8 + len(match)] == match)
            for kind, match in excluded
        )
        if is_excluded:
            layout.hashed.append((node.offset, node.offset + node.header))
        else:
            layout.hashed.append((node.offset, node.end))


def _token_certificates(token: bytes) -> list[bytes]:
    """The DER of each certificate in an RFC 3161 token (the TSA's)."""
    from asn1crypto import cms

    try:
        signed = cms.ContentInfo.load(token)["content"]
        return [choice.chosen.dump() for choice in signed["certificates"] or [] if choice.name == "certificate"]
    except Exception:  # noqa: BLE001 - a damaged token has no certificate regions
        return []
