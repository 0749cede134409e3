import os
import random
import threading
import time
import unittest

import numpy
import torch

from helpers import temp_dir

from frugal_trainer import serialization
from frugal_trainer.checkpoint import Checkpointer


def sample_state(step):
    g = torch.Generator().manual_seed(step)
    return {
        "model": {"w": torch.randn(64, 32, generator=g), "b16": torch.randn(8, generator=g).to(torch.bfloat16),
                  "h16": torch.randn(3, 3, generator=g).half(), "mask": torch.rand(5, generator=g) > 0.5,
                  "ids": torch.arange(10, dtype=torch.int64), "scalar": torch.tensor(3.5), "empty": torch.empty(0)},
        "optimizer": {"state": {0: {"step": torch.tensor(float(step)), "exp_avg": torch.randn(4, generator=g)}},
                      "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.95), "params": [0]}]},
        "scaler": {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2000,
                   "_growth_tracker": 7},
        "rng": {"python": random.getstate(), "numpy": numpy.random.get_state(), "torch": torch.get_rng_state()},
        "data": {"seed": 1, "cursor": step * 2}, "step": step, "note": None, "raw": b"\x00\xff",
    }


def assert_same(test, a, b, path="state"):
    if isinstance(a, torch.Tensor):
        test.assertIsInstance(b, torch.Tensor, path)
        test.assertEqual((a.dtype, tuple(a.shape)), (b.dtype, tuple(b.shape)), path)
        test.assertTrue(torch.equal(a, b), path)
    elif isinstance(a, numpy.ndarray):
        test.assertEqual(a.dtype, b.dtype, path)
        test.assertTrue(numpy.array_equal(a, b), path)
    elif isinstance(a, dict):
        test.assertEqual(set(a), set(b), path)
        for k in a:
            assert_same(test, a[k], b[k], "%s.%s" % (path, k))
    elif isinstance(a, (list, tuple)):
        test.assertEqual((type(a), len(a)), (type(b), len(b)), path)
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(test, x, y, "%s[%d]" % (path, i))
    else:
        test.assertEqual(a, b, path)


class CheckpointerTest(unittest.TestCase):
    def test_a_saved_state_loads_back_bitwise_with_its_types(self):
        d = temp_dir(self)
        ck = Checkpointer(d, asynchronous=False)
        state = sample_state(3)
        ck.save(3, state)
        step, loaded, meta = ck.load_latest()
        self.assertEqual((step, meta["step"]), (3, 3))
        assert_same(self, state, loaded)
        random.setstate(loaded["rng"]["python"])  # usable as-is by the RNG that produced it
        numpy.random.set_state(loaded["rng"]["numpy"])

    def test_the_sidecar_is_sha256sum_format_and_matches_the_file(self):
        import hashlib

        d = temp_dir(self)
        Checkpointer(d, asynchronous=False).save(12, sample_state(12))
        path = os.path.join(d, "step-00000012.ckpt")
        with open(path + ".sha256") as f:
            digest, name = f.read().split()
        with open(path, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), digest)
        self.assertEqual(name, "step-00000012.ckpt")

    def test_keeps_only_the_last_k(self):
        d = temp_dir(self)
        ck = Checkpointer(d, keep=2)
        for step in (1, 2, 3, 4):
            ck.save(step, sample_state(step))
        ck.wait()
        self.assertEqual([s for s, _ in ck.checkpoints()], [4, 3])
        self.assertEqual(sorted(os.listdir(d)), ["step-00000003.ckpt", "step-00000003.ckpt.sha256",
                                                 "step-00000004.ckpt", "step-00000004.ckpt.sha256"])

    def test_a_newest_checkpoint_truncated_at_random_offsets_is_detected_and_the_previous_is_used(self):
        d = temp_dir(self)
        ck = Checkpointer(d, keep=3, asynchronous=False, log=lambda msg: None)
        ck.save(5, sample_state(5))
        ck.save(6, sample_state(6))
        newest = os.path.join(d, "step-00000006.ckpt")
        with open(newest, "rb") as f:
            good = f.read()
        rng = random.Random(42)
        offsets = [0, 1, 7, 8, 20, len(good) - 1] + [rng.randrange(len(good)) for _ in range(12)]
        for offset in offsets:
            with self.subTest(offset=offset):
                with open(newest, "wb") as f:
                    f.write(good[:offset])
                step, loaded, _ = Checkpointer(d, log=lambda msg: None).load_latest()
                self.assertEqual(step, 5)
                assert_same(self, sample_state(5)["model"], loaded["model"])

    def test_a_flipped_byte_or_a_missing_sidecar_falls_back_too(self):
        d = temp_dir(self)
        ck = Checkpointer(d, asynchronous=False, log=lambda msg: None)
        for step in (1, 2, 3):
            ck.save(step, sample_state(step))
        newest = os.path.join(d, "step-00000003.ckpt")
        with open(newest, "r+b") as f:
            f.seek(os.path.getsize(newest) // 2)
            byte = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([byte[0] ^ 0x01]))
        os.unlink(os.path.join(d, "step-00000002.ckpt.sha256"))
        skipped = []
        self.assertEqual(Checkpointer(d, log=skipped.append).load_latest()[0], 1)
        self.assertEqual(len(skipped), 2)
        self.assertIn("checksum mismatch", skipped[0])
        self.assertIn("no checksum sidecar", skipped[1])

    def test_nothing_valid_means_a_fresh_start(self):
        d = temp_dir(self)
        with open(os.path.join(d, "step-00000009.ckpt"), "wb") as f:
            f.write(b"FRUGALCK")
        self.assertIsNone(Checkpointer(d, log=lambda msg: None).load_latest())

    def test_stale_temp_files_of_a_killed_writer_are_removed(self):
        d = temp_dir(self)
        stale = os.path.join(d, "step-00000004.ckpt.tmp.999")
        with open(stale, "wb") as f:
            f.write(b"half")
        Checkpointer(d)
        self.assertFalse(os.path.exists(stale))

    def test_asynchronous_save_blocks_only_for_the_copy_and_reports_both_times(self):
        d = temp_dir(self)
        written = []
        ck = Checkpointer(d, on_written=written.append)
        original = serialization.write_payload

        def slow_write(*args):
            time.sleep(0.3)
            return original(*args)

        serialization.write_payload = slow_write
        try:
            blocking = ck.save(1, sample_state(1))
            self.assertLess(blocking, 0.25)  # the 0.3 s write happens after save() returned
            self.assertEqual(written, [])
            info = ck.wait()
        finally:
            serialization.write_payload = original
        self.assertEqual(written, [info])
        self.assertAlmostEqual(info.blocking_seconds, blocking)
        self.assertGreaterEqual(info.total_seconds, 0.3)
        self.assertGreater(info.total_seconds, info.blocking_seconds)
        self.assertEqual(info.bytes, os.path.getsize(info.path))

    def test_never_two_writes_at_once(self):
        d = temp_dir(self)
        ck = Checkpointer(d, keep=5)
        original = serialization.write_payload
        active, most = [0], [0]
        lock = threading.Lock()

        def counting_write(*args):
            with lock:
                active[0] += 1
                most[0] = max(most[0], active[0])
            time.sleep(0.05)
            try:
                return original(*args)
            finally:
                with lock:
                    active[0] -= 1

        serialization.write_payload = counting_write
        try:
            for step in range(1, 5):
                ck.save(step, sample_state(step))
            ck.wait()
        finally:
            serialization.write_payload = original
        self.assertEqual(most[0], 1)
        self.assertEqual([s for s, _ in ck.checkpoints()], [4, 3, 2, 1])
        for step, path in ck.checkpoints():  # each write used its own snapshot, not a later one's
            _, loaded = serialization.read_payload(ck.verify(path))
            assert_same(self, sample_state(step)["model"], loaded["model"])

    def test_a_failed_write_is_raised_by_the_next_wait_and_leaves_no_file(self):
        d = temp_dir(self)
        ck = Checkpointer(d)
        original = serialization.write_payload

        def failing_write(*args):
            raise OSError(28, "No space left on device")

        serialization.write_payload = failing_write
        try:
            ck.save(1, sample_state(1))
            with self.assertRaises(OSError):
                ck.wait()
        finally:
            serialization.write_payload = original
        self.assertEqual(os.listdir(d), [])

    @unittest.skipUnless(torch.cuda.is_available(), "needs CUDA")
    def test_cuda_tensors_are_copied_to_pinned_host_buffers(self):
        d = temp_dir(self)
        ck = Checkpointer(d)
        state = {"w": torch.randn(1024, 1024, device="cuda"), "s": torch.tensor(2.0, device="cuda")}
        ck.prepare(state)
        self.assertTrue(all(b.is_pinned() for b in ck._buffers))
        ck.save(1, state)
        ck.wait()
        loaded = ck.load_latest()[1]
        self.assertTrue(torch.equal(loaded["w"], state["w"].cpu()))


if __name__ == "__main__":
    unittest.main()
