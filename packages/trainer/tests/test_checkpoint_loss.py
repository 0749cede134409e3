"""Checkpoint loss is loud: when checkpoints were written and every one fails verification, the trainer does not
train from step 0 as if nothing had happened. It writes a ``checkpoints-invalid`` event naming each file and the
check it failed and exits 65, unless ``fromScratch`` tells it to set them aside and start over."""

import os
import unittest

from helpers import ManualStop, RecordingProgress, events_of, temp_dir, tiny, trainer_process, TINY_FLAGS

from frugal_trainer.distributed import Distributed
from frugal_trainer.protocol import EXIT_CHECKPOINTS_INVALID, EXIT_COMPLETED, validate_event
from frugal_trainer.sharded_checkpoint import MANIFEST, ShardedCheckpointer, load_latest_verified
from frugal_trainer.trainer import run


def settings(directory, every=4, **overrides):
    """Synchronous checkpoints, so which steps are checkpointed does not depend on how busy the machine is."""
    return tiny(checkpoint_dir=directory, checkpoint_every_steps=every, async_checkpoints=False, **overrides)


def interrupted_run(directory, at_step=10, every=4):
    """A run stopped after ``at_step`` with checkpoints every ``every`` steps (and a final one)."""
    stop = ManualStop()
    code = run(settings(directory, every), RecordingProgress(stop, at_step), stop)
    assert code == 75, code


def checkpoint_files(directory):
    return sorted(n for n in os.listdir(directory) if n.startswith("step-") and n.endswith(".ckpt"))


def flip_a_byte(path, offset_fraction=0.5):
    with open(path, "r+b") as f:
        f.seek(int(os.path.getsize(path) * offset_fraction))
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))


