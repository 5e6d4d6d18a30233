"""Structure-aware mutations of a signed clip.

A mutation is a small JSON-able recipe (``{"op": "flip", "region":
"/moov[0]/trak[0]/mdia[0]/minf[0]/stbl[0]/stco[0]#payload", "at": 9,
"mask": 4}``) that names its target by position in the box tree, so it
replays on a clip signed again later. :func:`generate` draws one from a
seeded ``random.Random``; :func:`apply` performs it and says whether it
changed bytes that the hard binding hashes or the active claim signs, in
which case the clip must never verify.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass
from typing import Any

import cbor2

from tests.fuzz.structure import C2PA_UUID, Layout, Node, loads, parse

Recipe = dict[str, Any]

# Box types the BMFF hash of a provenance clip excludes at top level (read
# from each clip's own exclusions for the hashed ranges; used here only to
# decide whether a type change adds or removes hashed content).
_EXCLUDED_TOP = {b"ftyp", b"mfra", b"free", b"skip"}
_TYPES = [
    b"free",
    b"skip",
    b"mdat",
    b"moov",
    b"uuid",
    b"jumb",
    b"jumd",
    b"cbor",
    b"json",
    b"trak",
    b"stco",
    b"co64",
    b"moof",
    b"mfra",
    b"meta",
    b"\0\0\0\0",
    b"\xff\xff\xff\xff",
    b"C2PA",
    b"LIST",
    b"RIFF",
]
_SIZES = ["zero", "one", "seven", "header", "minus1", "plus1", "double", "max32", "file", "large"]
_OFFSETS = ["zero", "minus1", "plus1", "huge", "past_end", "negative_delta"]
_CBOR_VALUES: list[Any] = [
    0,
    -1,
    2**64 - 1,
    -(2**64),
    "",
    "x" * 5000,
    "\u202e\x1b[32m VERIFIED \x1b[0m",
    b"",
    b"\xff" * 300,
    [],
    {},
    None,
    True,
    1.5,
    float("nan"),
    cbor2.CBORTag(1, 0),
    cbor2.CBORTag(99999, b"x"),
    "self#jumbf=/c2pa/../../etc",
    {"url": "self#jumbf=c2pa.assertions/c2pa.hash.bmff.v3", "hash": b"\0" * 32},
]
_COSE_EDITS = [
    "alg",
    "x5chain_garbage",
    "x5chain_trunc",
    "x5chain_empty",
    "x5chain_flip",
    "drop_x5chain",
    "move_x5chain",
    "unprotected_junk",
    "pad_huge",
    "sig_trunc",
    "sig_extend",
    "untag",
    "items",
    "deep",
]
# op name -> weight
_OPS = {
    "flip": 30,
    "set": 6,
    "size": 10,
    "type": 7,
    "truncate": 6,
    "dup": 6,
    "remove": 6,
    "insert": 5,
    "swap": 4,
    "offset": 5,
    "cbor": 12,
    "cose": 8,
}


class Skip(Exception):
    """The recipe does not apply to this clip (its target is gone)."""


@dataclass(frozen=True)
class Applied:
    data: bytes
    must_not_verify: bool
    why: str  # which protected bytes the mutation changed, for messages


# --- generation


def generate(layout: Layout, rng: random.Random) -> Recipe:
    """One mutation of a clip with *layout*, drawn from *rng*."""
    ops = list(_OPS)
    while True:
        op = rng.choices(ops, weights=[_OPS[o] for o in ops])[0]
        recipe = _draw(op, layout, rng)
        if recipe is not None:
            return recipe


def _pick_node(layout: Layout, rng: random.Random, *, where: str = "any") -> Node | None:
    nodes = [
        n
        for n in layout.nodes.values()
        if where == "any"
        or (where == "manifest") == bool(layout.manifest_box and n.path.startswith(layout.manifest_box + "/"))
    ]
    return rng.choice(nodes) if nodes else None


def _draw(op: str, layout: Layout, rng: random.Random) -> Recipe | None:
    if op in ("flip", "set", "truncate"):
        # half the time aim at the manifest, whose parts are many but small
        names = list(layout.regions)
        if layout.manifest_box and rng.random() < 0.5:
            names = [n for n in names if n.startswith(layout.manifest_box + "/")] or names
        name = rng.choice(names)
        region = layout.regions[name]
        at = rng.randrange(max(1, region.end - region.start))
        if op == "flip":
            return {
                "op": op,
                "region": name,
                "at": at,
                "mask": 1 << rng.randrange(8) if rng.random() < 0.7 else rng.randrange(1, 256),
            }
        if op == "set":
            return {
                "op": op,
                "region": name,
                "at": at,
                "value": rng.choice([0, 0xFF, 0x80, 0x7F, 1, rng.randrange(256)]),
            }
        return {"op": op, "region": name, "at": at}
    if op in ("size", "type", "dup", "remove", "swap", "insert"):
        node = _pick_node(layout, rng, where="manifest" if rng.random() < 0.4 else "any")
        if node is None:
            return None
        if op == "size":
            return {"op": op, "node": node.path, "value": rng.choice(_SIZES)}
        if op == "type":
            return {"op": op, "node": node.path, "value": rng.choice(_TYPES).hex()}
        if op == "insert":
            return {
                "op": op,
                "node": node.path,
                "kind": rng.choice(_TYPES).hex(),
                "length": rng.choice([0, 1, 8, 100, 4096]),
                "fill": rng.randrange(256),
            }
        if op == "remove":
            return {"op": op, "node": node.path, "fix": rng.random() < 0.7}
        return {"op": op, "node": node.path}
    if op == "offset":
        tables = [n for n in layout.nodes.values() if n.kind in (b"stco", b"co64")]
        if not tables:
            return None
        return {"op": op, "node": rng.choice(tables).path, "index": rng.randrange(64), "value": rng.choice(_OFFSETS)}
    if op == "cbor":
        boxes = [n for n in layout.nodes.values() if n.kind == b"cbor"]
        if not boxes:
            return None
        return {
            "op": op,
            "node": rng.choice(boxes).path,
            "pick": rng.randrange(1 << 16),
            "edit": rng.choice(["value", "value", "swap", "delete", "add"]),
            "value": rng.randrange(len(_CBOR_VALUES)),
            "with": rng.randrange(1 << 16),
        }
    if op == "cose":
        boxes = [n for n in layout.nodes.values() if n.kind == b"cbor" and n.path.endswith("c2pa.signature/cbor[0]")]
        if not boxes:
            return None
        return {
            "op": op,
            "node": rng.choice(boxes).path,
            "edit": rng.choice(_COSE_EDITS),
            "pick": rng.randrange(1 << 16),
        }
    raise AssertionError(op)


# --- application


def apply(data: bytes, recipe: Recipe) -> Applied:
    """*data* mutated by *recipe* (one op, or ``{"ops": [...]}`` in turn)."""
    if "ops" in recipe:
        must, why = False, []
        for step in recipe["ops"]:
            done = apply(data, step)
            data, must = done.data, must or done.must_not_verify
            if done.must_not_verify:
                why.append(done.why)
        return Applied(data, must, "; ".join(why))
    layout = parse(data)
    op = recipe["op"]
    handler = globals().get(f"_op_{op}")
    if handler is None:
        raise Skip(f"unknown op {op}")
    return handler(data, layout, recipe)


def _node(layout: Layout, path: str) -> Node:
    node = layout.nodes.get(path)
    if node is None:
        raise Skip(f"no {path}")
    return node


def _region(layout: Layout, name: str) -> tuple[int, int]:
    region = layout.regions.get(name)
    if region is None:
        raise Skip(f"no {name}")
    return region.start, region.end


def _verdict_for(layout: Layout, start: int, end: int) -> tuple[bool, str]:
    """Whether changing bytes [start, end) must make the clip fail."""
    if layout.touches(layout.hashed, start, end):
        return True, f"bytes {start}..{end} are covered by the hard binding"
    if layout.touches(layout.signed, start, end):
        return True, f"bytes {start}..{end} are signed by the active claim"
    return False, ""


def _is_c2pa_box(data: bytes, node: Node) -> bool:
    return node.kind == b"C2PA" or (node.kind == b"uuid" and data[node.offset + 8 : node.offset + 24] == C2PA_UUID)


def _top_excluded(layout: Layout, data: bytes, node: Node) -> bool:
    """A top-level box the hard binding does not hash."""
    if layout.fmt == "riff":
        return node.kind == b"C2PA"
    return node.kind in _EXCLUDED_TOP or _is_c2pa_box(data, node)


def _op_flip(data: bytes, layout: Layout, r: Recipe) -> Applied:
    start, end = _region(layout, r["region"])
    if end <= start:
        raise Skip("empty region")
    pos = start + r["at"] % (end - start)
    out = bytearray(data)
    out[pos] ^= r["mask"] or 1
    return Applied(bytes(out), *_verdict_for(layout, pos, pos + 1))


def _op_set(data: bytes, layout: Layout, r: Recipe) -> Applied:
    start, end = _region(layout, r["region"])
    if end <= start:
        raise Skip("empty region")
    pos = start + r["at"] % (end - start)
    if data[pos] == r["value"]:
        raise Skip("same byte")
    out = bytearray(data)
    out[pos] = r["value"]
    return Applied(bytes(out), *_verdict_for(layout, pos, pos + 1))


def _op_truncate(data: bytes, layout: Layout, r: Recipe) -> Applied:
    start, end = _region(layout, r["region"])
    cut = start + r["at"] % max(1, end - start)
    must = any(e > cut for s, e in layout.hashed)
    return Applied(data[:cut], must, f"cut at {cut}, before hashed bytes" if must else "")


def _size_field(layout: Layout, node: Node) -> tuple[int, int, str]:
    """(offset, width, struct format) of *node*'s size field."""
    if layout.fmt == "riff" and node.top_level:
        return node.offset + 4, 4, "<I"
    if node.header == 16:
        return node.offset + 8, 8, ">Q"
    return node.offset, 4, ">I"


