"""kneebayes: Bayesian diagnostic models, exact and fast.

The flagship model diagnoses tightness behind the knee after running; the
engine serves any discrete diagnostic network.

>>> import kneebayes
>>> model = kneebayes.load_model()
>>> dx = model.diagnose({"locking_or_catching": "yes", "swelling_behind_knee": "yes"})
>>> dx.ranked_causes[0][0]
'meniscal_injury'

``import kneebayes`` itself loads almost nothing: each public name is
imported the first time it is used (numpy and YAML with the first model;
networkx, scipy, pgmpy, pandas and matplotlib only inside the functions
that need them).
"""

import typing as _typing
from importlib import import_module as _import_module

__version__ = "0.1.0"

# Public name -> the module that defines it (loaded on first use).
_WHERE = {
    "AlreadyAnsweredError": ".interview",
    "ClaimReport": ".claims",
    "ClaimResult": ".claims",
    "Combination": ".diagnosis",
    "Diagnosis": ".diagnosis",
    "EvidenceError": ".errors",
    "ImpossibleEvidenceError": ".errors",
    "InputFileError": ".errors",
    "IntractableError": ".errors",
    "Interview": ".interview",
    "InvalidStateError": ".errors",
    "KneeBayesError": ".errors",
    "Likelihood": ".likelihood",
    "Model": ".model",
    "MissingExtraError": ".errors",
    "ModelFileError": ".errors",
    "ModelInfo": ".diagnosis",
    "Node": ".model",
    "OutputFileError": ".errors",
    "ParameterError": ".errors",
    "PrecisionWarning": ".network.compiled",
    "Problem": ".errors",
    "Question": ".questions",
    "RenormalisedWarning": ".interop.importer",
    "SettingError": ".errors",
    "SkippedContentWarning": ".interop.skipped",
    "SavedInterviewError": ".interview",
    "Settings": ".questions",
    "StopReason": ".questions",
    "UnknownNodeError": ".errors",
    "WrongTypeError": ".errors",
    "check_model_file": ".modelfile.load",
    "explore": ".display.explore",
    "from_pgmpy": ".interop.importer",
    "load_bif": ".interop.importer",
    "load_network": ".interop.importer",
    "load_model": ".model",
    "sensitivity": ".research.sensitivity",
}

__all__ = sorted([*_WHERE, "__version__"])


def __getattr__(name: str) -> _typing.Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'kneebayes' has no attribute {name!r}")
    value = getattr(_import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if _typing.TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load lazily
    from .claims import ClaimReport, ClaimResult
    from .diagnosis import Combination, Diagnosis, ModelInfo
    from .display.explore import explore
    from .errors import (
        EvidenceError,
        ImpossibleEvidenceError,
        InputFileError,
        IntractableError,
        InvalidStateError,
        KneeBayesError,
        MissingExtraError,
        ModelFileError,
        OutputFileError,
        ParameterError,
        Problem,
        SettingError,
        UnknownNodeError,
        WrongTypeError,
    )
    from .interop.importer import RenormalisedWarning, from_pgmpy, load_bif, load_network
    from .interop.skipped import SkippedContentWarning
    from .interview import AlreadyAnsweredError, Interview, SavedInterviewError
    from .likelihood import Likelihood
    from .model import Model, Node, load_model
    from .modelfile.load import check_model_file
    from .network.compiled import PrecisionWarning
    from .questions import Question, Settings, StopReason
    from .research.sensitivity import sensitivity
