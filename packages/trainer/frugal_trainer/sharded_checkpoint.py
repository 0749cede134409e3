"""Checkpoints of a job of several processes: a directory that every rank writes its shard into, complete
only once rank 0 has written the manifest, last, naming every shard with its size and sha256.

    step-00000040/
        rank-00000-of-00004.ckpt     each in the frugal checkpoint format (serialization.py)
        rank-00001-of-00004.ckpt
        ...
        manifest.json                {"format": "frugal-sharded-1", "step": 40, "worldSize": 4, "shards": [...]}

What a shard holds: a share of the state every rank has alike (weights, LR schedule, loss scaler, data
cursor: each tensor written once, by the rank it is spread to, so the ranks write in parallel); the
optimizer states the rank owns (all of them spread likewise under DDP, its own partition under ZeRO-1);
and its own RNG state. Every optimizer state is stored whole, keyed by the parameter's index in the
optimizer, so the checkpoint loads on any number of processes. A shard that is missing, torn or altered
makes the whole checkpoint invalid, and resume takes the previous one.

Loading is collective: rank 0 lists the candidates (these directories and single-process
``step-N.ckpt`` files, newest first), every rank reads and verifies the next one, and they move on
together until every rank has read one."""

import dataclasses
import glob
import hashlib
import json
import os
import re
import shutil
import time

from . import serialization
from .checkpoint import Checkpointer, CheckpointInfo, _fsync_dir, _write_atomically, verify_file

FORMAT = "frugal-sharded-1"
MANIFEST = "manifest.json"
_DIR = re.compile(r"^step-(\d{8,})$")
_FILE = re.compile(r"^step-(\d{8,})\.ckpt$")


def shard_name(rank, world_size):
    return "rank-%05d-of-%05d.ckpt" % (rank, world_size)


def spread(sizes, world_size):
    """The rank that writes each item: largest first onto the rank with the fewest bytes so far (ties to the
    lowest rank), so every rank computes the same owners and each writes about 1/world_size. Pure."""
    loads = [0] * world_size
    owners = [0] * len(sizes)
    for i in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
        rank = min(range(world_size), key=lambda r: (loads[r], r))
        owners[i] = rank
        loads[rank] += sizes[i]
    return owners


def _nbytes(value):
    _, tensors = serialization.flatten(value)
    return sum(t.numel() * t.element_size() for t in tensors)


