"""Several processes under torchrun (gloo on CPU): the real command, real signals, checkpoints on disk.

Each run trains the tiny GPT of helpers.py for 20 steps; ``--step-delay-seconds`` slows the steps so a
signal lands mid-run."""

import json
import os
import signal
import tempfile
import unittest

from helpers import ROOT, TINY_FLAGS, events_of, rank_pid, temp_dir, torchrun_process

from frugal_trainer.protocol import EXIT_COMPLETED, EXIT_INTERRUPTED, EXIT_INVALID_INPUT, classify_line
from frugal_trainer.sharded_checkpoint import MANIFEST

SLOW = ["--step-delay-seconds", "0.1"]


class Attempt:
    """One torchrun launch: its protocol events as they come, its ranks, its end."""

    def __init__(self, test, processes, args, env=None, script=None):
        self.test = test
        self._stderr = tempfile.TemporaryFile(mode="w+")
        test.addCleanup(self._stderr.close)
        self.proc = torchrun_process(processes, args, env=env, stderr=self._stderr, script=script)
        self.lines = []

    def until_step(self, step):
        for line in self.proc.stdout:
            self.lines.append(line)
            obj = json.loads(line) if line.startswith("{") else {}
            if obj.get("event") == "step" and obj["step"] >= step:
                return obj["step"]
        self.test.fail("the job ended before step %d: %s" % (step, self.stderr()))

    def signal_rank(self, rank, signum):
        os.kill(rank_pid(self.proc.pid, rank), signum)

    def stderr(self):
        self._stderr.seek(0)
        return self._stderr.read()

    def finish(self, timeout=120):
        out, _ = self.proc.communicate(timeout=timeout)
        self.lines.append(out)
        events = events_of("".join(self.lines))
        for e in events:
            self.test.assertEqual(classify_line(json.dumps(e))[0], "event", e)
        return self.proc.returncode, events


def of(events, kind):
    return [e for e in events if e["event"] == kind]


def complete(test, processes, args, env=None):
    code, events = Attempt(test, processes, args, env).finish()
    test.assertEqual(code, EXIT_COMPLETED, events)
    return events


def manifest_of(directory, step):
    with open(os.path.join(directory, "step-%08d" % step, MANIFEST)) as f:
        return json.load(f)