class CheckpointLossTest(unittest.TestCase):
    def test_every_checkpoint_corrupt_stops_with_exit_65_naming_each_file_and_its_check(self):
        d = temp_dir(self)
        interrupted_run(d)
        names = checkpoint_files(d)
        self.assertEqual(names, ["step-00000004.ckpt", "step-00000008.ckpt", "step-00000010.ckpt"])
        flip_a_byte(os.path.join(d, names[0]))
        with open(os.path.join(d, names[1]), "r+b") as f:
            f.truncate(100)
        with open(os.path.join(d, names[2] + ".sha256"), "w") as f:
            f.write("0" * 64 + "  " + names[2] + "\n")

        progress = RecordingProgress()
        code = run(settings(d), progress, ManualStop())

        self.assertEqual(code, EXIT_CHECKPOINTS_INVALID)
        self.assertEqual([e["event"] for e in progress.events], ["checkpoints-invalid"])
        event = progress.events[0]
        self.assertEqual(validate_event(event), [])
        self.assertEqual(event["checkpointDir"], os.path.abspath(d))
        self.assertEqual([r["step"] for r in event["rejected"]], [10, 8, 4])
        self.assertEqual([os.path.basename(r["path"]) for r in event["rejected"]], list(reversed(names)))
        for rejection in event["rejected"]:
            self.assertIn("checksum mismatch", rejection["reason"])
        # Nothing was trained, moved or pruned: the files are there for a person to look at.
        self.assertEqual(checkpoint_files(d), names)

    def test_from_scratch_sets_the_invalid_checkpoints_aside_and_ends_as_a_straight_run(self):
        d, reference = temp_dir(self), RecordingProgress()
        self.assertEqual(run(tiny(), reference, ManualStop()), EXIT_COMPLETED)
        interrupted_run(d)
        for name in checkpoint_files(d):
            flip_a_byte(os.path.join(d, name))

        progress = RecordingProgress()
        code = run(settings(d, from_scratch=True), progress, ManualStop())

        self.assertEqual(code, EXIT_COMPLETED)
        self.assertIsNone(progress.of("started")[0]["resumedFromStep"])
        self.assertEqual(progress.of("completed")[0]["weightsSha256"], reference.of("completed")[0]["weightsSha256"])
        aside = [n for n in os.listdir(d) if n.startswith("invalid-")]
        self.assertEqual(len(aside), 1)
        self.assertEqual(sorted(os.listdir(os.path.join(d, aside[0]))), [
            "step-00000004.ckpt", "step-00000004.ckpt.sha256", "step-00000008.ckpt", "step-00000008.ckpt.sha256",
            "step-00000010.ckpt", "step-00000010.ckpt.sha256"])
        # The new run's own checkpoints are kept: none were pruned in favour of the damaged, higher-numbered ones.
        self.assertEqual(checkpoint_files(d), ["step-00000012.ckpt", "step-00000016.ckpt", "step-00000020.ckpt"])

    def test_one_valid_checkpoint_is_resumed_from_even_when_the_newer_ones_are_corrupt(self):
        d = temp_dir(self)
        interrupted_run(d)
        for name in ["step-00000008.ckpt", "step-00000010.ckpt"]:
            flip_a_byte(os.path.join(d, name))
        progress = RecordingProgress()
        self.assertEqual(run(settings(d), progress, ManualStop()), EXIT_COMPLETED)
        self.assertEqual(progress.of("started")[0]["resumedFromStep"], 4)
        self.assertEqual(progress.of("checkpoints-invalid"), [])

    def test_a_checkpoint_cut_short_before_its_checksum_was_written_is_not_a_loss(self):
        # Killed between renaming the file into place and writing its sidecar: it was never reported durable.
        d = temp_dir(self)
        interrupted_run(d, at_step=4, every=4)
        os.unlink(os.path.join(d, "step-00000004.ckpt.sha256"))
        progress = RecordingProgress()
        self.assertEqual(run(settings(d), progress, ManualStop()), EXIT_COMPLETED)
        self.assertIsNone(progress.of("started")[0]["resumedFromStep"])
        self.assertEqual(progress.of("checkpoints-invalid"), [])

    def test_a_sharded_checkpoint_with_a_damaged_shard_is_rejected_naming_the_shard(self):
        d = temp_dir(self)
        dist = Distributed()
        writer = ShardedCheckpointer(d, dist, keep=3, asynchronous=False)
        import torch

        writer.save_parts(6, {"w": torch.arange(8.0), "step": 6}, {}, {"rng": None})
        folder = os.path.join(d, "step-00000006")
        flip_a_byte(os.path.join(folder, "rank-00000-of-00001.ckpt"))
        loaded, rejected = load_latest_verified(d, dist, lambda _: None)
        self.assertIsNone(loaded)
        self.assertEqual([(r["path"], r["step"]) for r in rejected], [(folder, 6)])
        self.assertIn("rank-00000-of-00001.ckpt does not match its checksum", rejected[0]["reason"])
        os.unlink(os.path.join(folder, MANIFEST))
        self.assertEqual(load_latest_verified(d, dist, lambda _: None), (None, []))

    def test_the_command_exits_65_and_prints_the_event_and_fromscratch_comes_from_the_environment(self):
        d = temp_dir(self)
        interrupted_run(d)
        for name in checkpoint_files(d):
            flip_a_byte(os.path.join(d, name))
        args = TINY_FLAGS + ["--checkpoint-dir", d, "--checkpoint-every-steps", "4", "--no-async-checkpoints"]
        stopped = trainer_process(args)
        out, err = stopped.communicate(timeout=120)
        self.assertEqual(stopped.returncode, EXIT_CHECKPOINTS_INVALID, err)
        self.assertEqual([e["event"] for e in events_of(out)], ["checkpoints-invalid"])
        self.assertIn("skipping checkpoint", err)

        again = trainer_process(args, env={"FRUGAL_FROM_SCRATCH": "1"})
        out, err = again.communicate(timeout=120)
        self.assertEqual(again.returncode, EXIT_COMPLETED, err)
        self.assertIn("set 3 aside", err)
        self.assertIsNone(events_of(out)[0]["resumedFromStep"])


if __name__ == "__main__":
    unittest.main()
