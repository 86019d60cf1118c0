"""``imgkit doctor``: check that pulls and lessons will work, and say how to fix what won't."""

from __future__ import annotations

__all__ = ["register"]

_HELP = ("check the lab, the mirror, logins, Docker Hub's pull allowance, the clock, disk "
         "space and Graphviz")


def register(commands) -> None:
    """Add ``doctor``."""
    doctor = commands.add_parser("doctor", help=_HELP, description=_HELP + "; exit status 1 "
                                 "when a check fails")
    doctor.add_argument("--offline", action="store_true", help="do not ask Docker Hub")
    doctor.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                        help="how long each registry may take to answer (default 5)")
    doctor.set_defaults(run=_doctor)


def _doctor(args) -> int:
    from ..api.preflight import doctor

    report = doctor(hub=not args.offline, timeout=args.timeout)
    for line in report.lines():
        print(line)
    failures, warnings = len(report.failures), len(report.warnings)
    print(f"\n{failures} problem(s), {warnings} warning(s)" if failures or warnings
          else "\nall good")
    return 0 if report.ok else 1
