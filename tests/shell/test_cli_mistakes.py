"""A user's mistake at the command line ends in one line, ``error: ...``, never a traceback.

Every subcommand is run with input a newcomer gets wrong: missing files, unreadable
folders, bad dates and codes, an unreachable broker, a keystore without the key.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shell import free_port

G22, H29 = "000.00.00.G22", "000.00.00.H29"


@dataclass(frozen=True)
class Mistake:
    name: str
    args: tuple[str, ...]
    says: str  # a fragment the one line must hold
    with_key: bool = False  # the home holds G22's signing key


def _dead() -> str:
    return f"127.0.0.1:{_DEAD_PORT}"


_DEAD_PORT = free_port()  # nothing listens there: free_port closed it again

MISTAKES = [
    Mistake("no such command", ("nosuchcommand",), "No such command"),
    Mistake("home is a file", ("--home", "/etc/hostname", "keys", "list"), "--home"),
    Mistake("bad log level", ("topics", "ensure", "--log-level", "LOUD"), "log_level"),
    Mistake(
        "send without a key",
        ("send", "--from", G22, "--to", H29, "--subject", "x", "--bootstrap-servers", _dead()),
        "no signing key for 000.00.00.G22",
    ),
    Mistake(
        "send to no agency",
        ("send", "--from", G22, "--to", "000.00.00.Z99", "--subject", "x"),
        "recipient 000.00.00.Z99",
        with_key=True,
    ),
    Mistake(
        "send to no group",
        ("send", "--from", G22, "--to", "group:nobody", "--subject", "x"),
        "no group 'nobody'",
        with_key=True,
    ),
    Mistake(
        "send from a bad code",
        ("send", "--from", "non sense", "--to", H29, "--subject", "x"),
        "'non sense' is not an agency code",
    ),
    Mistake(
        "send to an unreachable broker",
        ("send", "--from", G22, "--to", H29, "--subject", "x", "--bootstrap-servers", _dead()),
        "cannot reach the broker",
        with_key=True,
    ),
    Mistake(
        "receive without a key",
        ("receive", "--agency", H29, "--bootstrap-servers", _dead()),
        "no signing key for 000.00.00.H29",
    ),
    Mistake(
        "receive from an unreachable broker",
        ("receive", "--agency", G22, "--bootstrap-servers", _dead()),
        "cannot reach the broker",
        with_key=True,
    ),
    Mistake("track an unknown id", ("track", "nonsense"), "no document nonsense"),
    Mistake("track nothing", ("track",), "give a DOCUMENT_ID"),
    Mistake("a gateway token for nobody", ("gateway", "token"), "give --agency CODE"),
    Mistake(
        "a gateway token for a bad code",
        ("gateway", "token", "--agency", "000.00.00.Z99"),
        "not a party of the directory",
    ),
    Mistake("revoke a token never issued", ("gateway", "token", "--revoke", "x"), "no live token"),
    Mistake(
        "client certificates over plain HTTP",
        ("gateway", "--client-ca", "/etc/hostname"),
        "--client-ca needs HTTPS",
    ),
    Mistake(
        "a TLS certificate without its key",
        ("gateway", "--tls-cert", "/etc/hostname"),
        "give --tls-cert and --tls-key together",
    ),
    Mistake("a certificate for nobody", ("gateway", "certificate"), "give --agency CODE"),
    Mistake(
        "a certificate for a bad code",
        ("gateway", "certificate", "--agency", "000.00.00.Z99"),
        "not a party of the directory",
    ),
    Mistake(
        "rebuild from an unreachable broker",
        ("track", "--rebuild", "--bootstrap-servers", _dead()),
        "cannot reach the broker",
    ),
    Mistake("resolve no agency", ("directory", "resolve", "000.00.00.Z99"), "000.00.00.Z99"),
    Mistake(
        "resolve on a bad date",
        ("directory", "resolve", H29, "--at", "2025-13-01"),
        "'2025-13-01'",
    ),
    Mistake(
        "publish to an unreachable broker",
        ("directory", "publish", "--bootstrap-servers", _dead()),
        "cannot reach the broker",
    ),
    Mistake("import a missing file", ("edxml", "import", "missing.edxml"), "No such file"),
    Mistake("import a folder", ("edxml", "import", "."), "Is a directory"),
    Mistake(
        "export a missing JSON file",
        ("edxml", "export", "missing.json", "--out", "out"),
        "No such file",
    ),
    Mistake(
        "export into a folder that cannot be made",
        ("edxml", "export", "--agency", H29, "--out", "/proc/docbus/out"),
        "/proc/docbus",
    ),
    Mistake("generate a key for a bad code", ("keys", "generate", "--agency", "b@d"), "'b@d'"),
    Mistake(
        "rotate on a bad date",
        ("keys", "rotate", "--agency", G22, "--starts", "tomorrow"),
        "'tomorrow'",
    ),
    Mistake(
        "topics on an unreachable broker",
        ("topics", "ensure", "--bootstrap-servers", _dead()),
        "cannot reach the broker",
    ),
    Mistake(
        "router on an unreachable broker",
        ("router", "--bootstrap-servers", _dead()),
        "cannot reach the broker",
    ),
    Mistake("replay a year without figures", ("replay", "--year", "1999"), "'1999'"),
    Mistake("replay more than the year", ("replay", "--scale", "2"), "--scale"),
    Mistake("replay in no spans", ("replay", "--segments", "0"), "neither auto nor a number"),
    Mistake("demo of no documents", ("demo", "--documents", "-5"), "--documents"),
    Mistake("bench of too few documents", ("bench", "router", "--documents", "0"), "0"),
]


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    """A port something already listens on."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        yield listening.getsockname()[1]


