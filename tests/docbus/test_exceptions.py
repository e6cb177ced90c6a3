"""Tests for docbus._exceptions: one tree rooted in DocbusError."""

from __future__ import annotations

import inspect

import docbus
from docbus import _exceptions


def test_every_error_derives_from_docbus_error() -> None:
    """Every exception class of the module is a DocbusError."""
    classes = [
        c for _, c in inspect.getmembers(_exceptions, inspect.isclass) if issubclass(c, Exception)
    ]
    assert len(classes) >= 15
    assert all(issubclass(c, docbus.DocbusError) for c in classes)


def test_branches() -> None:
    """The codec's, the directory's and the router's errors are branches of the tree."""
    assert issubclass(docbus.UnknownSchemaError, docbus.CodecError)
    assert issubclass(docbus.UnknownAgencyError, docbus.DirectoryError)
    assert issubclass(docbus.RoutingRejected, docbus.RouterError)
    assert issubclass(docbus.EmbeddedBrokerError, docbus.BrokerError)


def test_broker_errors_carry_retriable() -> None:
    """A BrokerError says whether a retry may help."""
    assert docbus.BrokerError("x", retriable=True).retriable
    assert not docbus.CodecError("x").retriable


def test_docstring_draws_the_tree() -> None:
    """The module docstring names every exported error."""
    for name in _exceptions.__all__:
        assert name in (_exceptions.__doc__ or ""), name
