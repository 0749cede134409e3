"""The peak-memory bench's configurations are valid trainer configurations of the shapes its fixture names,
so a GPU session can run it as it is (the measurement itself needs CUDA)."""

import importlib.util
import os
import unittest

from frugal_trainer.config import TrainConfig, validate
from frugal_trainer.model import GPT, GPTConfig

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "bench", "measure_peak_memory.py")


def load_bench():
    spec = importlib.util.spec_from_file_location("measure_peak_memory", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class MeasurePeakMemoryTest(unittest.TestCase):
    def test_every_run_is_a_valid_trainer_configuration(self):
        bench = load_bench()
        names = [name for name, _ in bench.ALL_RUNS]
        self.assertEqual(len(names), len(set(names)))
        for name, overrides in bench.ALL_RUNS:
            cfg = validate(TrainConfig(**dict(overrides, device="cuda:0", max_steps=1000, warmup_steps=10)))
            self.assertEqual(cfg.hidden_size % cfg.heads, 0, name)

    def test_held_out_runs_span_widths_sequences_and_precisions(self):
        bench = load_bench()
        runs = [overrides for _, overrides in bench.HELD_OUT]
        self.assertGreaterEqual(len(runs), 6)
        self.assertEqual({r["hidden_size"] for r in runs} >= {768, 2048, 4096}, True)
        self.assertEqual(min(r["sequence_length"] for r in runs), 512)
        self.assertEqual(max(r["sequence_length"] for r in runs), 4096)
        self.assertEqual({r["precision"] for r in runs}, {"fp32", "bf16", "fp16"})

    def test_parameter_counts_follow_the_formula_the_memory_model_is_given(self):
        bench = load_bench()
        small = dict(bench.RUNS)["small-bf16-b8-s1024"]
        cfg = GPTConfig(layers=small["layers"], hidden_size=small["hidden_size"], heads=small["heads"],
                        vocab_size=small["vocab_size"], sequence_length=small["sequence_length"])
        # 12·L·h² + 13·L·h (biases, norms) + 2·V·h (embedding, untied head) + s·h (positions) + 2·h (final norm):
        # the fixture's 136,174,080 for the GPT-2-small shape.
        L, h, V, s = cfg.layers, cfg.hidden_size, cfg.vocab_size, cfg.sequence_length
        self.assertEqual(GPT(cfg).parameter_count(), 12 * L * h * h + 13 * L * h + 2 * V * h + s * h + 2 * h)
        self.assertEqual(GPT(cfg).parameter_count(), 136174080)


if __name__ == "__main__":
    unittest.main()
