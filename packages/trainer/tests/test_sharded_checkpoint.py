"""The pieces of multi-process training that need no second process: which rank writes what, the manifest
rule (a checkpoint counts only when every shard it names verifies), which batches each rank takes, what
each ``sharding`` runs as. The processes themselves are in test_distributed.py."""

import json
import os
import unittest

import torch

from helpers import temp_dir, tiny

from frugal_trainer.config import InvalidConfig, batch_layout, with_steps_for
from frugal_trainer.data import micro_batch_index
from frugal_trainer.distributed import Distributed
from frugal_trainer.parallel import Capabilities, choose
from frugal_trainer.sharded_checkpoint import MANIFEST, ShardedCheckpointer, load_latest_agreed, read_sharded, spread


def parts(step):
    g = torch.Generator().manual_seed(step)
    replicated = {"model": {"w": torch.randn(8, 4, generator=g), "b": torch.randn(4, generator=g)},
                  "optimizer": {"param_groups": [{"lr": 1e-3, "params": [0, 1]}]}, "step": step}
    states = {0: {"exp_avg": torch.randn(8, 4, generator=g), "step": torch.tensor(float(step))},
              1: {"exp_avg": torch.randn(4, generator=g), "step": torch.tensor(float(step))}}
    return replicated, states, {"rng": {"torch": torch.get_rng_state()}}


class LayoutTest(unittest.TestCase):
    def test_spread_puts_the_largest_items_first_on_the_least_loaded_rank(self):
        sizes = [100, 60, 50, 40, 10]
        self.assertEqual(spread(sizes, 2), [0, 1, 1, 0, 1])  # 140 and 120 bytes
        self.assertEqual(spread(sizes, 4), [0, 1, 2, 3, 3])
        self.assertEqual(spread(sizes, 1), [0] * 5)

    def test_every_batch_is_taken_once_across_a_resume_on_another_number_of_processes(self):
        taken, cursor = [], 0
        for world, accumulation, steps in ((4, 1, 3), (2, 2, 2), (1, 4, 2)):  # a global batch of 4 each time
            for _ in range(steps):
                for rank in range(world):
                    taken += [micro_batch_index(cursor, a, world, rank) for a in range(accumulation)]
                cursor += accumulation * world
        self.assertEqual(sorted(taken), list(range(28)))
        self.assertEqual([micro_batch_index(10, a, 1, 0) for a in range(3)], [10, 11, 12])

    def test_max_tokens_becomes_the_steps_of_the_global_batch_on_any_number_of_processes(self):
        # 2 micro-batches of 2 sequences of 16 tokens per process and step.
        self.assertEqual(with_steps_for(tiny(max_tokens=1000), 1).max_steps, 16)  # 64 tokens a step
        self.assertEqual(with_steps_for(tiny(max_tokens=1000), 2).max_steps, 8)  # 128 tokens a step
        self.assertEqual(with_steps_for(tiny(max_tokens=1024), 2).max_steps, 8)
        self.assertEqual(with_steps_for(tiny(max_steps=7), 2).max_steps, 7)  # no maxTokens: maxSteps as given

    def test_the_global_batch_sets_the_accumulation_or_is_refused_naming_the_fields(self):
        self.assertEqual(batch_layout(tiny(), 1), (2, 4))
        self.assertEqual(batch_layout(tiny(), 4), (2, 16))
        self.assertEqual(batch_layout(tiny(global_batch_size=16, gradient_accumulation_steps=1), 2), (4, 16))
        with self.assertRaises(InvalidConfig) as e:
            batch_layout(tiny(global_batch_size=10), 3)
        self.assertIn("globalBatchSize: expected a multiple of microBatchSize x processes (2 x 3 = 6), got 10",
                      str(e.exception))
        with self.assertRaises(InvalidConfig) as e:
            batch_layout(tiny(global_batch_size=16, gradient_accumulation_steps=2), 2)
        self.assertIn("gradientAccumulationSteps: expected 1 or 4", str(e.exception))


def caps(device_type="cuda", fsdp=True, zero=True, orig=True, missing=""):
    return Capabilities("2.5.0", device_type, fsdp, zero, orig, missing)


