import contextlib
import io
import json
import os
import signal
import time
import unittest

import torch

from helpers import CUDA, TINY_FLAGS, ManualStop, RecordingProgress, events_of, temp_dir, tiny, trainer_process

from frugal_trainer.checkpoint import Checkpointer
from frugal_trainer.cli import main
from frugal_trainer.config import InvalidConfig, parse
from frugal_trainer.signals import StopSignal
from frugal_trainer.precision import supports
from frugal_trainer.protocol import EXIT_COMPLETED, EXIT_INTERRUPTED, classify_line
from frugal_trainer.trainer import run

_straight = {}


def straight_hash(**overrides):
    """weightsSha256 of an uninterrupted run without checkpoints (computed once per configuration)."""
    key = json.dumps(overrides, sort_keys=True)
    if key not in _straight:
        progress = RecordingProgress()
        code = run(tiny(**overrides), progress, ManualStop())
        assert code == EXIT_COMPLETED
        _straight[key] = progress.of("completed")[0]["weightsSha256"]
    return _straight[key]


def run_interrupted(cfg, at_steps):
    """Runs ``cfg`` stopping after each step in ``at_steps`` and resuming; returns every attempt's events."""
    attempts = []
    for at in list(at_steps) + [None]:
        stop = ManualStop()
        progress = RecordingProgress(stop=stop, stop_at=at)
        code = run(cfg, progress, stop)
        attempts.append((code, progress))
    return attempts


