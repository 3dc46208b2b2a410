"""Xietong (协同) ledger: the core library of the gateway, without HTTP.

Public API::

    from ledger import Settings, LedgerError, department_id
    from ledger.chain import open_client, deploy, start_node
"""

from __future__ import annotations

from . import _recursion  # noqa: F401  (first: see its docstring)
from .errors import (
    AlreadyDeployedError,
    ChainError,
    ChainUnavailableError,
    CompilerError,
    ConfigurationError,
    ContractRevertError,
    DeploymentError,
    InputError,
    KeyRefusedError,
    LedgerError,
    NodeError,
    TransactionFailedError,
)
from .ids import AgreementTerms, agreement_id, code_hash, commitment_id, dataset_id, department_id
from .settings import Settings

__version__ = "0.1.0"

__all__ = [
    "AgreementTerms",
    "AlreadyDeployedError",
    "ChainError",
    "ChainUnavailableError",
    "CompilerError",
    "ConfigurationError",
    "ContractRevertError",
    "DeploymentError",
    "InputError",
    "KeyRefusedError",
    "LedgerError",
    "NodeError",
    "Settings",
    "TransactionFailedError",
    "__version__",
    "agreement_id",
    "code_hash",
    "commitment_id",
    "dataset_id",
    "department_id",
]