def _docbus(args: tuple[str, ...], home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCBUS_")}
    env["DOCBUS_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "shell.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _assert_one_line(result: subprocess.CompletedProcess[str], says: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr and "Unclosed" not in result.stderr, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    assert says in lines[0], lines


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_a_mistake_gets_one_line(mistake: Mistake, tmp_path: Path) -> None:
    home = tmp_path / "home"
    if mistake.with_key:
        made = _docbus(("keys", "generate", "--agency", G22), home, tmp_path)
        assert made.returncode == 0, made.stderr
    _assert_one_line(_docbus(mistake.args, home, tmp_path), mistake.says)


def test_a_busy_port_gets_one_line(busy_port: int, tmp_path: Path) -> None:
    result = _docbus(("broker", "--port", str(busy_port)), tmp_path / "home", tmp_path)
    _assert_one_line(result, str(busy_port))


def test_every_subcommand_is_tried() -> None:
    """Each command of ``docbus --help`` appears in a mistake above."""
    from shell.cli import main

    tried = {m.args[0] for m in MISTAKES} | {"broker"}
    assert set(main.commands) <= tried, set(main.commands) - tried


def test_home_flag_and_variable_hold_the_state_wherever_commands_run(tmp_path: Path) -> None:
    """``docbus --home DIR`` and DOCBUS_HOME put the keys there, not in the folder the
    command runs from."""
    work, flagged, variable = tmp_path / "work", tmp_path / "flagged", tmp_path / "variable"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCBUS_")}
    flag = ("--home", str(flagged))
    made = subprocess.run(
        [sys.executable, "-m", "shell.cli", *flag, "keys", "generate", "--agency", G22],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    assert _docbus(("keys", "generate", "--agency", H29), variable, work).returncode == 0
    assert all(p.name.startswith(G22) for p in (flagged / "keys").glob("*.pem"))
    assert all(p.name.startswith(H29) for p in (variable / "keys").glob("*.pem"))
    assert any((flagged / "keys").glob("*.pem")) and any((variable / "keys").glob("*.pem"))
    assert list(work.iterdir()) == []


def test_a_command_imports_only_what_it_runs() -> None:
    """``docbus keys list`` does not load the gateway's web framework (FastAPI, Starlette,
    Jinja2), nor does a process a command spawns (it re-imports the entry point);
    ``docbus --help`` lists every command."""
    probe = (
        "import sys\n"
        "from shell.cli import main\n"
        "try:\n"
        "    main(['keys', 'list', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('fastapi', 'starlette', 'jinja2') if m in sys.modules))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.strip().splitlines()[-1] == "[]", run.stdout
    listed = subprocess.run(
        [sys.executable, "-m", "shell.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    for command in ("bench", "demo", "edxml", "gateway", "replay", "router", "track"):
        assert f"  {command} " in listed, command
