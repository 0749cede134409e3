import contextlib
import io
import os
import runpy
import signal
import sys
import unittest

from helpers import ROOT, events_of, temp_dir

from frugal_trainer.protocol import classify_line

EXAMPLE = os.path.join(ROOT, "examples", "own_loop.py")


def run_example(*args):
    """Runs examples/own_loop.py in this process; returns (exit code, events)."""
    out = io.StringIO()
    saved_argv, saved_handlers = sys.argv, {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGUSR1)}
    sys.argv = [EXAMPLE] + list(args)
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(EXAMPLE, run_name="__main__")
        code = 0
    except SystemExit as e:
        code = e.code
    finally:
        sys.argv = saved_argv
        for s, h in saved_handlers.items():
            signal.signal(s, h)
    for line in out.getvalue().splitlines():
        assert classify_line(line)[0] == "event", line
    return code, events_of(out.getvalue())


class LibraryTest(unittest.TestCase):
    """A user's own loop with Checkpointer, Progress and StopSignal (examples/own_loop.py)."""

    def test_the_example_loop_resumes_from_its_last_checkpoint_to_identical_weights(self):
        code, straight = run_example("--checkpoint-dir", temp_dir(self), "--steps", "30")
        self.assertEqual(code, 0)
        d = temp_dir(self)
        code, first = run_example("--checkpoint-dir", d, "--steps", "17", "--every", "5")
        self.assertEqual(code, 0)
        code, second = run_example("--checkpoint-dir", d, "--steps", "30", "--every", "5")
        self.assertEqual(code, 0)
        self.assertEqual(second[0]["resumedFromStep"], 15)
        self.assertEqual(second[-1]["weightsSha256"], straight[-1]["weightsSha256"])
        self.assertEqual([e["step"] for e in first if e["event"] == "checkpoint"], [5, 10, 15])


if __name__ == "__main__":
    unittest.main()