class ShardedCheckpointer(Checkpointer):
    """``save_parts`` on every rank at the same step; rank 0 reports the checkpoint (``on_written``) once
    the manifest is durable. Asynchronous like ``Checkpointer``: the save returns after the copy to host
    memory, and the shard write, the exchange of checksums and the manifest happen in a writer thread,
    over the checkpoint process group."""

    def __init__(self, directory, dist, keep=3, asynchronous=True, on_written=None, log=None):
        self.dist = dist
        super().__init__(directory, keep=keep, asynchronous=asynchronous,
                         on_written=on_written if dist.is_main else None, log=log)
        mine = "rank-%05d-of-*.ckpt.tmp.*" % dist.rank
        stale = glob.glob(os.path.join(self.directory, "step-*", mine))
        if dist.is_main:
            stale += glob.glob(os.path.join(self.directory, "step-*", MANIFEST + ".tmp.*"))
        for path in stale:
            try:
                os.unlink(path)
            except OSError:
                pass

    def save_parts(self, step, replicated, optimizer_states, own, replicated_everywhere=True,
                   states_everywhere=True, reshardable=True):
        """``replicated``: state alike on every rank (or, with ``replicated_everywhere=False``, present on
        rank 0 only); ``optimizer_states``: {parameter index: state} this rank holds (alike on every rank
        with ``states_everywhere``); ``own``: this rank's alone (its RNG). Returns the seconds it blocked."""
        shard, meta = self._shard(replicated, optimizer_states, own, replicated_everywhere, states_everywhere,
                                  reshardable)
        return self.save(step, shard, meta)

    def prepare_parts(self, replicated, optimizer_states, own, replicated_everywhere=True, states_everywhere=True,
                      reshardable=True):
        """Allocates (pins, on CUDA) the host buffers for shards of this shape now, outside the first save."""
        shard, _ = self._shard(replicated, optimizer_states, own, replicated_everywhere, states_everywhere,
                               reshardable)
        self.prepare(shard)

    def _shard(self, replicated, optimizer_states, own, replicated_everywhere, states_everywhere, reshardable):
        """(what this rank writes, its header meta)."""
        d = self.dist
        skeleton, tensors = serialization.flatten(replicated)
        if replicated_everywhere:
            owners = spread([t.numel() * t.element_size() for t in tensors], d.world_size)
        else:
            owners = [0] * len(tensors)
        shard = {
            "replicated": {str(i): t for i, t in enumerate(tensors) if owners[i] == d.rank},
            "optimizerStates": optimizer_states,
            "own": own,
        }
        if states_everywhere:
            keys = sorted(optimizer_states)
            state_owners = spread([_nbytes(optimizer_states[k]) for k in keys], d.world_size)
            shard["optimizerStates"] = {k: optimizer_states[k] for k, o in zip(keys, state_owners) if o == d.rank}
        meta = {"rank": d.rank, "worldSize": d.world_size, "reshardable": bool(reshardable),
                "tensors": len(tensors)}
        if d.is_main:
            meta["skeleton"] = skeleton
        return shard, meta

    def _write(self, step, skeleton, buffers, meta, t0, blocking):
        d = self.dist
        folder = os.path.join(self.directory, "step-%08d" % step)
        os.makedirs(folder, exist_ok=True)
        name = shard_name(d.rank, d.world_size)
        report, failure = {"rank": d.rank, "file": name}, None
        try:
            hasher = hashlib.sha256()
            nbytes = _write_atomically(os.path.join(folder, name),
                                       lambda f: serialization.write_payload(f, skeleton, buffers, meta, hasher))
            report.update(bytes=nbytes, sha256=hasher.hexdigest())
        except Exception as e:
            report["error"], failure = "%s: %s" % (type(e).__name__, e), e
        # Every rank reports, failed or not, so rank 0 never waits for a shard that will not come.
        reports = d.gather_to_main(report)
        if failure is not None:
            raise failure
        if not d.is_main:
            self.last = CheckpointInfo(step, folder, report["bytes"], report["sha256"], blocking or 0.0,
                                       time.perf_counter() - t0)
            return
        failed = ["rank %d: %s" % (r["rank"], r["error"]) for r in reports if "error" in r]
        if failed:
            raise OSError("checkpoint at step %d is incomplete (no manifest written): %s" % (step, "; ".join(failed)))
        manifest = {"format": FORMAT, "step": int(step), "worldSize": d.world_size,
                    "reshardable": bool(meta.get("reshardable", True)),
                    "shards": [{k: r[k] for k in ("rank", "file", "bytes", "sha256")} for r in reports]}
        text = (json.dumps(manifest, indent=1) + "\n").encode()
        _fsync_dir(folder)  # the shards' renames are durable before the manifest that vouches for them
        _write_atomically(os.path.join(folder, MANIFEST), lambda f: f.write(text))
        _fsync_dir(folder)
        total = sum(r["bytes"] for r in reports) + len(text)
        self.last = CheckpointInfo(step, folder, total, hashlib.sha256(text).hexdigest(), blocking or 0.0,
                                   time.perf_counter() - t0)
        self._prune()

    def _prune(self):
        """Keeps the newest ``keep`` complete checkpoints; removes older ones, and incomplete ones older than
        the newest complete one (a newer incomplete one may be another rank's write in progress)."""
        folders = [(step, path) for step, path, kind in list_candidates(self.directory) if kind == "sharded"]
        complete = [f for f in folders if os.path.exists(os.path.join(f[1], MANIFEST))]
        kept = complete[:self.keep]
        if not kept:
            return
        newest, oldest_kept = kept[0][0], kept[-1][0]
        for folder in folders:
            is_complete = folder in complete
            if folder not in kept and (folder[0] < oldest_kept or (not is_complete and folder[0] < newest)):
                shutil.rmtree(folder[1], ignore_errors=True)


@dataclasses.dataclass
class Loaded:
    """A verified checkpoint: ``state`` as every rank had it (for the reference trainer: model, optimizer
    param groups, scheduler, scaler, data, step, ...), ``optimizer_states`` {parameter index: state} merged
    from every shard, ``rngs[r]`` the RNG state of saved rank ``r``."""
    step: int
    path: str
    state: dict
    optimizer_states: dict
    rngs: list
    world_size: int
    reshardable: bool


def list_candidates(directory):
    """[(step, path, kind)] newest first, kind ``file`` (single process) or ``sharded`` (a directory)."""
    found = []
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    for name in names:
        m = _FILE.match(name) or _DIR.match(name)
        if m:
            path = os.path.join(directory, name)
            kind = "file" if name.endswith(".ckpt") else "sharded"
            if kind == "sharded" and not os.path.isdir(path):
                continue
            found.append((int(m.group(1)), path, kind))
    return sorted(found, key=lambda c: (c[0], c[2] == "sharded"), reverse=True)


def _read_verified(path, expected_sha256, expected_bytes=None):
    size = os.path.getsize(path)
    if expected_bytes is not None and size != expected_bytes:
        raise ValueError("%s has %d bytes, the manifest says %d (torn or truncated)" % (os.path.basename(path), size,
                                                                                         expected_bytes))
    buf = bytearray(size)
    with open(path, "rb") as f:
        got = f.readinto(buf)
    if got != size or hashlib.sha256(buf).hexdigest() != expected_sha256:
        raise ValueError("%s does not match its checksum (torn, truncated or altered)" % os.path.basename(path))
    return buf


