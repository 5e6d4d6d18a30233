"""Start-up stays light: importing the package or the CLI entry point, and
`provenance --help`, load none of the heavy modules (c2pa, PyAV, numpy,
Starlette); the verify command loads c2pa but never PyAV, numpy or Starlette.
Each check runs in a fresh interpreter, where sys.modules is its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from provenance.identity.pki import DevPKI

HEAVY = ("c2pa", "av", "numpy", "starlette")

REPORT = "import json, sys; print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))"


def _loaded(code: str, *, cwd: Path | None = None, watch: tuple[str, ...] = HEAVY) -> list[str]:
    script = code + "\n" + REPORT.format(heavy=watch)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    loaded: list[str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize(
    "code",
    [
        "import provenance",
        "from provenance.cli import main",
        "import provenance, provenance.cli; provenance.__all__; dir(provenance)",
    ],
)
def test_importing_loads_no_heavy_module(code: str) -> None:
    assert _loaded(code) == []


def test_help_lists_every_command_and_loads_no_heavy_module() -> None:
    code = (
        "import contextlib, io\n"
        "from provenance.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    assert main(['--help']) == 0\n"
        "assert 'verify' in out.getvalue() and 'transcode' in out.getvalue(), out.getvalue()\n"
    )
    assert _loaded(code) == []


def test_a_public_name_loads_only_what_it_needs() -> None:
    # The errors and the trust store need no c2pa; verify needs c2pa only.
    assert _loaded("from provenance import ProvenanceError, TrustStore, Verdict") == []
    assert _loaded("from provenance import verify") == ["c2pa"]


def test_verify_command_never_loads_pyav_numpy_or_starlette(signed_clip: Path, pki: DevPKI, tmp_path: Path) -> None:
    root = pki.root_cert
    code = (
        "from provenance.cli import main\n"
        f"code = main(['verify', {str(signed_clip)!r}, '--trust', {str(root)!r}, '--no-trust-store', '--json'])\n"
        "assert code == 0, code\n"
    )
    assert _loaded(code, cwd=tmp_path) == ["c2pa"]


def test_verify_json_of_one_clip_loads_neither_rich_nor_the_batch_machinery(
    signed_clip: Path, pki: DevPKI, tmp_path: Path
) -> None:
    # A platform's `verify --json` of one upload pays for neither the card
    # (rich) nor the batch (its pool, inputs walk and summary).
    root = pki.root_cert
    code = (
        "from provenance.cli import main\n"
        f"code = main(['verify', {str(signed_clip)!r}, '--trust', {str(root)!r}, '--no-trust-store', '--json'])\n"
        "assert code == 0, code\n"
    )
    watch = ("rich", "rich.console", "provenance.batch", "provenance.batch.pool", "platformdirs")
    assert _loaded(code, cwd=tmp_path, watch=watch) == []
    # the card does load rich: the check above can fail
    card = code.replace(", '--json'", "")
    assert "rich" in _loaded(card, cwd=tmp_path, watch=watch)
    import provenance.batch
    import provenance.cli.batch

    assert provenance.cli.batch.STDIN == provenance.batch.STDIN


def test_the_help_table_matches_each_command() -> None:
    # `--help` lists commands from a table so that it imports none of them;
    # each row must say what the command's own docstring says.
    import click

    from provenance.cli import COMMANDS, cli

    ctx = click.Context(cli)
    for name, (_module, _attribute, short_help) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=1000) == short_help, name


def test_public_api_names_resolve_and_modules_are_not_shadowed() -> None:
    import importlib

    import provenance

    for name in provenance.__all__:
        assert getattr(provenance, name) is not None, name
    assert set(provenance.__all__) <= set(dir(provenance))
    assert importlib.import_module("provenance.signing").sign is provenance.sign
    import provenance.signing as signing_module

    assert signing_module.__name__ == "provenance.signing"
    with pytest.raises(AttributeError):
        provenance.no_such_name  # noqa: B018


def test_no_module_is_shadowed_by_a_function_of_its_name() -> None:
    # the function verify() and the package verification/ have different
    # names, so importing the package leaves the function alone, and every
    # submodule imports under its own name
    code = (
        "import provenance.verification.report as report\n"
        "import provenance.signing as signing\n"
        "import provenance\n"
        "from provenance import sign, verify\n"
        "assert report.__name__ == 'provenance.verification.report'\n"
        "assert signing.__name__ == 'provenance.signing' and callable(sign)\n"
        "assert callable(verify) and verify.__module__ == 'provenance.verification.verifier', verify\n"
        "assert provenance.verify is verify and provenance.verification.__name__ == 'provenance.verification'\n"
    )
    assert _loaded(code) == ["c2pa"]
