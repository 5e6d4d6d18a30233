"""The ``provenance`` command: a thin click layer over the library.

Each command builds its inputs, calls one library function and renders
the result. Errors are caught once, here, and printed as one line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from provenance import __version__
from provenance.cli.common import console_err
from provenance.errors import ExitCode, ProvenanceError


class _Group(click.Group):
    """Turns every ProvenanceError into one line and its exit code, and any
    other exception into one line with exit code 70 (a bug)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ProvenanceError as exc:
            console_err.print(f"[bold red]error:[/] {exc.diagnostics()}", highlight=False, soft_wrap=True)
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
                f"[bold red]internal error:[/] {type(exc).__name__}: {exc}; "
                "please report it (set PROVENANCE_DEBUG=1 for details)",
                highlight=False, soft_wrap=True,
            )
            ctx.exit(int(ExitCode.INTERNAL))
        return None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="provenance")
def cli() -> None:
    """Sign and verify C2PA content credentials on video."""


def _register() -> None:
    from provenance.cli import (
        demo_cmd,
        edit_cmd,
        keys_cmd,
        repo_cmd,
        serve_cmd,
        show_cmd,
        sign_cmd,
        trust_cmd,
        verify_cmd,
    )

    cli.add_command(keys_cmd.keys)
    cli.add_command(sign_cmd.sign)
    cli.add_command(verify_cmd.verify)
    cli.add_command(demo_cmd.demo)
    cli.add_command(trust_cmd.trust)
    cli.add_command(edit_cmd.transcode)
    cli.add_command(edit_cmd.trim)
    cli.add_command(edit_cmd.remux)
    cli.add_command(show_cmd.show)
    cli.add_command(serve_cmd.serve)
    cli.add_command(repo_cmd.repo)


_register()


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
