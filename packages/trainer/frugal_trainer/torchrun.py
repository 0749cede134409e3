"""``python3 -m frugal_trainer.torchrun ARGS``: torchrun (``torch.distributed.run``) with the same arguments,
plus two things the runner needs from it:

- It starts on torch < 2 under Python >= 3.11, where torchrun itself fails before launching anything:
  ``Std.from_str("0")`` (the default of ``--redirects`` and ``--tee``) looks the value up by iterating an
  ``IntFlag``, which since Python 3.11 skips the zero member, and returns None.
- When every rank that failed exited with the same protocol exit code (75: interrupted and resumable;
  2: bad input; 65: every checkpoint invalid), it exits with that code instead of torchrun's 1, so a supervisor
  tells a coordinated stop from a crash without reading the ranks' output.
"""

import sys

EXIT_CODES_PASSED_THROUGH = (75, 2, 65)


def _repair_std_from_str():
    from torch.distributed.elastic.multiprocessing import api

    if api.Std.from_str("0") is not None:
        return
    original = api.Std.from_str.__func__
    pattern = api._VALUE_REGEX if hasattr(api, "_VALUE_REGEX") else r"^[0-3]$"

    def from_str(cls, vm):
        import re

        if re.match(pattern, vm):
            return cls(int(vm))
        original(cls, vm)  # validates the mapping (and raises on a bad one) but loses the zero values
        return {int(rank): cls(int(v)) for rank, v in (m.split(":") for m in vm.split(","))}

    api.Std.from_str = classmethod(from_str)


def main(argv=None):
    _repair_std_from_str()
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import main as torchrun_main

    try:
        torchrun_main(sys.argv[1:] if argv is None else argv)
    except ChildFailedError as e:
        codes = {failure.exitcode for failure in e.failures.values()}
        if len(codes) == 1 and next(iter(codes)) in EXIT_CODES_PASSED_THROUGH:
            code = next(iter(codes))
            print("frugal-trainer torchrun: every failed rank exited %d" % code, file=sys.stderr, flush=True)
            return code
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
