"""The HTTP service behind ``provenance serve``: ``POST /v1/verify``,
``POST /v1/sign``, ``GET /healthz``, ``GET /openapi.json`` and the verify
page at ``/``.

    >>> from provenance.service import ServiceConfig, create_app
    >>> app = create_app(ServiceConfig(trust=store))  # doctest: +SKIP
"""

from provenance.service.app import ServiceError, create_app
from provenance.service.config import BearerTokens, ServiceConfig, parse_size
from provenance.service.expectations import SignerExpectation, check_expectation

__all__ = [
    "BearerTokens",
    "ServiceConfig",
    "ServiceError",
    "SignerExpectation",
    "check_expectation",
    "create_app",
    "parse_size",
]