class ExactResumeTest(unittest.TestCase):
    def test_interrupted_and_resumed_runs_end_bitwise_identical_to_a_straight_run(self):
        reference = straight_hash()
        d = temp_dir(self)
        # 3 and 9 fall between interval checkpoints, 8 on one, 17 just after; the final attempt completes.
        attempts = run_interrupted(tiny(checkpoint_dir=d, checkpoint_every_steps=4), [3, 8, 9, 17])
        codes = [code for code, _ in attempts]
        self.assertEqual(codes, [EXIT_INTERRUPTED] * 4 + [EXIT_COMPLETED])
        resumed = [p.of("started")[0]["resumedFromStep"] for _, p in attempts]
        self.assertEqual(resumed, [None, 3, 8, 9, 17])
        for (_, p), at in zip(attempts[:-1], [3, 8, 9, 17]):
            self.assertEqual(p.of("interrupted")[0]["checkpointStep"], at)
            self.assertEqual(p.of("interrupted")[0]["reason"], "SIGTERM")
        completed = attempts[-1][1].of("completed")[0]
        self.assertEqual(completed["weightsSha256"], reference)
        self.assertEqual(completed["tokensSeen"], 20 * 2 * 2 * 16)

    def test_resume_with_time_interval_and_synchronous_checkpoints_is_exact_too(self):
        d = temp_dir(self)
        cfg = tiny(checkpoint_dir=d, checkpoint_every_seconds=0.001, async_checkpoints=False)
        attempts = run_interrupted(cfg, [5, 11])
        self.assertEqual(attempts[-1][1].of("completed")[0]["weightsSha256"], straight_hash())

    def test_a_checkpoint_due_while_the_previous_is_still_written_is_postponed_not_waited_for(self):
        from frugal_trainer import serialization

        original = serialization.write_payload

        def slow_write(*args):
            time.sleep(0.2)
            return original(*args)

        serialization.write_payload = slow_write
        self.addCleanup(setattr, serialization, "write_payload", original)
        d = temp_dir(self)
        stop = ManualStop()
        progress = RecordingProgress(stop, 15)
        self.assertEqual(run(tiny(checkpoint_dir=d, checkpoint_every_steps=1), progress, stop), EXIT_INTERRUPTED)
        saved = [c["step"] for c in progress.of("checkpoint")]
        self.assertLess(len(saved), 15)  # some due steps were skipped while a write was in flight
        self.assertEqual(saved[-1], 15)  # the final checkpoint is always written
        for c in progress.of("checkpoint")[:-1]:
            self.assertLess(c["blockingSeconds"], 0.15)
        serialization.write_payload = original
        done = RecordingProgress()
        run(tiny(checkpoint_dir=d), done, ManualStop())
        self.assertEqual(done.of("completed")[0]["weightsSha256"], straight_hash())

    def test_a_different_seed_gives_different_weights(self):
        self.assertNotEqual(straight_hash(), straight_hash(seed=8))

    def test_every_event_written_is_valid_protocol(self):
        d = temp_dir(self)
        attempts = run_interrupted(tiny(checkpoint_dir=d, checkpoint_every_steps=5), [7])
        for _, p in attempts:
            for line in p._stream.getvalue().splitlines():
                self.assertEqual(classify_line(line)[0], "event", line)
        checkpoints = attempts[0][1].of("checkpoint")
        self.assertEqual([c["step"] for c in checkpoints], [5, 7])
        for c in checkpoints:
            self.assertLessEqual(c["blockingSeconds"], c["totalSeconds"])
            self.assertEqual(c["bytes"], os.path.getsize(c["path"]) if os.path.exists(c["path"]) else c["bytes"])

    def test_a_completed_run_started_again_completes_at_once_with_the_same_hash(self):
        d = temp_dir(self)
        first = run_interrupted(tiny(checkpoint_dir=d), [])[-1][1]
        again = run_interrupted(tiny(checkpoint_dir=d), [])[-1][1]
        self.assertEqual(again.of("started")[0]["resumedFromStep"], 20)
        self.assertEqual(again.of("step"), [])
        self.assertEqual(again.of("completed")[0]["weightsSha256"], first.of("completed")[0]["weightsSha256"])

    def test_a_truncated_newest_checkpoint_resumes_from_the_previous_and_still_ends_identical(self):
        d = temp_dir(self)
        cfg = tiny(checkpoint_dir=d, checkpoint_every_steps=4)
        run_interrupted(cfg, [10])[:1]  # interrupted at 10: checkpoints 4, 8, 10 (then completed)
        d2 = temp_dir(self)
        stop = ManualStop()
        run(tiny(checkpoint_dir=d2, checkpoint_every_steps=4), RecordingProgress(stop, 10), stop)
        newest = os.path.join(d2, "step-00000010.ckpt")
        with open(newest, "r+b") as f:
            f.truncate(os.path.getsize(newest) // 3)
        progress = RecordingProgress()
        self.assertEqual(run(tiny(checkpoint_dir=d2, checkpoint_every_steps=4), progress, ManualStop()), 0)
        self.assertEqual(progress.of("started")[0]["resumedFromStep"], 8)
        self.assertEqual(progress.of("completed")[0]["weightsSha256"], straight_hash())

    def test_a_checkpoint_of_another_model_is_refused(self):
        d = temp_dir(self)
        run_interrupted(tiny(checkpoint_dir=d), [2])
        with self.assertRaises(InvalidConfig) as e:
            run(tiny(checkpoint_dir=d, hidden_size=64), RecordingProgress(), ManualStop())
        self.assertIn("hiddenSize", str(e.exception))

    def test_without_a_checkpoint_directory_an_interruption_is_not_resumable(self):
        stop = ManualStop()
        progress = RecordingProgress(stop, 3)
        self.assertEqual(run(tiny(), progress, stop), 1)
        self.assertIsNone(progress.of("interrupted")[0]["checkpointStep"])

    @unittest.skipUnless(supports("fp16", "cuda" if CUDA else "cpu") is None, "fp16 needs CUDA with this torch")
    def test_fp16_saves_the_loss_scaler_and_resumes_exactly(self):
        device = "cuda:0" if CUDA else "cpu"
        d = temp_dir(self)
        cfg = tiny(precision="fp16", device=device, deterministic=True, dropout=0.0, checkpoint_dir=d)
        attempts = run_interrupted(cfg, [6])
        ck = Checkpointer(d)
        _, state, _ = ck.load_latest()
        self.assertIn("scale", state["scaler"])
        self.assertGreater(state["scaler"]["scale"], 1.0)
        straight = RecordingProgress()
        run(tiny(precision="fp16", device=device, deterministic=True, dropout=0.0), straight, ManualStop())
        self.assertEqual(attempts[-1][1].of("completed")[0]["weightsSha256"],
                         straight.of("completed")[0]["weightsSha256"])

    @unittest.skipUnless(CUDA, "needs CUDA")
    def test_cuda_bf16_resume_is_exact_with_deterministic_algorithms(self):
        d = temp_dir(self)
        common = dict(device="cuda:0", deterministic=True)
        attempts = run_interrupted(tiny(checkpoint_dir=d, checkpoint_every_steps=3, **common), [4, 13])
        straight = RecordingProgress()
        run(tiny(**common), straight, ManualStop())
        self.assertEqual(attempts[-1][1].of("completed")[0]["weightsSha256"],
                         straight.of("completed")[0]["weightsSha256"])
        self.assertIsNotNone(attempts[-1][1].of("step")[-1]["gpuMemoryGiB"])


class ProcessTest(unittest.TestCase):
    """The real command: signals, exit codes, files on disk."""

    def _until_step(self, proc, step):
        seen = []
        for line in proc.stdout:
            seen.append(line)
            obj = json.loads(line) if line.startswith("{") else {}
            if obj.get("event") == "step" and obj["step"] >= step:
                return seen
        self.fail("the trainer ended before step %d: %s" % (step, proc.stderr.read()))

    def _finish(self, proc):
        out, err = proc.communicate(timeout=120)
        return proc.returncode, out, err

    def test_sigkill_then_sigterm_then_completion_ends_bitwise_identical_to_a_straight_run(self):
        d = temp_dir(self)
        args = TINY_FLAGS + ["--checkpoint-dir", d, "--checkpoint-every-steps", "3", "--step-delay-seconds", "0.05"]

        # A hard kill loses the steps since the last interval checkpoint.
        proc = trainer_process(args)
        self._until_step(proc, 8)
        proc.kill()
        self._finish(proc)

        # SIGTERM: the step in flight finishes, a final checkpoint is written, exit 75.
        proc = trainer_process(args)
        head = self._until_step(proc, 13)
        proc.send_signal(signal.SIGTERM)
        code, out, err = self._finish(proc)
        self.assertEqual(code, EXIT_INTERRUPTED, err)
        events = events_of("".join(head) + out)
        self.assertIn(events[0]["resumedFromStep"], (6, 9))  # the last durable interval checkpoint
        interrupted = [e for e in events if e["event"] == "interrupted"]
        self.assertEqual(len(interrupted), 1)
        at = interrupted[0]["step"]
        self.assertEqual((interrupted[0]["reason"], interrupted[0]["checkpointStep"]), ("SIGTERM", at))
        self.assertEqual([e["step"] for e in events if e["event"] == "step"][-1], at)  # it finished that step
        self.assertTrue(os.path.exists(os.path.join(d, "step-%08d.ckpt" % at)))
        for e in events:
            self.assertEqual(classify_line(json.dumps(e))[0], "event")

        code, out, err = self._finish(trainer_process(args))
        events = events_of(out)
        self.assertEqual(code, EXIT_COMPLETED, err)
        self.assertEqual(events[0]["resumedFromStep"], at)
        self.assertEqual(events[-1]["weightsSha256"], straight_hash())


class SignalAndSettingsTest(unittest.TestCase):
    def test_sigusr1_stops_after_the_step_with_its_own_reason(self):
        d = temp_dir(self)
        stop = StopSignal().install()
        self.addCleanup(stop.uninstall)

        class Signalling(RecordingProgress):
            def emit(self, event, **fields):
                if event == "step" and fields["step"] == 4:
                    os.kill(os.getpid(), signal.SIGUSR1)
                return super().emit(event, **fields)

        progress = Signalling()
        self.assertEqual(run(tiny(checkpoint_dir=d), progress, stop), EXIT_INTERRUPTED)
        self.assertEqual(progress.of("interrupted")[0]["reason"], "SIGUSR1")
        self.assertEqual(progress.of("interrupted")[0]["step"], 4)

    def test_a_spot_notice_file_stops_the_run_as_a_spot_notice(self):
        d = temp_dir(self)
        notice = os.path.join(d, "spot-notice")
        stop = StopSignal(notice_file=notice)

        class Noticing(RecordingProgress):
            def emit(self, event, **fields):
                if event == "step" and fields["step"] == 2:
                    open(notice, "w").close()
                return super().emit(event, **fields)

        progress = Noticing()
        self.assertEqual(run(tiny(checkpoint_dir=os.path.join(d, "ck")), progress, stop), EXIT_INTERRUPTED)
        self.assertEqual(progress.of("interrupted")[0]["reason"], "spot-notice")
        self.assertEqual(progress.of("interrupted")[0]["checkpointStep"], 2)

    def _main(self, argv):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()) as out:
            code = main(argv)
        return code, out.getvalue(), err.getvalue()

    def test_bad_settings_exit_2_naming_each_field(self):
        d = temp_dir(self)
        config = os.path.join(d, "config.json")
        with open(config, "w") as f:
            json.dump({"layers": 0, "hiddenSize": 30, "heads": 4, "precision": "fp8"}, f)
        code, out, err = self._main(["--config", config])
        self.assertEqual(code, 2)
        self.assertEqual(out, "")
        for text in ("layers: expected an integer >= 1, got 0", "precision: expected one of fp32, tf32, bf16, fp16",
                     "hiddenSize: expected a multiple of heads (4), got 30"):
            self.assertIn(text, err)

        with open(config, "w") as f:
            json.dump({"hiddenSzie": 64}, f)
        code, _, err = self._main(["--config", config])
        self.assertEqual(code, 2)
        self.assertIn("hiddenSzie: unknown setting", err)

        code, _, err = self._main(["--max-steps", "ten"])
        self.assertEqual(code, 2)
        self.assertIn("--max-steps: expected an integer, got 'ten'", err)

    def test_config_file_flags_and_environment_combine(self):
        d = temp_dir(self)
        config = os.path.join(d, "config.json")
        with open(config, "w") as f:
            json.dump({"layers": 1, "hiddenSize": 16, "heads": 2, "vocabSize": 32, "sequenceLength": 8,
                       "microBatchSize": 2, "maxSteps": 50, "device": "cpu"}, f)
        cfg = parse(["--config", config, "--max-steps", "4"],
                    {"FRUGAL_CHECKPOINT_DIR": d, "FRUGAL_CHECKPOINT_EVERY_STEPS": "2"})
        self.assertEqual((cfg.layers, cfg.max_steps, cfg.checkpoint_dir, cfg.checkpoint_every_steps), (1, 4, d, 2))
        progress = RecordingProgress()
        self.assertEqual(run(cfg, progress, ManualStop()), EXIT_COMPLETED)
        self.assertEqual([e["step"] for e in progress.of("checkpoint")], [2, 4])


if __name__ == "__main__":
    unittest.main()