def read_file_checkpoint(step, path):
    """A single-process checkpoint (``step-N.ckpt``), as one shard of a world of one."""
    _, state = serialization.read_payload(verify_file(path))
    rng = state.pop("rng", None)
    optimizer = state.get("optimizer")
    states = optimizer.get("state", {}) if isinstance(optimizer, dict) else {}
    return Loaded(step, path, state, states, [rng], 1, True)


def read_sharded(step, path):
    try:
        with open(os.path.join(path, MANIFEST), "rb") as f:
            manifest = json.loads(f.read().decode())
    except OSError:
        raise ValueError("no manifest (incomplete: not every rank finished its shard)")
    except ValueError as e:
        raise ValueError("unreadable manifest: %s" % e)
    if manifest.get("format") != FORMAT:
        raise ValueError("manifest format %r, expected %r" % (manifest.get("format"), FORMAT))
    world_size = int(manifest["worldSize"])
    shards = sorted(manifest["shards"], key=lambda s: s["rank"])
    if [s["rank"] for s in shards] != list(range(world_size)):
        raise ValueError("manifest lists ranks %s for world size %d" % ([s["rank"] for s in shards], world_size))
    tensors, states, rngs, skeleton, count = {}, {}, [None] * world_size, None, None
    for s in shards:
        buf = _read_verified(os.path.join(path, s["file"]), s["sha256"], s["bytes"])
        meta, shard = serialization.read_payload(buf)
        tensors.update({int(i): t for i, t in shard["replicated"].items()})
        states.update(shard["optimizerStates"])
        rngs[s["rank"]] = shard["own"].get("rng")
        if "skeleton" in meta:
            skeleton, count = meta["skeleton"], meta["tensors"]
    if skeleton is None or sorted(tensors) != list(range(count)):
        raise ValueError("the shards do not hold every tensor of the state")
    state = serialization.unflatten(skeleton, [tensors[i] for i in range(count)])
    return Loaded(step, path, state, states, rngs, world_size, bool(manifest.get("reshardable", True)))


def is_complete(path, kind):
    """Whether the writer finished the checkpoint: its checksum sidecar (a file) or its manifest (a directory)
    exists. One without was cut short before it was ever reported durable; one with it that fails verification
    is damage (torn, truncated, altered after it was written)."""
    return os.path.exists(path + ".sha256") if kind == "file" else os.path.exists(os.path.join(path, MANIFEST))


def load_latest_verified(directory, dist, log):
    """(the newest checkpoint every rank could read and verify, or None; the complete checkpoints passed over,
    newest first, as [{path, step, reason}]). Checkpoints cut short before completion are skipped and not listed."""
    candidates = dist.broadcast_object(list_candidates(directory) if dist.is_main else None)
    rejected = []
    for step, path, kind in candidates:
        try:
            loaded, reason = (read_file_checkpoint if kind == "file" else read_sharded)(step, path), None
        except (OSError, ValueError, KeyError, TypeError) as e:
            loaded, reason = None, str(e)
        if dist.all_min([0 if loaded is None else 1])[0] == 1:
            return loaded, rejected
        reasons = dist.gather_to_main(reason)
        if dist.is_main:
            failed = [(r, why) for r, why in enumerate(reasons) if why is not None]
            why = failed[0][1] if len(failed) == 1 and failed[0][0] == 0 else "; ".join(
                "rank %d: %s" % (r, w) for r, w in failed) or "another rank could not read it"
            log("skipping checkpoint %s: %s" % (path, why))
            if is_complete(path, kind):
                rejected.append({"path": path, "step": step, "reason": why})
    return None, dist.broadcast_object(rejected if dist.is_main else None)


def load_latest_agreed(directory, dist, log):
    """The newest checkpoint every rank could read and verify (the same one on every rank), or None."""
    return load_latest_verified(directory, dist, log)[0]


def set_aside(directory, dist, stamp):
    """Moves every checkpoint in ``directory`` (and its sidecar) into ``directory/invalid-<stamp>/`` on rank 0,
    so a run that starts over neither loads nor prunes by them; collective. Returns the folder."""
    folder = os.path.join(directory, "invalid-%s" % stamp)
    if dist.is_main:
        os.makedirs(folder, exist_ok=True)
        for _, path, kind in list_candidates(directory):
            for p in (path, path + ".sha256") if kind == "file" else (path,):
                if os.path.exists(p):
                    os.replace(p, os.path.join(folder, os.path.basename(p)))
        _fsync_dir(directory)
    dist.barrier()
    return folder


__all__ = ["ShardedCheckpointer", "Loaded", "list_candidates", "load_latest_agreed", "load_latest_verified",
           "is_complete", "set_aside", "read_sharded", "spread",
           "shard_name", "FORMAT", "MANIFEST"]