class ParallelismTest(unittest.TestCase):
    def test_each_sharding_maps_to_its_wrapper_where_the_torch_has_it(self):
        names = {s: choose(s, 8, caps()).name for s in ("none", "zero1", "zero2", "fsdp")}
        self.assertEqual(names, {"none": "ddp", "zero1": "ddp+zero1", "zero2": "fsdp:SHARD_GRAD_OP",
                                 "fsdp": "fsdp:FULL_SHARD"})
        self.assertEqual(choose("fsdp", 8, caps()).fallbacks, ())
        self.assertEqual(choose("fsdp", 1, caps()).name, "single")

    def test_fsdp_where_it_cannot_run_falls_back_to_zero1_and_says_why(self):
        on_cpu = choose("fsdp", 2, caps(device_type="cpu"))
        self.assertEqual(on_cpu.name, "ddp+zero1")
        self.assertIn("FSDP FULL_SHARD needs CUDA devices and this run is on cpu", on_cpu.fallbacks[0])
        broken = choose("zero2", 2, caps(fsdp=False, missing="torch 1.13's FSDP does not import under Python 3.11"))
        self.assertIn("sharding zero2: torch 1.13's FSDP does not import", broken.fallbacks[0])
        old = choose("fsdp", 2, caps(orig=False))
        self.assertEqual(old.name, "fsdp:FULL_SHARD")
        self.assertIn("weight decay also applies to biases", old.fallbacks[0])
        bare = choose("zero1", 2, caps(zero=False))
        self.assertEqual((bare.name, len(bare.fallbacks)), ("ddp", 1))


class ManifestTest(unittest.TestCase):
    def save(self, directory, steps, keep=5):
        ck = ShardedCheckpointer(directory, Distributed(), keep=keep, asynchronous=True)
        for step in steps:
            ck.save_parts(step, *parts(step))
        ck.wait()
        return ck

    def load(self, directory):
        skipped = []
        return load_latest_agreed(directory, Distributed(), skipped.append), skipped

    def test_a_sharded_checkpoint_loads_back_bitwise_with_its_manifest(self):
        d = temp_dir(self)
        ck = self.save(d, [3])
        with open(os.path.join(d, "step-00000003", MANIFEST)) as f:
            manifest = json.load(f)
        self.assertEqual((manifest["format"], manifest["step"], manifest["worldSize"]), ("frugal-sharded-1", 3, 1))
        self.assertEqual(ck.last.path, os.path.join(d, "step-00000003"))
        loaded = read_sharded(3, os.path.join(d, "step-00000003"))
        replicated, states, own = parts(3)
        self.assertTrue(torch.equal(loaded.state["model"]["w"], replicated["model"]["w"]))
        self.assertEqual(loaded.state["optimizer"], replicated["optimizer"])
        self.assertEqual(sorted(loaded.optimizer_states), [0, 1])
        self.assertTrue(torch.equal(loaded.optimizer_states[1]["exp_avg"], states[1]["exp_avg"]))
        self.assertTrue(torch.equal(loaded.rngs[0]["torch"], own["rng"]["torch"]))

    def test_a_torn_missing_or_altered_shard_or_no_manifest_makes_the_previous_checkpoint_the_one(self):
        def newest_shard(d):
            return os.path.join(d, "step-00000008", "rank-00000-of-00001.ckpt")

        def truncate(d):
            with open(newest_shard(d), "r+b") as f:
                f.truncate(100)

        def flip(d):
            with open(newest_shard(d), "r+b") as f:
                f.seek(-3, os.SEEK_END)
                byte = f.read(1)
                f.seek(-3, os.SEEK_END)
                f.write(bytes([byte[0] ^ 1]))

        damages = {
            "torn": (truncate, "torn or truncated"),
            "missing": (lambda d: os.unlink(newest_shard(d)), "No such file"),
            "altered": (flip, "does not match its checksum"),
            "no manifest": (lambda d: os.unlink(os.path.join(d, "step-00000008", MANIFEST)), "no manifest"),
        }
        for name, (damage, reason) in damages.items():
            with self.subTest(name):
                d = temp_dir(self)
                self.save(d, [4, 8])
                damage(d)
                loaded, skipped = self.load(d)
                self.assertEqual(loaded.step, 4)
                self.assertEqual(len(skipped), 1)
                self.assertIn("step-00000008", skipped[0])
                self.assertIn(reason, skipped[0])

    def test_only_the_newest_complete_checkpoints_are_kept(self):
        d = temp_dir(self)
        os.makedirs(os.path.join(d, "step-00000001"))  # an attempt that died before its manifest
        os.makedirs(os.path.join(d, "step-00000099"))  # a newer write still in progress
        self.save(d, [2, 4, 6, 8], keep=2)
        self.assertEqual(sorted(os.listdir(d)), ["step-00000006", "step-00000008", "step-00000099"])

    def test_a_single_process_checkpoint_is_a_candidate_too(self):
        from frugal_trainer.checkpoint import Checkpointer

        d = temp_dir(self)
        self.save(d, [4])
        replicated, states, own = parts(6)
        replicated["optimizer"]["state"] = states
        Checkpointer(d, asynchronous=False).save(6, dict(replicated, rng=own["rng"]))
        loaded, _ = self.load(d)
        self.assertEqual((loaded.step, loaded.world_size), (6, 1))
        self.assertTrue(torch.equal(loaded.optimizer_states[0]["exp_avg"], states[0]["exp_avg"]))


if __name__ == "__main__":
    unittest.main()