def _set_size(out: bytearray, layout: Layout, node: Node, size: int) -> None:
    at, width, fmt = _size_field(layout, node)
    if layout.fmt == "riff" and node.top_level:
        size -= 8
    struct.pack_into(fmt, out, at, size % (1 << (8 * width)))


def _op_size(data: bytes, layout: Layout, r: Recipe) -> Applied:
    node = _node(layout, r["node"])
    value = {
        "zero": 0,
        "one": 1,
        "seven": 7,
        "header": node.header,
        "minus1": node.size - 1,
        "plus1": node.size + 1,
        "double": node.size * 2,
        "max32": 0xFFFFFFFF,
        "file": len(data) - node.offset + 8,
        "large": 1 << 40,
    }[r["value"]]
    out = bytearray(data)
    at, width, _ = _size_field(layout, node)
    _set_size(out, layout, node, value)
    if bytes(out) == data:
        raise Skip("same size")
    return Applied(bytes(out), *_verdict_for(layout, at, at + width))


def _op_type(data: bytes, layout: Layout, r: Recipe) -> Applied:
    node = _node(layout, r["node"])
    kind = bytes.fromhex(r["value"])
    at = node.offset + (0 if layout.fmt == "riff" and node.top_level else 4)
    if data[at : at + 4] == kind:
        raise Skip("same type")
    out = bytearray(data)
    out[at : at + 4] = kind
    if node.top_level:
        # changing an excluded box into another excluded one changes nothing
        # hashed; anything else adds or removes hashed content
        new = Node(node.path, kind, node.offset, node.size, node.header)
        still_excluded = _top_excluded(layout, bytes(out), new)
        if _top_excluded(layout, data, node) and still_excluded:
            return Applied(bytes(out), False, "")
        return Applied(bytes(out), True, f"top-level {node.path} becomes {kind!r}: hashed content changes")
    return Applied(bytes(out), *_verdict_for(layout, at, at + 4))


