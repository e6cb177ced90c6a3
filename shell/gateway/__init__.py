"""The HTTP gateway for agency systems without the Python SDK (``docbus gateway``)."""

from shell.gateway._app import create_app
from shell.gateway._certificates import CertificateAuthority, IssuedCertificate
from shell.gateway._metrics import GatewayMetrics
from shell.gateway._protocol import gateway_protocol, tls_options
from shell.gateway._state import GatewayLimits
from shell.gateway._tokens import Caller, Role, TokenStore

__all__ = [
    "Caller",
    "CertificateAuthority",
    "GatewayLimits",
    "GatewayMetrics",
    "IssuedCertificate",
    "Role",
    "TokenStore",
    "create_app",
    "gateway_protocol",
    "tls_options",
]
