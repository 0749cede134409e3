"""EC2 instance metadata (IMDSv2) poller: the spot two-minute interruption notice and the earlier rebalance
recommendation, turned into a stop request so the training loop checkpoints and exits 75 before the reclaim.

IMDSv2 is session-based: a ``PUT /latest/api/token`` with ``X-aws-ec2-metadata-token-ttl-seconds`` returns a
token that every ``GET`` sends as ``X-aws-ec2-metadata-token`` (AWS, "Use the Instance Metadata Service to
access instance metadata"). ``/latest/meta-data/spot/instance-action`` answers 404 until EC2 schedules the
interruption, then ``{"action": "terminate"|"stop"|"hibernate", "time": ...}``;
``/latest/meta-data/events/recommendations/rebalance`` answers 404 until a rebalance is recommended, then
``{"noticeTime": ...}`` (AWS, "Spot Instance interruption notices", "EC2 instance rebalance recommendations").

The endpoint is the SDKs' own setting, ``AWS_EC2_METADATA_SERVICE_ENDPOINT`` (default
``http://169.254.169.254``), so a test points it at a loopback server. ``FRUGAL_IMDS_POLL=1`` turns the
poller on (the EC2 runner's user data sets it); ``FRUGAL_IMDS_REBALANCE=ignore`` waits for the notice itself.
"""

import json
import os
import time
import urllib.error
import urllib.request

DEFAULT_ENDPOINT = "http://169.254.169.254"
INSTANCE_ACTION = "/latest/meta-data/spot/instance-action"
REBALANCE = "/latest/meta-data/events/recommendations/rebalance"


def enabled_by_environment(env=None):
    env = os.environ if env is None else env
    return env.get("FRUGAL_IMDS_POLL", "").strip().lower() in ("1", "true", "yes")


class ImdsClient:
    """A minimal IMDSv2 client: caches its session token and renews it a minute before it expires."""

    def __init__(self, endpoint=None, token_ttl_seconds=21600, timeout_seconds=2.0):
        self.endpoint = (endpoint or os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        self.token_ttl_seconds = token_ttl_seconds
        self.timeout_seconds = timeout_seconds
        self._token = None
        self._token_expires = 0.0

    def _session_token(self, renew=False):
        if renew or self._token is None or time.monotonic() >= self._token_expires:
            request = urllib.request.Request(
                self.endpoint + "/latest/api/token", method="PUT",
                headers={"X-aws-ec2-metadata-token-ttl-seconds": str(self.token_ttl_seconds)})
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                self._token = response.read().decode()
            self._token_expires = time.monotonic() + max(1, self.token_ttl_seconds - 60)
        return self._token

    def get(self, path):
        """The body at ``path``, or None when IMDS answers 404 (nothing there yet)."""
        for attempt in range(2):
            request = urllib.request.Request(
                self.endpoint + path, headers={"X-aws-ec2-metadata-token": self._session_token(renew=attempt > 0)})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                    return response.read().decode()
            except urllib.error.HTTPError as error:
                if error.code == 404:
                    return None
                if error.code != 401 or attempt > 0:
                    raise
        return None

    def interruption_notice(self, include_rebalance=True):
        """``("instance-action", body)`` or ``("rebalance", body)`` when one is posted; None otherwise."""
        action = self.get(INSTANCE_ACTION)
        if action is not None and json.loads(action).get("action") in ("terminate", "stop", "hibernate"):
            return ("instance-action", action)
        if include_rebalance:
            rebalance = self.get(REBALANCE)
            if rebalance is not None and "noticeTime" in json.loads(rebalance):
                return ("rebalance", rebalance)
        return None


def watch(request_stop, stopped, poll_seconds=5.0, client=None, include_rebalance=None):
    """Polls until a notice appears (then calls ``request_stop("spot-notice")`` once) or ``stopped`` is set.

    Errors (no IMDS here, a timeout, a malformed body) are retried on the next poll: a missed poll costs
    ``poll_seconds`` of the two-minute notice, a crash would cost the final checkpoint."""
    client = client or ImdsClient()
    if include_rebalance is None:
        include_rebalance = os.environ.get("FRUGAL_IMDS_REBALANCE", "").strip().lower() != "ignore"
    while True:
        try:
            if client.interruption_notice(include_rebalance) is not None:
                request_stop("spot-notice")
                return
        except Exception:
            pass
        if stopped.wait(poll_seconds):
            return
