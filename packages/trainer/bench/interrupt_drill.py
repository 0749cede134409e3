"""SIGTERM drill of the real command on one GPU (or CPU): a straight run, then the same run stopped by
SIGTERM once and resumed; prints both weight hashes, the time from the signal to exit 75, and the
checkpoint events.

    python3 packages/trainer/bench/interrupt_drill.py --at-step 12 -- --layers 12 --hidden-size 1024 ...
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def start(args):
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "frugal_trainer"] + args, stdout=subprocess.PIPE, text=True,
                            env=env)


def events(lines):
    return [json.loads(line) for line in lines if line.startswith("{")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--at-step", type=int, default=12)
    ap.add_argument("trainer_args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    targs = [x for x in a.trainer_args if x != "--"]
    straight = start(targs)
    out, _ = straight.communicate()
    ref = events(out.splitlines())[-1]
    print("straight: exit %d, %s" % (straight.returncode, json.dumps(ref)))

    d = tempfile.mkdtemp(prefix="frugal-drill-", dir=os.getcwd())
    try:
        p = start(targs + ["--checkpoint-dir", d])
        seen = []
        for line in p.stdout:
            seen.append(line)
            if line.startswith('{"event":"step"') and json.loads(line)["step"] >= a.at_step:
                break
        t0 = time.perf_counter()
        p.send_signal(signal.SIGTERM)
        rest, _ = p.communicate()
        stop_s = time.perf_counter() - t0
        first = events(seen + rest.splitlines())
        print("interrupted: exit %d after %.2f s from SIGTERM" % (p.returncode, stop_s))
        for e in first:
            if e["event"] in ("checkpoint", "interrupted"):
                print("  " + json.dumps(e))
        q = start(targs + ["--checkpoint-dir", d])
        out, _ = q.communicate()
        second = events(out.splitlines())
        print("resumed: exit %d, %s" % (q.returncode, json.dumps(second[0])))
        done = second[-1]
        print("  " + json.dumps(done))
        same = done.get("weightsSha256") == ref.get("weightsSha256")
        print("identical weights: %s (%s)" % (same, done.get("weightsSha256")))
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
