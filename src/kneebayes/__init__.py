"""kneebayes: Bayesian diagnostic models, exact and fast.

The flagship model diagnoses tightness behind the knee after running; the
engine serves any discrete diagnostic network.

>>> import kneebayes
>>> model = kneebayes.load_model()
>>> dx = model.diagnose({"locking_or_catching": "yes", "swelling_behind_knee": "yes"})
>>> dx.ranked_causes[0][0]
'meniscal_injury'

Importing kneebayes loads numpy only; YAML, networkx, pgmpy, pandas and
matplotlib load inside the functions that need them.
"""

from .claims import ClaimReport, ClaimResult
from .diagnosis import Diagnosis, ModelInfo
from .errors import (
    EvidenceError,
    ImpossibleEvidenceError,
    InvalidStateError,
    KneeBayesError,
    ModelFileError,
    ParameterError,
    Problem,
    UnknownNodeError,
)
from .interop.importer import RenormalisedWarning, from_pgmpy, load_bif
from .interview import AlreadyAnsweredError, Interview
from .model import Model, Node, load_model
from .modelfile.load import check_model_file
from .questions import Question, Settings, StopReason
from .research.sensitivity import sensitivity

__version__ = "0.1.0"

__all__ = [
    "AlreadyAnsweredError",
    "RenormalisedWarning",
    "from_pgmpy",
    "load_bif",
    "sensitivity",
    "Interview",
    "Question",
    "Settings",
    "StopReason",
    "ClaimReport",
    "ClaimResult",
    "Diagnosis",
    "EvidenceError",
    "ImpossibleEvidenceError",
    "InvalidStateError",
    "KneeBayesError",
    "Model",
    "ModelFileError",
    "ModelInfo",
    "Node",
    "ParameterError",
    "Problem",
    "UnknownNodeError",
    "__version__",
    "check_model_file",
    "load_model",
]
