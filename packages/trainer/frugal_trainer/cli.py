"""``python3 -m frugal_trainer``: parse settings, run the reference loop, exit 0 / 75 / 2."""

import sys

from .config import InvalidConfig, parse
from .progress import Progress
from .protocol import EXIT_INVALID_INPUT
from .signals import StopSignal


def main(argv=None):
    try:
        cfg = parse(sys.argv[1:] if argv is None else argv)
    except InvalidConfig as e:
        print("frugal-trainer: %s" % e, file=sys.stderr)
        return EXIT_INVALID_INPUT
    from .trainer import run

    stop = StopSignal(notice_file=cfg.spot_notice_file or None, watch_ec2_metadata=cfg.watch_ec2_spot_notice)
    with stop:
        try:
            return run(cfg, Progress(), stop)
        except InvalidConfig as e:
            print("frugal-trainer: %s" % e, file=sys.stderr)
            return EXIT_INVALID_INPUT
