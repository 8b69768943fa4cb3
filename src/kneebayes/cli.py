"""The ``kneebayes`` command line: diagnose a case, check a model file, check the claims."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .errors import KneeBayesError

DISCLAIMER = (
    "Decision support from one article on tightness behind the knee after running; "
    "not a medical diagnosis."
)


def _parse_answers(pairs: Sequence[str]) -> dict[str, str]:
    evidence: dict[str, str] = {}
    for pair in pairs:
        node, sep, state = pair.partition("=")
        if not sep or not node or not state:
            raise KneeBayesError(f"cannot read {pair!r}: write answers as ID=state, e.g. locking_or_catching=yes")
        if node in evidence:
            raise KneeBayesError(f"{node!r} is answered twice")
        evidence[node] = state
    return evidence


def _diagnose(args: argparse.Namespace) -> int:
    from .model import load_model

    model = load_model(args.model)
    dx = model.diagnose(_parse_answers(args.answers))
    if args.json:
        out = dx.to_dict()
        out["disclaimer"] = DISCLAIMER
        print(json.dumps(out, indent=2))
    else:
        given = ", ".join(f"{k}={v}" for k, v in dx.evidence.items()) or "nothing answered yet"
        print(f"Evidence: {given}")
        print(dx)
        print(f"(model {dx.model.name} {dx.model.version}, hash {dx.model.content_hash[:12]})")
        print(DISCLAIMER)
    return 0


def _check(args: argparse.Namespace) -> int:
    from .modelfile.load import check_model_file, default_model_path

    path = args.path or default_model_path()
    problems = check_model_file(path)
    for p in problems:
        print(p)
    print(f"{path}: {'OK' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


def _claims(args: argparse.Namespace) -> int:
    from .model import load_model

    report = load_model(args.model).check_claims()
    print(report)
    return 0 if report.all_held else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kneebayes", description="Bayesian diagnosis of tightness behind the knee after running.")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("diagnose", help="posterior of the causes for some answers")
    d.add_argument("answers", nargs="*", metavar="ID=STATE", help="answers, e.g. locking_or_catching=yes")
    d.add_argument("--json", action="store_true", help="machine-readable output")
    d.add_argument("--model", default=None, help="a model file (default: the packaged knee model)")
    d.set_defaults(run=_diagnose)
    c = sub.add_parser("check", help="list every problem in a model file")
    c.add_argument("path", nargs="?", default=None)
    c.set_defaults(run=_check)
    k = sub.add_parser("claims", help="check the article's claims kept in the model file")
    k.add_argument("--model", default=None)
    k.set_defaults(run=_claims)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except KneeBayesError as exc:
        print(f"kneebayes: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
