"""The trainer protocol: JSON objects written one per stdout line (see ``src/protocol.ts`` for the schema
the runner decodes with). ``validate_event`` mirrors that schema so the Python tests can prove the two
agree on the shared fixture ``test/fixtures/protocol.jsonl``."""

import re

EXIT_COMPLETED = 0
# BSD EX_TEMPFAIL: interrupted after writing a final checkpoint; run the same command again to resume.
EXIT_INTERRUPTED = 75
# Bad arguments or configuration (same meaning as the frugal CLI's exit code 2).
EXIT_INVALID_INPUT = 2
# Every checkpoint in the checkpoint directory failed verification (BSD EX_DATAERR): nothing was trained, the
# ``checkpoints-invalid`` event names each file and the check it failed. Starting over is the caller's choice.
EXIT_CHECKPOINTS_INVALID = 65

INTERRUPT_REASONS = ("SIGTERM", "SIGUSR1", "spot-notice")

_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _is_count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and v not in (float("inf"), float("-inf"))


def _is_non_negative(v):
    return _is_number(v) and v >= 0


def _is_string(v):
    return isinstance(v, str)


def _nullable(check):
    return lambda v: v is None or check(v)


def _one_of(values):
    return lambda v: v in values


_TIME = (lambda v: isinstance(v, str) and _ISO_TIME.match(v) is not None, "an ISO-8601 timestamp")
_COUNT = (_is_count, "a non-negative integer")
_NN = (_is_non_negative, "a finite number >= 0")
_HEX = (lambda v: isinstance(v, str) and _SHA256.match(v) is not None, "64 lowercase hex digits")


def _is_rejection(v):
    return (isinstance(v, dict) and isinstance(v.get("path"), str) and _is_count(v.get("step"))
            and isinstance(v.get("reason"), str))


_REJECTED = (lambda v: isinstance(v, list) and len(v) > 0 and all(_is_rejection(x) for x in v),
             "a non-empty list of {path, step, reason}")

# event -> {field: (check, expectation, required)}
SCHEMA = {
    "started": {
        "time": _TIME + (True,),
        "step": _COUNT + (True,),
        "resumedFromStep": (_nullable(_is_count), "null or a non-negative integer", True),
        "tokensSeen": _COUNT + (True,),
        "device": (_is_string, "a string", True),
        "precision": (_is_string, "a string", True),
        "pid": _COUNT + (True,),
        "maxSteps": _COUNT + (False,),
        "parameters": _COUNT + (False,),
        "flopsPerToken": _NN + (False,),
        "worldSize": (lambda v: _is_count(v) and v >= 1, "an integer >= 1", False),
        "parallelism": (_is_string, "a string", False),
        "fallbacks": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "a list of strings",
                      False),
    },
    "step": {
        "time": _TIME + (True,),
        "step": _COUNT + (True,),
        "loss": (_nullable(_is_number), "null or a finite number", True),
        "tokensPerSecond": _NN + (True,),
        "tokensSeen": _COUNT + (True,),
        "gpuUtilization": (_nullable(_is_non_negative), "null or a number >= 0", True),
        "gpuMemoryGiB": (_nullable(_is_non_negative), "null or a number >= 0", True),
        "learningRate": _NN + (False,),
        "mfu": (_nullable(_is_non_negative), "null or a number >= 0", False),
    },
    "checkpoint": {
        "time": _TIME + (True,),
        "step": _COUNT + (True,),
        "path": (_is_string, "a string", True),
        "bytes": _COUNT + (True,),
        "blockingSeconds": _NN + (True,),
        "totalSeconds": _NN + (True,),
        "sha256": _HEX + (False,),
    },
    "interrupted": {
        "time": _TIME + (True,),
        "step": _COUNT + (True,),
        "reason": (_one_of(INTERRUPT_REASONS), "one of " + ", ".join(INTERRUPT_REASONS), True),
        "checkpointStep": (_nullable(_is_count), "null or a non-negative integer", True),
    },
    "completed": {
        "time": _TIME + (True,),
        "step": _COUNT + (True,),
        "tokensSeen": _COUNT + (True,),
        "weightsSha256": _HEX + (True,),
        "tokensPerSecond": _NN + (False,),
        "mfu": (_nullable(_is_non_negative), "null or a number >= 0", False),
        "precision": (_is_string, "a string", False),
        "device": (_is_string, "a string", False),
    },
    "checkpoints-invalid": {
        "time": _TIME + (True,),
        "checkpointDir": (_is_string, "a string", True),
        "rejected": _REJECTED + (True,),
    },
}


def validate_event(obj):
    """Problems with a decoded protocol object, as ``field: expected ...`` strings; empty when valid."""
    if not isinstance(obj, dict):
        return ["(line): expected a JSON object"]
    kind = obj.get("event")
    fields = SCHEMA.get(kind) if isinstance(kind, str) else None
    if fields is None:
        return ["event: expected one of " + ", ".join(SCHEMA)]
    problems = []
    for name, (check, expected, required) in fields.items():
        if name not in obj:
            if required:
                problems.append("%s: expected %s, but it is missing" % (name, expected))
        elif not check(obj[name]):
            problems.append("%s: expected %s, got %r" % (name, expected, obj[name]))
    return problems


_EVENT_KIND = re.compile(r'^\s*\{.*"event"\s*:\s*"(started|step|checkpoint|interrupted|completed|checkpoints-invalid)"')


def classify_line(line):
    """``("event", obj)``, ``("not-protocol", None)`` or ``("malformed", problems)`` for one stdout line,
    with the same rules as ``classifyEventLine`` in ``src/protocol.ts``."""
    import json

    text = line.strip()
    try:
        obj = json.loads(text, parse_constant=lambda c: float("nan"))
    except ValueError:
        obj = None
    if isinstance(obj, dict) and isinstance(obj.get("event"), str) and obj["event"] in SCHEMA:
        problems = validate_event(obj)
        return ("event", obj) if not problems else ("malformed", problems)
    if _EVENT_KIND.match(line):
        return ("malformed", ["(line): expected a JSON object"])
    return ("not-protocol", None)
