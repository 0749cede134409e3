"""The checkpoint file format: a JSON header describing a nested state (dicts, lists, tuples, scalars,
strings) whose tensors are stored as raw little-endian bytes after it.

    b"FRUGALCK" | u32 version | u64 header length | header JSON | padding | tensor bytes (64-byte aligned)

Raw bytes rather than ``torch.save`` pickles: writing is plain ``write`` calls on host buffers that release
the GIL (the training thread keeps running while a background thread writes), loading needs no pickle,
and the layout is the same across torch versions (1.13 on Debian to 2.x)."""

import base64
import json
import struct

import torch

MAGIC = b"FRUGALCK"
VERSION = 1
ALIGN = 64
_PREFIX = struct.Struct("<8sIQ")

# Tensors are written through a same-width integer view, which every torch version can hand to numpy
# (bfloat16 has no numpy dtype).
_INT_OF_WIDTH = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
_DTYPES = {str(d).replace("torch.", ""): d for d in (
    torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int8, torch.uint8, torch.int16,
    torch.int32, torch.int64, torch.bool)}


def _align(n):
    return (n + ALIGN - 1) // ALIGN * ALIGN


def flatten(state):
    """(skeleton, tensors): the state with each tensor replaced by its index in ``tensors``. numpy arrays
    (numpy's RNG state) are carried as tensors too and come back as numpy arrays."""
    tensors = []

    def enc(v):
        if isinstance(v, torch.Tensor):
            tensors.append(v)
            return {"T": len(tensors) - 1}
        if type(v).__module__ == "numpy" and hasattr(v, "dtype") and hasattr(v, "shape"):
            if v.shape == ():  # numpy scalar
                return {"v": v.item()}
            raw = v.copy(order="C").reshape(-1).view("uint8")  # any numpy dtype, as bytes
            tensors.append(torch.from_numpy(raw))
            return {"N": len(tensors) - 1, "dtype": v.dtype.str, "shape": list(v.shape)}
        if isinstance(v, dict):
            if all(isinstance(k, str) for k in v):
                return {"d": {k: enc(x) for k, x in v.items()}}
            return {"m": [[enc(k), enc(x)] for k, x in v.items()]}
        if isinstance(v, tuple):
            return {"t": [enc(x) for x in v]}
        if isinstance(v, list):
            return {"l": [enc(x) for x in v]}
        if isinstance(v, bytes):
            return {"b": base64.b64encode(v).decode("ascii")}
        if v is None or isinstance(v, (bool, int, float, str)):
            return {"v": v}
        raise TypeError("cannot checkpoint a value of type %s" % type(v).__name__)

    return enc(state), tensors


def unflatten(skeleton, tensors):
    def dec(node):
        if "T" in node:
            return tensors[node["T"]]
        if "N" in node:
            import numpy

            raw = tensors[node["N"]].numpy().tobytes()
            return numpy.frombuffer(raw, dtype=node["dtype"]).reshape(node["shape"]).copy()
        if "d" in node:
            return {k: dec(x) for k, x in node["d"].items()}
        if "m" in node:
            return {dec(k): dec(x) for k, x in node["m"]}
        if "t" in node:
            return tuple(dec(x) for x in node["t"])
        if "l" in node:
            return [dec(x) for x in node["l"]]
        if "b" in node:
            return base64.b64decode(node["b"])
        return node["v"]

    return dec(skeleton)


def raw_bytes(t):
    """A host tensor's bytes as a memoryview, without a copy when it is contiguous."""
    flat = t.detach().contiguous().reshape(-1)
    if flat.dtype == torch.bool:
        flat = flat.view(torch.uint8)
    elif flat.dtype not in (torch.uint8, torch.int8):
        flat = flat.view(_INT_OF_WIDTH[flat.element_size()])
    return memoryview(flat.numpy()).cast("B")


def header_bytes(skeleton, tensors, meta):
    entries, offset = [], 0
    for t in tensors:
        nbytes = t.numel() * t.element_size()
        entries.append({"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                        "offset": offset, "nbytes": nbytes})
        offset = _align(offset + nbytes)
    header = json.dumps({"meta": meta, "state": skeleton, "tensors": entries}, separators=(",", ":")).encode()
    data_start = _align(_PREFIX.size + len(header))
    prefix = _PREFIX.pack(MAGIC, VERSION, len(header)) + header
    return prefix + b"\0" * (data_start - len(prefix)), entries


def write_payload(f, skeleton, tensors, meta, hasher):
    """Writes the whole file to ``f``, feeding every byte to ``hasher``; returns the size."""
    head, entries = header_bytes(skeleton, tensors, meta)
    f.write(head)
    hasher.update(head)
    written = len(head)
    for t, e in zip(tensors, entries):
        pad = len(head) + e["offset"] - written
        if pad:
            f.write(b"\0" * pad)
            hasher.update(b"\0" * pad)
            written += pad
        mv = raw_bytes(t)
        f.write(mv)
        hasher.update(mv)
        written += len(mv)
    return written


class FormatError(ValueError):
    pass


def read_payload(buf):
    """(meta, state) from a whole checkpoint file in memory; tensors share ``buf`` (no copy)."""
    if len(buf) < _PREFIX.size:
        raise FormatError("file is shorter than its header")
    magic, version, header_len = _PREFIX.unpack_from(buf, 0)
    if magic != MAGIC or version != VERSION:
        raise FormatError("not a frugal checkpoint (magic %r, version %d)" % (magic, version))
    if _PREFIX.size + header_len > len(buf):
        raise FormatError("header runs past the end of the file")
    header = json.loads(bytes(buf[_PREFIX.size:_PREFIX.size + header_len]).decode())
    data_start = _align(_PREFIX.size + header_len)
    tensors = []
    for e in header["tensors"]:
        dtype = _DTYPES[e["dtype"]]
        start = data_start + e["offset"]
        if start + e["nbytes"] > len(buf):
            raise FormatError("tensor data runs past the end of the file")
        if e["nbytes"] == 0:
            tensors.append(torch.empty(e["shape"], dtype=dtype))
            continue
        width = torch.empty((), dtype=dtype).element_size()
        carrier = torch.uint8 if dtype in (torch.bool, torch.uint8, torch.int8) else _INT_OF_WIDTH[width]
        flat = torch.frombuffer(buf, dtype=carrier, count=e["nbytes"] // width, offset=start)
        if dtype != carrier:
            flat = flat.view(dtype)
        tensors.append(flat.view(e["shape"]))
    return header["meta"], unflatten(header["state"], tensors)