def _ancestors(layout: Layout, node: Node) -> list[Node]:
    parts = node.path.split("/")
    out = []
    for i in range(len(parts) - 1, 1, -1):
        parent = layout.nodes.get("/".join(parts[:i]))
        if parent is not None:
            out.append(parent)
    return out


def _splice(data: bytes, layout: Layout, node: Node, start: int, end: int, new: bytes, *, fix: bool = True) -> bytes:
    """Replace data[start:end] (inside or next to *node*) with *new*, fixing
    the sizes of *node*'s ancestors (and the RIFF header) when *fix*."""
    delta = len(new) - (end - start)
    out = bytearray(data[:start] + new + data[end:])
    if fix:
        for parent in _ancestors(layout, node):
            _set_size(out, layout, parent, parent.size + delta)
        if layout.fmt == "riff":
            struct.pack_into("<I", out, 4, (len(out) - 8) % (1 << 32))
    return bytes(out)


def _insertion(layout: Layout, data: bytes, node: Node, pos: int, kind: bytes | None) -> tuple[bool, str]:
    """Whether inserting a box of *kind* at *pos* next to *node* changes what is protected."""
    if layout.fmt == "riff":
        manifest = layout.nodes.get(layout.manifest_box or "")
        if manifest is None or not (manifest.offset < pos < manifest.end):
            return True, f"insertion at {pos} shifts the bytes the data hash covers"
    if node.top_level and layout.fmt == "bmff":
        if kind is not None and kind not in _EXCLUDED_TOP and kind != b"uuid":
            return True, f"a new top-level {kind!r} box is hashed content"
        return False, ""
    if layout.inside(layout.hashed, pos) or layout.touches(layout.hashed, node.offset, node.end):
        return True, f"insertion at {pos} inside hashed box"
    if layout.inside(layout.signed, pos):
        return True, f"insertion at {pos} inside signed bytes"
    return False, ""


