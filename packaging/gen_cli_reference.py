"""Write docs/reference/cli.md from the ``examiner`` argument parser, so the page cannot go stale.

Usage: python packaging/gen_cli_reference.py            (rewrite the page)
       python packaging/gen_cli_reference.py --check    (exit 1 if the page differs from the parser)

``make docs`` runs it before building the site; tests/test_docs_site.py checks that every
command the parser knows appears in the page.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "reference" / "cli.md"
# argparse wraps help to the terminal width; a fixed width keeps the page the same everywhere.
WIDTH = "100"

INTRO = """\
# Command-line reference

Everything the window does also runs from the `examiner` command line. This page is generated from
the program's own argument parser by `packaging/gen_cli_reference.py` (`make docs` runs it), so it
lists exactly the commands and options of this version; `examiner COMMAND --help` prints the same.
The guide shows the commands in the order of an examination, starting with
[Open an image or a case](../guide/open-image.md).

Every command that analyses or records something takes `--json` for machine-readable output.
Everything a command prints passes one filter that shows control and bidirectional characters as
escapes (see [Case file and audit log](case-file.md)).

## Exit status

| status | meaning |
|---|---|
| 0 | done; for checks (`case verify`, `screen --verify`): everything checks out |
| 1 | the output pipe was closed |
| 2 | bad input or usage: one line on stderr names the file and the problem |
| 3 | an integrity problem: a file no longer matches its hash, the audit log or a row does not check out |
| 4 | `inspect` only: the metadata is hostile or unreadable, or the extension does not match the content (`--lenient` keeps 0) |
| 70 | an internal error (`--debug` shows the traceback) |
| 130 | interrupted or cancelled |
"""


def commands(parser: argparse.ArgumentParser) -> list[tuple[list[str], argparse.ArgumentParser]]:
    """Every sub-command, depth first, as (name path, parser)."""
    found: list[tuple[list[str], argparse.ArgumentParser]] = []

    def walk(p: argparse.ArgumentParser, path: list[str]) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found.append((path + [name], sub))
                    walk(sub, path + [name])

    walk(parser, [])
    return found


def render() -> str:
    os.environ["COLUMNS"] = WIDTH
    from examiner.cli import build_parser

    parser = build_parser()
    parts = [INTRO, "## `examiner`\n", "```text\n" + parser.format_help().rstrip() + "\n```\n"]
    for path, sub in commands(parser):
        level = "#" * (2 + len(path) - 1)
        parts.append(f"{level} `examiner {' '.join(path)}`\n")
        parts.append("```text\n" + sub.format_help().rstrip() + "\n```\n")
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not PAGE.exists() or PAGE.read_text(encoding="utf-8") != text:
            print(f"{PAGE}: out of date; run python packaging/gen_cli_reference.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    print(f"{PAGE}: {len(commands_of_page(text))} commands")
    return 0


def commands_of_page(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("#") and "`examiner " in line]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv[1:]))
