"""The ``provenance`` command: a thin click layer over the library.
The command line is the interface; these modules are internal and unstable.

Each command builds its inputs, calls one library function and renders
the result. Errors are caught once, here, and printed as one line.

The group is lazy: ``provenance --help`` lists every command from the table
below without importing any of them, and a command's module (with c2pa,
PyAV, rich...) is imported only when that command runs. A test keeps each
short help here equal to the command's own docstring.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

import click

from provenance._version import __version__
from provenance.errors import ExitCode, ProvenanceError
from provenance.text import MESSAGE_LIMIT, inert_markup

# name -> (module, attribute, short help as `provenance --help` lists it)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": (
        "provenance.cli.demo_cmd",
        "demo",
        "Sign a sample clip, then tamper with it, strip it and re-encode it, and recover the re-encoded copy's "
        "provenance by its content.",
    ),
    "keys": ("provenance.cli.keys_cmd", "keys", "Create and manage signing identities."),
    "remux": (
        "provenance.cli.edit_cmd",
        "remux",
        "Change INPUT's container without re-encoding and sign it, INPUT kept as parent.",
    ),
    "repo": (
        "provenance.cli.repo_cmd",
        "repo",
        "The manifest repository: signed clips' manifest stores with their content fingerprints, so that a copy "
        "that lost its credentials (a re-encode, a cut) can be matched to the signed original.",
    ),
    "serve": (
        "provenance.cli.serve_cmd",
        "serve",
        "Run the HTTP service: POST /v1/verify, POST /v1/sign (bearer token), GET /healthz, "
        "GET /openapi.json, and the verify page at /; with --repo, the C2PA Soft Binding Resolution API "
        "(/matches/byBinding, /matches/byContent, /manifests/{id}, /services/supportedAlgorithms).",
    ),
    "show": (
        "provenance.cli.show_cmd",
        "show",
        "List the chain of manifests in FILE, numbered, and extract thumbnails.",
    ),
    "sign": (
        "provenance.cli.sign_cmd",
        "sign",
        "Sign a clip (MP4, MOV, M4V or AVI) and write the signed copy to OUTPUT.",
    ),
    "transcode": ("provenance.cli.edit_cmd", "transcode", "Re-encode INPUT and sign the result, INPUT kept as parent."),
    "trim": ("provenance.cli.edit_cmd", "trim", "Keep a time span of INPUT and sign the result, INPUT kept as parent."),
    "trust": ("provenance.cli.trust_cmd", "trust", "Manage the trust lists that `verify` loads by default."),
    "verify": (
        "provenance.cli.verify_cmd",
        "verify",
        "Verify the content credentials of each PATH: a file, a folder (walked recursively) or - (paths on stdin).",
    ),
    "worker": (
        "provenance.cli.worker_cmd",
        "worker",
        "Run a Celery worker for provenance tasks (verify, sign, register, lookup) from a Redis broker, until stopped.",
    ),
}


class _Group(click.Group):
    """Loads each command's module only when that command runs; turns every
    ProvenanceError into one line and its exit code, and any other
    exception into one line with exit code 70 (a bug)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, attribute, _ = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The listing comes from the table: --help imports no command module.
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.commands:
                rows.append((name, self.commands[name].get_short_help_str(limit)))
            else:
                rows.append((name, click.utils.make_default_short_help(COMMANDS[name][2], limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> object:
        from provenance.cli.common import console_err  # rich: only once a command runs
        from provenance.cli.hints import cli_diagnostics

        try:
            return super().invoke(ctx)
        except ProvenanceError as exc:
            # The message names files, box types and c2pa text: shown inert.
            console_err.print(
                f"[bold red]error:[/] {inert_markup(cli_diagnostics(exc), limit=MESSAGE_LIMIT)}",
                highlight=False,
                soft_wrap=True,
            )
            ctx.exit(int(exc.exit_code))
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            console_err.print("interrupted", highlight=False)
            ctx.exit(130)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if os.environ.get("PROVENANCE_DEBUG"):
                raise
            console_err.print(
                f"[bold red]internal error:[/] {inert_markup(f'{type(exc).__name__}: {exc}', limit=MESSAGE_LIMIT)}; "
                "please report it (set PROVENANCE_DEBUG=1 for details)",
                highlight=False,
                soft_wrap=True,
            )
            ctx.exit(int(ExitCode.INTERNAL))
        return None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="provenance")
def cli() -> None:
    """Sign and verify C2PA content credentials on video."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (for tests: ``main([...])``)."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="provenance", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