class TwoProcessesTest(unittest.TestCase):
    def test_sigterm_to_one_rank_stops_every_rank_at_one_checkpoint_and_a_torn_shard_falls_back(self):
        straight = complete(self, 2, TINY_FLAGS)
        started = of(straight, "started")[0]
        self.assertEqual((started["worldSize"], started["parallelism"]), (2, "ddp"))
        reference = of(straight, "completed")[0]
        # Two processes each take 2 micro-batches of 2 sequences of 16 tokens per step.
        self.assertEqual(reference["tokensSeen"], 20 * 2 * 2 * 2 * 16)

        d = temp_dir(self)
        args = TINY_FLAGS + ["--checkpoint-dir", d, "--checkpoint-every-steps", "4"] + SLOW
        first = Attempt(self, 2, args)
        first.until_step(6)
        first.signal_rank(1, signal.SIGTERM)  # one rank only: the others learn it at the next step
        code, events = first.finish()
        self.assertEqual(code, EXIT_INTERRUPTED, first.stderr())
        [interrupted] = of(events, "interrupted")
        at = interrupted["step"]
        self.assertEqual((interrupted["reason"], interrupted["checkpointStep"]), ("SIGTERM", at))
        self.assertEqual(of(events, "step")[-1]["step"], at)
        self.assertEqual(of(events, "checkpoint")[-1]["step"], at)
        self.assertEqual(len([c for c in of(events, "checkpoint") if c["step"] == at]), 1)
        manifest = manifest_of(d, at)
        self.assertEqual((manifest["step"], manifest["worldSize"]), (at, 2))
        self.assertEqual([s["rank"] for s in manifest["shards"]], [0, 1])

        second = Attempt(self, 2, args)
        second.until_step(at + 3)
        second.signal_rank(0, signal.SIGTERM)
        code, events = second.finish()
        self.assertEqual(code, EXIT_INTERRUPTED, second.stderr())
        self.assertEqual(of(events, "started")[0]["resumedFromStep"], at)
        newest = of(events, "interrupted")[0]["checkpointStep"]
        previous = max([at] + [c["step"] for c in of(events, "checkpoint") if c["step"] < newest])

        # Tear rank 1's shard of the newest checkpoint: the whole checkpoint is invalid, the previous one is used.
        shard = os.path.join(d, "step-%08d" % newest, manifest_of(d, newest)["shards"][1]["file"])
        with open(shard, "r+b") as f:
            f.truncate(os.path.getsize(shard) // 2)
        last = Attempt(self, 2, args)
        code, events = last.finish()
        self.assertEqual(code, EXIT_COMPLETED, last.stderr())
        self.assertIn("skipping checkpoint %s" % os.path.dirname(shard), last.stderr())
        self.assertEqual(of(events, "started")[0]["resumedFromStep"], previous)
        self.assertEqual(of(events, "completed")[0]["weightsSha256"], reference["weightsSha256"])
        self.assertEqual(of(events, "completed")[0]["tokensSeen"], reference["tokensSeen"])

    def test_another_number_of_processes_is_refused_naming_both_unless_the_global_batch_is_kept(self):
        d = temp_dir(self)
        args = TINY_FLAGS + ["--checkpoint-dir", d] + SLOW
        first = Attempt(self, 2, args)
        first.until_step(5)
        first.signal_rank(0, signal.SIGUSR1)
        code, events = first.finish()
        self.assertEqual(code, EXIT_INTERRUPTED, first.stderr())
        at = of(events, "interrupted")[0]["step"]

        refused = Attempt(self, 1, args)
        code, _ = refused.finish()
        self.assertEqual(code, EXIT_INVALID_INPUT)
        self.assertIn("made by 2 processes with a global batch of 8 sequences; this run has 1 process and a global "
                      "batch of 4: set globalBatchSize to 8", refused.stderr())

        # Keeping the global batch (8 sequences), one process accumulates 4 micro-batches instead of 2: the data
        # continues where the two left off, so the run still sees every batch once.
        code, events = Attempt(self, 1, args + ["--global-batch-size", "8", "--gradient-accumulation-steps", "1"]) \
            .finish()
        self.assertEqual(code, EXIT_COMPLETED)
        started, completed = of(events, "started")[0], of(events, "completed")[0]
        self.assertEqual((started["resumedFromStep"], started["worldSize"]), (at, 1))
        self.assertEqual(completed["tokensSeen"], 20 * 8 * 16)


class FourProcessesTest(unittest.TestCase):
    def test_a_killed_rank_stops_the_others_and_the_relaunch_resumes_from_the_last_complete_checkpoint(self):
        flags = TINY_FLAGS + ["--sharding", "zero1"]
        straight = complete(self, 4, flags)
        self.assertEqual(of(straight, "started")[0]["parallelism"], "ddp+zero1")
        reference = of(straight, "completed")[0]["weightsSha256"]

        d = temp_dir(self)
        args = flags + ["--checkpoint-dir", d, "--checkpoint-every-steps", "3", "--collective-timeout-seconds", "60"] \
            + SLOW
        killed = Attempt(self, 4, args)
        killed.until_step(8)
        killed.signal_rank(2, signal.SIGKILL)
        code, events = killed.finish(timeout=90)  # the survivors fail on the dead peer instead of hanging
        self.assertNotIn(code, (EXIT_COMPLETED, EXIT_INTERRUPTED))
        self.assertEqual(of(events, "interrupted"), [])
        durable = [c["step"] for c in of(events, "checkpoint")]
        self.assertTrue(durable, killed.stderr())
        # Every checkpoint the job reported has all four shards in its manifest.
        for step in durable:
            self.assertEqual(len(manifest_of(d, step)["shards"]), 4)
        # The newest complete one (its report may not have made it out before the job died).
        newest_complete = max(int(name[len("step-"):]) for name in os.listdir(d)
                              if os.path.exists(os.path.join(d, name, MANIFEST)))
        self.assertGreaterEqual(newest_complete, durable[-1])

        stopped = Attempt(self, 4, args)
        stopped.until_step(newest_complete + 4)
        stopped.signal_rank(3, signal.SIGTERM)
        code, events = stopped.finish()
        self.assertEqual(code, EXIT_INTERRUPTED, stopped.stderr())
        self.assertEqual(of(events, "started")[0]["resumedFromStep"], newest_complete)
        at = of(events, "interrupted")[0]["step"]

        code, events = Attempt(self, 4, args).finish()
        self.assertEqual(code, EXIT_COMPLETED)
        self.assertEqual(of(events, "started")[0]["resumedFromStep"], at)
        self.assertEqual(of(events, "completed")[0]["weightsSha256"], reference)


EXAMPLE = os.path.join(ROOT, "..", "..", "examples", "ddp", "train.py")


class DdpExampleTest(unittest.TestCase):
    """examples/ddp/train.py: a user's own DDP script with the library's pieces gets the same guarantees."""

    def test_a_signal_to_one_rank_of_the_example_stops_both_and_the_resumed_run_ends_identical(self):
        code, straight = Attempt(self, 2, ["--checkpoint-dir", temp_dir(self)], script=EXAMPLE).finish()
        self.assertEqual(code, EXIT_COMPLETED)
        reference = of(straight, "completed")[0]["weightsSha256"]

        d = temp_dir(self)
        args = ["--checkpoint-dir", d, "--step-seconds", "0.03"]
        first = Attempt(self, 2, args, script=EXAMPLE)
        first.until_step(23)
        first.signal_rank(1, signal.SIGTERM)
        code, events = first.finish()
        self.assertEqual(code, EXIT_INTERRUPTED, first.stderr())
        at = of(events, "interrupted")[0]["checkpointStep"]
        self.assertEqual(len(manifest_of(d, at)["shards"]), 2)

        code, events = Attempt(self, 2, args, script=EXAMPLE).finish()
        self.assertEqual(code, EXIT_COMPLETED)
        self.assertEqual(of(events, "started")[0]["resumedFromStep"], at)
        self.assertEqual(of(events, "completed")[0]["weightsSha256"], reference)


if __name__ == "__main__":
    unittest.main()
