"""``kneebayes check`` (every problem in a model file) and ``kneebayes claims`` (the article's claims kept in it)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import PATH_LIMIT, KneeBayesError, printable, quote
from ..model import load_model
from ..modelfile.load import check_model_file, default_model_path
from .models import is_network


def run_check(args: argparse.Namespace) -> int:
    """``kneebayes check [PATH]``: every problem in the model file (default: the packaged one); 1 if there are any."""
    path = args.path if args.path is not None else default_model_path()
    if is_network(args.path):   # a BIF, XMLBIF or XDSL file is no model file: say so, not "not a YAML mapping"
        raise KneeBayesError(f"{quote(str(path), PATH_LIMIT)} is a network file; kneebayes check reads model files "
                             f"(YAML). Its problems show when it loads: kneebayes nodes --model {path} --targets ...")
    problems = check_model_file(path)
    if problems and not Path(path).is_file():   # nothing to check (missing, a folder): an error, as elsewhere
        raise KneeBayesError(str(problems[0]))
    for p in problems:
        print(p)   # a Problem escapes what it quotes from the file
    print(printable(f"{path}: {'OK' if not problems else f'{len(problems)} problem(s)'}"))
    return 1 if problems else 0


def run_claims(args: argparse.Namespace) -> int:
    """``kneebayes claims``: each of the article's claims kept in the model file, held or not; 1 if any fails."""
    if is_network(args.model):
        raise KneeBayesError(f"{quote(args.model, PATH_LIMIT)} is a network file; claims are kept in model files "
                             "(YAML) only")
    report = load_model(args.model).check_claims()
    print(printable(str(report)))
    return 0 if report.all_held else 1