def _op_dup(data: bytes, layout: Layout, r: Recipe) -> Applied:
    node = _node(layout, r["node"])
    copy = data[node.offset : node.end]
    out = _splice(data, layout, node, node.end, node.end, copy)
    return Applied(out, *_insertion(layout, data, node, node.end, node.kind))


def _op_insert(data: bytes, layout: Layout, r: Recipe) -> Applied:
    node = _node(layout, r["node"])
    kind = bytes.fromhex(r["kind"])
    if layout.fmt == "riff" and node.top_level:
        box = kind + struct.pack("<I", r["length"]) + bytes([r["fill"]]) * (r["length"] + (r["length"] & 1))
    else:
        box = struct.pack(">I", 8 + r["length"]) + kind + bytes([r["fill"]]) * r["length"]
    out = _splice(data, layout, node, node.offset, node.offset, box)
    return Applied(out, *_insertion(layout, data, node, node.offset, kind))


def _op_remove(data: bytes, layout: Layout, r: Recipe) -> Applied:
    node = _node(layout, r["node"])
    out = _splice(data, layout, node, node.offset, node.end, b"", fix=r["fix"])
    if node.top_level:
        must = not _top_excluded(layout, data, node)
        return Applied(out, must, f"hashed top-level {node.path} removed" if must else "")
    return Applied(out, *_verdict_for(layout, node.offset, node.end))


def _op_swap(data: bytes, layout: Layout, r: Recipe) -> Applied:
    node = _node(layout, r["node"])
    parent = node.path.rsplit("/", 1)[0]
    siblings = [n for n in layout.nodes.values() if n.path.rsplit("/", 1)[0] == parent]
    after = [n for n in siblings if n.offset == node.end]
    if not after:
        raise Skip("no next sibling")
    other = after[0]
    out = data[: node.offset] + data[other.offset : other.end] + data[node.offset : node.end] + data[other.end :]
    if out == data:
        raise Skip("identical boxes")
    if node.top_level and layout.fmt == "bmff":
        must = not _top_excluded(layout, data, node) and not _top_excluded(layout, data, other)
        return Applied(out, must, "two hashed top-level boxes swapped" if must else "")
    if layout.fmt == "riff" and node.top_level:
        return Applied(out, True, "chunks swapped in the data-hashed range")
    # inside the manifest, boxes are found by label: a new order signs the same bytes
    must = layout.touches(layout.hashed, node.offset, other.end)
    return Applied(out, must, "boxes swapped inside a hashed box" if must else "")


