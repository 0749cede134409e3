import io
import json
import os
import unittest

from helpers import ROOT

from frugal_trainer.progress import Progress
from frugal_trainer.protocol import classify_line, validate_event

FIXTURE = os.path.join(ROOT, "test", "fixtures", "protocol.jsonl")
HEADERS = {"event": "event", "not-protocol": "not-protocol", "malformed": "malformed"}


def fixture_lines():
    expectation, lines = None, []
    with open(FIXTURE, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            if line.startswith("## "):
                expectation = HEADERS[line[3:]]
                continue
            if line.strip() and expectation:
                lines.append((expectation, line))
    return lines


class ProtocolFixtureTest(unittest.TestCase):
    """The same fixture lines the TypeScript schema is tested with (test/protocol.test.ts)."""

    def test_every_fixture_line_is_sorted_as_the_typescript_decoder_sorts_it(self):
        lines = fixture_lines()
        self.assertGreater(len(lines), 20)
        for expectation, line in lines:
            with self.subTest(line=line):
                self.assertEqual(classify_line(line)[0], expectation)

    def test_the_fixture_has_every_event_kind(self):
        kinds = {json.loads(line)["event"] for e, line in fixture_lines() if e == "event"}
        self.assertEqual(kinds, {"started", "step", "checkpoint", "interrupted", "completed", "checkpoints-invalid"})

    def test_a_malformed_line_names_the_field(self):
        kind, problems = classify_line(
            '{"event":"interrupted","time":"2026-11-23T07:00:04Z","step":4,"reason":"SIGKILL","checkpointStep":4}')
        self.assertEqual(kind, "malformed")
        self.assertIn("reason", problems[0])


class ProgressTest(unittest.TestCase):
    def test_progress_writes_valid_protocol_lines(self):
        out = io.StringIO()
        p = Progress(stream=out)
        p.started(0, None, 0, "cpu", "bf16", maxSteps=10)
        p.step(1, 2.5, 1000.0, 128, None, None, learningRate=1e-3, mfu=None)
        p.step(2, float("nan"), 1000.0, 256, 97.0, 1.5)
        p.checkpoint(2, "/tmp/x.ckpt", 1234, 0.01, 0.2, sha256="a" * 64)
        p.interrupted(2, "spot-notice", 2)
        p.completed(3, 384, "b" * 64, tokensPerSecond=None, mfu=None, precision="bf16")
        lines = out.getvalue().splitlines()
        self.assertEqual(len(lines), 6)
        for line in lines:
            self.assertEqual(classify_line(line)[0], "event", line)
        self.assertIsNone(json.loads(lines[2])["loss"])  # a non-finite loss is written as null
        self.assertNotIn("tokensPerSecond", json.loads(lines[5]))


if __name__ == "__main__":
    unittest.main()
