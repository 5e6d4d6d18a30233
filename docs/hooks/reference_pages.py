"""MkDocs hook: pages generated from the code when the site is built.

- reference/service-api.md from the OpenAPI document the service serves
  (``provenance.service.openapi.openapi_document``), with and without the
  repository's Soft Binding Resolution API;
- the ``<!-- cli-envvars -->`` marker in a page becomes a table of every
  command-line option that reads an environment variable, read from the
  click definitions.

Generated, so the docs cannot drift from the code.
"""

from __future__ import annotations

import json
from typing import Any

import click
from mkdocs.structure.files import File, Files

SERVICE_PAGE = "reference/service-api.md"
ENVVARS_MARKER = "<!-- cli-envvars -->"
# the default of `serve --max-upload`
DEFAULT_MAX_UPLOAD = 2 * 1024**3


def on_files(files: Files, config: Any) -> Files:
    files.append(File.generated(config, SERVICE_PAGE, content=service_page()))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    if ENVVARS_MARKER in markdown:
        markdown = markdown.replace(ENVVARS_MARKER, envvar_table())
    return markdown


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _schema_text(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    kind = schema.get("type", "")
    if "enum" in schema:
        return f"{kind}: " + ", ".join(f"`{value}`" for value in schema["enum"])
    if isinstance(kind, list):
        kind = " or ".join(kind)
    return str(kind)


def service_page() -> str:
    from provenance.service.openapi import openapi_document

    document = openapi_document(max_upload=DEFAULT_MAX_UPLOAD, resolution=True)
    lines = [
        "# Service API",
        "",
        "Generated from the OpenAPI document that `provenance serve` serves at",
        "`GET /openapi.json` (OpenAPI " + document["openapi"] + "), here with the default",
        "`--max-upload` (2G) and with `--repo` (the Soft Binding Resolution API).",
        "How to run the service, its limits and its error statuses:",
        "[the service](../platforms.md#the-service-provenance-serve).",
        "",
        document["info"].get("description", ""),
        "",
    ]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            lines += [f"## `{method.upper()} {path}`", ""]
            if operation.get("summary"):
                lines += [f"**{_cell(operation['summary'])}**", ""]
            if operation.get("description"):
                lines += [operation["description"], ""]
            if operation.get("security"):
                schemes = ", ".join(name for item in operation["security"] for name in item)
                lines += [f"Authentication: {schemes}.", ""]
            parameters = operation.get("parameters", [])
            if parameters:
                lines += ["| parameter | in | type | meaning |", "|---|---|---|---|"]
                for parameter in parameters:
                    if "$ref" in parameter:
                        name = parameter["$ref"].rsplit("/", 1)[-1]
                        parameter = document["components"]["parameters"][name]
                    lines.append(
                        f"| `{parameter['name']}` | {parameter.get('in', '')} | "
                        f"{_cell(_schema_text(parameter.get('schema')))} | {_cell(parameter.get('description', ''))} |"
                    )
                lines.append("")
            body = operation.get("requestBody")
            if body:
                kinds = ", ".join(f"`{kind}`" for kind in body.get("content", {}))
                lines += [f"Request body: {kinds}. {_cell(body.get('description', ''))}", ""]
            lines += ["| status | meaning | content |", "|---|---|---|"]
            for status, response in operation["responses"].items():
                if "$ref" in response:
                    name = response["$ref"].rsplit("/", 1)[-1]
                    response = document["components"]["responses"][name]
                kinds = ", ".join(f"`{kind}`" for kind in response.get("content", {}))
                lines.append(f"| {status} | {_cell(response.get('description', ''))} | {kinds} |")
            lines.append("")
    lines += [
        "## The whole document",
        "",
        "```json",
        json.dumps(document, indent=2, ensure_ascii=False),
        "```",
        "",
    ]
    return "\n".join(lines)


def _walk(command: click.Command, ctx: click.Context, path: list[str]):
    yield path, command
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                yield from _walk(sub, click.Context(sub, parent=ctx, info_name=name), [*path, name])


def envvar_table() -> str:
    from provenance.cli import cli

    rows: dict[tuple[str, str], list[str]] = {}
    root = click.Context(cli, info_name="provenance")
    for path, command in _walk(cli, root, ["provenance"]):
        for param in command.params:
            if not isinstance(param, click.Option) or not param.envvar:
                continue
            names = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar)
            flag = max(param.opts, key=len)
            for name in names:
                rows.setdefault((name, flag), []).append(" ".join(path[1:]))
    lines = ["| variable | option | commands |", "|---|---|---|"]
    for (name, flag), commands in sorted(rows.items()):
        lines.append(f"| `{name}` | `{flag}` | {', '.join(f'`{c}`' for c in sorted(set(commands)))} |")
    return "\n".join(lines)