def _op_offset(data: bytes, layout: Layout, r: Recipe) -> Applied:
    node = _node(layout, r["node"])
    start, _ = node.payload
    count = struct.unpack_from(">I", data, start + 4)[0]
    if count == 0:
        raise Skip("empty table")
    width = 8 if node.kind == b"co64" else 4
    at = start + 8 + (r["index"] % count) * width
    if at + width > node.end:
        raise Skip("table shorter than its count")
    old = int.from_bytes(data[at : at + width], "big")
    new = {
        "zero": 0,
        "minus1": old - 1,
        "plus1": old + 1,
        "huge": (1 << (8 * width)) - 1,
        "past_end": len(data) + 1000,
        "negative_delta": max(0, old - 100000),
    }[r["value"]]
    new %= 1 << (8 * width)
    if new == old:
        raise Skip("same offset")
    out = bytearray(data)
    out[at : at + width] = new.to_bytes(width, "big")
    return Applied(bytes(out), *_verdict_for(layout, at, at + width))


# CBOR: edit one value of a decoded payload, re-encode, fix the box sizes.


def _walk_values(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    out = [(path, value)]
    if isinstance(value, cbor2.CBORTag):
        out += _walk_values(value.value, path + ("@tag",))
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, (str, int)):
                out += _walk_values(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _walk_values(item, path + (i,))
    return out


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value.value if key == "@tag" else value[key]
    return value


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    key = path[0]
    if key == "@tag":
        return cbor2.CBORTag(value.tag, _set(value.value, path[1:], new))
    value[key] = _set(value[key], path[1:], new)
    return value


def _delete(value: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return None
    key = path[0]
    if key == "@tag":
        return cbor2.CBORTag(value.tag, _delete(value.value, path[1:]))
    if len(path) == 1:
        del value[key]
        return value
    value[key] = _delete(value[key], path[1:])
    return value


def _deep(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = [value]
    return value


def _op_cbor(data: bytes, layout: Layout, r: Recipe) -> Applied:
    node = _node(layout, r["node"])
    start, end = node.payload
    try:
        value = loads(data[start:end])
    except Exception as exc:  # noqa: BLE001 - an earlier op broke it
        raise Skip(f"not CBOR: {exc}") from None
    spots = _walk_values(value)
    path, current = spots[r["pick"] % len(spots)]
    edit = r["edit"]
    if edit == "value":
        new_value = _CBOR_VALUES[r["value"] % len(_CBOR_VALUES)]
        value = _set(value, path, new_value)
    elif edit == "swap":
        other_path, other = spots[r["with"] % len(spots)]
        if other_path[: len(path)] == path or path[: len(other_path)] == other_path:
            raise Skip("nested swap")
        value = _set(value, path, other)
        value = _set(value, other_path, current)
    elif edit == "delete":
        value = _delete(value, path)
    elif edit == "add":
        target = current if isinstance(current, dict) else None
        if target is None:
            raise Skip("not a map")
        target["fuzz"] = _CBOR_VALUES[r["value"] % len(_CBOR_VALUES)]
    try:
        payload = cbor2.dumps(value)
    except Exception as exc:  # noqa: BLE001
        raise Skip(f"cannot encode: {exc}") from None
    if payload == data[start:end]:
        raise Skip("same CBOR")
    out = _splice(data, layout, node, start, end, payload)
    if node.path.endswith("c2pa.signature/cbor[0]"):
        return Applied(out, *_cose_changed(layout, data[start:end], payload, start, end))
    return Applied(out, *_verdict_for(layout, start, end))


def _cose_changed(layout: Layout, old: bytes, new: bytes, start: int, end: int) -> tuple[bool, str]:
    """A CBOR edit of a claim signature changes signed bytes only when it
    changes the protected header or the signature (or breaks the shape)."""
    if not layout.touches(layout.signed, start, end):
        return False, ""
    try:
        before, after = loads(old), loads(new)
        b = before.value if isinstance(before, cbor2.CBORTag) else before
        a = after.value if isinstance(after, cbor2.CBORTag) else after
        same = (
            isinstance(a, list)
            and len(a) == 4
            and isinstance(after, cbor2.CBORTag)
            and after.tag == 18
            and a[0] == b[0]
            and a[3] == b[3]
        )
    except Exception:  # noqa: BLE001
        same = False
    return (False, "") if same else (True, "the active claim's COSE protected header or signature changed")


def _op_cose(data: bytes, layout: Layout, r: Recipe) -> Applied:
    node = _node(layout, r["node"])
    start, end = node.payload
    try:
        cose = loads(data[start:end])
        tagged = isinstance(cose, cbor2.CBORTag)
        items = list(cose.value if tagged else cose)
        protected = loads(items[0]) if items[0] else {}
    except Exception as exc:  # noqa: BLE001
        raise Skip(f"not COSE: {exc}") from None
    if not isinstance(protected, dict) or len(items) != 4:
        raise Skip("not a COSE_Sign1")
    pick = r["pick"]
    edit = r["edit"]
    chain = protected.get(33)
    certs = [chain] if isinstance(chain, bytes) else list(chain or [])
    unprotected = items[1] if isinstance(items[1], dict) else {}
    touched_protected = True
    if edit == "alg":
        protected[1] = [-7, -35, -36, -37, -8, 999, "ES256", None, -65535][pick % 9]
    elif edit in ("x5chain_garbage", "x5chain_trunc", "x5chain_flip") and certs:
        i = pick % len(certs)
        cert = bytearray(certs[i])
        if edit == "x5chain_garbage":
            cert = bytearray(random.Random(pick).randbytes(len(cert)))
        elif edit == "x5chain_trunc":
            cert = cert[: pick % len(cert)]
        else:
            cert[pick % len(cert)] ^= 1 << (pick % 8)
        certs[i] = bytes(cert)
        protected[33] = certs if isinstance(chain, list) else certs[0]
    elif edit == "x5chain_empty":
        protected[33] = [[], b"", "", 0][pick % 4]
    elif edit == "drop_x5chain":
        protected.pop(33, None)
    elif edit == "move_x5chain":
        unprotected[33] = protected.pop(33, None)
    elif edit == "deep":
        protected[33] = _deep(200 + pick % 2000)
    else:
        touched_protected = False
    if edit == "unprotected_junk":
        unprotected[[33, "sigTst", "sigTst2", "pad", 1, "rVals"][pick % 6]] = _CBOR_VALUES[pick % len(_CBOR_VALUES)]
    elif edit == "pad_huge":
        unprotected["pad"] = b"\0" * (1 << 16)
    items[0] = cbor2.dumps(protected) if touched_protected else items[0]
    items[1] = unprotected
    signature = items[3] if isinstance(items[3], bytes) else b""
    if edit == "sig_trunc":
        items[3] = signature[: pick % max(1, len(signature))]
    elif edit == "sig_extend":
        items[3] = signature + b"\0" * (1 + pick % 64)
    if edit == "items":
        items = items[:3] if pick % 2 else items + [b""]
    payload = cbor2.dumps(items if edit == "untag" or not tagged else cbor2.CBORTag(18, items))
    if payload == data[start:end]:
        raise Skip("same COSE")
    out = _splice(data, layout, node, start, end, payload)
    active = layout.touches(layout.signed, start, end)
    # an untagged COSE_Sign1 may legitimately still verify; the rest changes signed bytes
    must = active and (touched_protected or edit in ("sig_trunc", "sig_extend", "items"))
    return Applied(out, must, f"the active claim's COSE {edit}" if must else "")


def describe(recipe: Recipe) -> str:
    """A short one-line name for a recipe."""
    steps = recipe.get("ops", [recipe])
    return " + ".join(
        f"{s['op']}({s.get('region') or s.get('node')}{', ' + str(s['edit']) if 'edit' in s else ''})" for s in steps
    )
