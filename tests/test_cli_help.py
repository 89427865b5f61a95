"""Every option and argument of every subcommand says what it is for (``examiner X --help``)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from examiner.cli import build_parser


def _walk(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, f"{path} {name}")


def missing_help() -> list[str]:
    missing = []
    for path, parser in _walk(build_parser(), "examiner"):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
                continue
            if not (action.help or "").strip():
                missing.append(f"{path}: {'/'.join(action.option_strings) or action.dest}")
    return missing


def test_every_option_of_every_subcommand_has_help() -> None:
    missing = missing_help()
    assert not missing, f"{len(missing)} option(s) without help text:\n" + "\n".join(missing)


def test_the_walk_sees_every_subcommand() -> None:
    # The check above could pass by walking nothing: it must reach nested actions too.
    paths = [p for p, _ in _walk(build_parser(), "examiner")]
    assert "examiner case add-region" in paths and "examiner codecs fetch" in paths and len(paths) > 20
