"""The IMDSv2 poller against a loopback metadata server that insists on IMDSv2 (no token, 401): a spot
interruption notice or a rebalance recommendation posted mid-run stops the loop within 10 s."""

import json
import os
import threading
import time
import sys
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from frugal_trainer import imds  # noqa: E402
from frugal_trainer.signals import StopSignal  # noqa: E402


class FakeImds:
    def __init__(self):
        self.instance_action = None
        self.rebalance = None
        self.token_puts = []
        self.unauthorized = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body=b""):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self):
                if self.path != "/latest/api/token":
                    return self._send(404)
                fake.token_puts.append(self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"))
                self._send(200, b"session-token")

            def do_GET(self):
                if self.headers.get("X-aws-ec2-metadata-token") != "session-token":
                    fake.unauthorized += 1
                    return self._send(401)
                body = {imds.INSTANCE_ACTION: fake.instance_action, imds.REBALANCE: fake.rebalance}.get(self.path)
                if body is None:
                    return self._send(404)
                self._send(200, json.dumps(body).encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class ImdsPollerTest(unittest.TestCase):
    def setUp(self):
        self.fake = FakeImds()
        self.saved = {k: os.environ.get(k) for k in ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "FRUGAL_IMDS_POLL")}
        os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = self.fake.url

    def tearDown(self):
        self.fake.close()
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def wait_for_stop(self, stop, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if stop.requested is not None:
                return time.monotonic()
            time.sleep(0.05)
        return None

    def test_a_spot_notice_stops_the_loop_within_ten_seconds(self):
        with StopSignal(watch_ec2_metadata=True, poll_seconds=0.5) as stop:
            time.sleep(1.2)
            self.assertIsNone(stop.requested, "no notice yet: keep training")
            self.fake.instance_action = {"action": "terminate", "time": "2026-11-23T08:00:00Z"}
            posted = time.monotonic()
            seen = self.wait_for_stop(stop, 10)
        self.assertIsNotNone(seen, "no stop within 10 s of the notice")
        self.assertLess(seen - posted, 10)
        self.assertEqual(stop.requested, "spot-notice")
        self.assertEqual(self.fake.unauthorized, 0, "every GET carried the IMDSv2 token")
        self.assertEqual(self.fake.token_puts[0], "21600")
        self.assertEqual(len(self.fake.token_puts), 1, "the session token is reused, not fetched per poll")

    def test_a_rebalance_recommendation_stops_the_loop_unless_told_to_ignore_it(self):
        self.fake.rebalance = {"noticeTime": "2026-11-23T08:00:00Z"}
        client = imds.ImdsClient()
        self.assertEqual(client.interruption_notice()[0], "rebalance")
        self.assertIsNone(client.interruption_notice(include_rebalance=False))
        os.environ["FRUGAL_IMDS_POLL"] = "1"
        with StopSignal(poll_seconds=0.2) as stop:
            self.assertIsNotNone(self.wait_for_stop(stop, 10), "FRUGAL_IMDS_POLL=1 starts the poller")
        self.assertEqual(stop.requested, "spot-notice")

    def test_a_stop_or_hibernate_action_counts_and_an_expired_token_is_renewed(self):
        client = imds.ImdsClient(token_ttl_seconds=60)
        self.assertIsNone(client.interruption_notice())
        client._token = "stale"
        self.fake.instance_action = {"action": "hibernate", "time": "2026-11-23T08:00:00Z"}
        self.assertEqual(client.interruption_notice(include_rebalance=False)[0], "instance-action")
        self.assertEqual(self.fake.unauthorized, 1)

    def test_no_metadata_service_is_not_an_error(self):
        stopped = threading.Event()
        calls = []
        client = imds.ImdsClient(endpoint="http://127.0.0.1:9", timeout_seconds=0.2)
        worker = threading.Thread(target=imds.watch, args=(calls.append, stopped, 0.05, client, True))
        worker.start()
        time.sleep(0.3)
        stopped.set()
        worker.join(5)
        self.assertFalse(worker.is_alive())
        self.assertEqual(calls, [])


if __name__ == "__main__":
    unittest.main()
