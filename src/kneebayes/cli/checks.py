"""``kneebayes check`` (every problem in a model file) and ``kneebayes claims`` (the article's claims kept in it)."""

from __future__ import annotations

import argparse

from ..model import load_model
from ..modelfile.load import check_model_file, default_model_path


def run_check(args: argparse.Namespace) -> int:
    """``kneebayes check [PATH]``: every problem in the model file (default: the packaged one); 1 if there are any."""
    path = args.path if args.path is not None else default_model_path()
    problems = check_model_file(path)
    for p in problems:
        print(p)
    print(f"{path}: {'OK' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


def run_claims(args: argparse.Namespace) -> int:
    """``kneebayes claims``: each of the article's claims kept in the model file, held or not; 1 if any fails."""
    report = load_model(args.model).check_claims()
    print(report)
    return 0 if report.all_held else 1
