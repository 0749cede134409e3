"""``StopSignal``: turns SIGTERM, SIGUSR1 and a spot-interruption notice into a flag the training loop
checks between steps, so the loop finishes the step it is in, checkpoints and exits 75."""

import os
import signal
import threading

from . import imds

_SIGNAL_REASONS = {signal.SIGTERM: "SIGTERM", signal.SIGUSR1: "SIGUSR1"}


class StopSignal:
    """Install once near the start of training; poll ``requested`` (the reason, or None) after each step.

    Spot notices arrive two ways: the runner relays them as SIGUSR1, or as a file it creates
    (``notice_file``, e.g. from ``FRUGAL_SPOT_NOTICE_FILE``); ``watch_ec2_metadata=True`` polls the EC2
    instance metadata service itself (the two-minute interruption notice, IMDSv2)."""

    def __init__(self, notice_file=None, watch_ec2_metadata=False, poll_seconds=5.0):
        self._reason = None
        self._lock = threading.Lock()
        self._previous = {}
        self._notice_file = notice_file
        self._stop_polling = threading.Event()
        self._poller = None
        if watch_ec2_metadata or imds.enabled_by_environment():
            self._poller = threading.Thread(target=self._poll_ec2, args=(poll_seconds,), daemon=True,
                                            name="frugal-spot-notice")

    def install(self):
        for signum in _SIGNAL_REASONS:
            self._previous[signum] = signal.signal(signum, self._handle)
        if self._poller is not None:
            self._poller.start()
        return self

    def uninstall(self):
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous = {}
        self._stop_polling.set()

    def __enter__(self):
        return self.install()

    def __exit__(self, *exc):
        self.uninstall()
        return False

    def _handle(self, signum, _frame):
        self.request(_SIGNAL_REASONS.get(signum, "SIGTERM"))

    def request(self, reason):
        """Ask the loop to stop; the first reason wins."""
        with self._lock:
            if self._reason is None:
                self._reason = reason

    @property
    def requested(self):
        if self._reason is None and self._notice_file and os.path.exists(self._notice_file):
            self.request("spot-notice")
        return self._reason

    def _poll_ec2(self, poll_seconds):
        # IMDSv2 token, spot instance-action and rebalance recommendation: see imds.py.
        imds.watch(self.request, self._stop_polling, poll_seconds)
