"""MkDocs hook: the command-line reference, rendered from the `sim` command itself.

A page that holds the marker below gets, in its place, every command of
`sim.cli.app` as `sim --help` and `sim COMMAND --help` describe it: the
command's help (Markdown, as typer renders it), its usage line and a table of
its arguments and options, in the order `sim --help` lists them. Nothing is
written by hand, so the page cannot fall behind the code.
"""

from __future__ import annotations

import inspect

import click
import typer.main

MARKER = "<!-- sim-cli-reference -->"


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, reference())


def reference() -> str:
    """The whole `sim` command as Markdown: the group first, then one section a command."""
    from sim.cli import app

    group = typer.main.get_command(app)
    root = click.Context(group, info_name="sim")
    lines = [*_help(group), "", *_usage(root)]
    for name in group.list_commands(root):
        command = group.get_command(root, name)
        if command is None or command.hidden:
            continue
        context = click.Context(command, info_name=name, parent=root, **command.context_settings)
        lines += [f"## sim {name}", "", *_help(command), "", *_usage(context), *_options(context)]
    return "\n".join(lines) + "\n"


def _help(command: click.Command) -> list[str]:
    return inspect.cleandoc(command.help or command.short_help or "").splitlines()


def _usage(context: click.Context) -> list[str]:
    pieces = " ".join(context.command.collect_usage_pieces(context))
    return ["```text", f"{context.command_path} {pieces}".rstrip(), "```", ""]


def _options(context: click.Context) -> list[str]:
    rows = []
    for parameter in context.command.get_params(context):
        record = parameter.get_help_record(context)
        if record is None:
            continue
        names, meaning = record
        rows.append(f"| `{' '.join(names.split())}` | {_cell(meaning)} |")
    if not rows:
        return []
    return ["| argument or option | meaning |", "| --- | --- |", *rows, ""]


def _cell(text: str) -> str:
    """Help text as one table cell: outside code spans, `<>|[]` are kept as text."""
    parts = " ".join(text.split()).split("`")
    for i in range(0, len(parts), 2):  # the even parts are outside code spans
        for char, shown in _AS_TEXT.items():
            parts[i] = parts[i].replace(char, shown)
    return "`".join(parts)


#: Characters that Markdown would read as HTML, a cell's end or a link, spelt as text.
_AS_TEXT = {"<": "&lt;", ">": "&gt;", "|": "\\|", "[": "\\[", "]": "\\]"}
