"""Read a Dockerfile the way Docker does: lines, continuations, forms, flags and ``$VARS``.

``parse(text)`` follows BuildKit's parser (``frontend/dockerfile/parser`` and
``instructions/parse.go``), which the classic builder shares:

* blank lines and ``#`` comments are skipped; a line ending in the escape
  character (``\\``, or the backtick a ``# escape=`` directive at the top chooses)
  continues on the next one; comment lines inside a continued instruction
  are dropped;
* instruction names are case-insensitive (``copy`` is ``COPY``);
* ``CMD``, ``ENTRYPOINT``, ``RUN`` and ``SHELL`` take the *exec form*
  (``["redis-server", "--port", "1"]``, a JSON array) or the *shell form*
  (``redis-server --port 1``, run by ``/bin/sh -c``);
* ``--flags`` come right after the instruction name (``COPY --chown=1:1``).

This module reads the file into logical lines (directives, continuations,
comments) and checks the file as a whole (a ``FROM`` first, no
here-documents); ``imgkit.instruction`` splits each line into an
``Instruction``.

Variables (``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR:+alt}``...) are
not replaced here but when the build reaches the step, with the ``ENV`` and
``ARG`` values known at that point: ``expand`` (from ``imgkit.shellwords``,
BuildKit's ``shell/lex.go``) does it, in the instructions that allow it
(``ENV``, ``LABEL``, ``COPY``, ``ADD``, ``WORKDIR``, ``USER``, ``VOLUME``,
``EXPOSE``, ``STOPSIGNAL``, ``ARG``, and ``FROM`` with the ARGs declared
before it). ``RUN`` and ``CMD`` are left to the shell.

Errors carry the file and line, then Docker's own words::

    Dockerfile:3: unknown instruction: COPPY (did you mean COPY?)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import DockerfileError, DockerfileParseError
from .instruction import INSTRUCTIONS, Instruction, split_instruction
from .shellwords import expand, expand_words

__all__ = ["parse", "Dockerfile", "Instruction", "DockerfileError", "DockerfileParseError",
           "expand", "expand_words", "INSTRUCTIONS"]

_DIRECTIVE = re.compile(r"^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_HEREDOC = re.compile(r"^(\d*)<<(-?)\s*([^<]*)$")


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile: its instructions in order, and its escape character."""

    instructions: tuple[Instruction, ...]
    path: str = "Dockerfile"
    escape: str = "\\"

    @property
    def meta_args(self) -> tuple[Instruction, ...]:
        """The ``ARG`` instructions before the first ``FROM`` (usable in ``FROM`` only)."""
        first = next(i for i, ins in enumerate(self.instructions) if ins.name == "FROM")
        return self.instructions[:first]

    def stages(self) -> list[tuple[Instruction, list[Instruction]]]:
        """Return each ``FROM`` with the instructions of its stage."""
        stages: list[tuple[Instruction, list[Instruction]]] = []
        for ins in self.instructions[len(self.meta_args):]:
            if ins.name == "FROM":
                stages.append((ins, []))
            else:
                stages[-1][1].append(ins)
        return stages


# -- reading lines ------------------------------------------------------------

class _Directives:
    """Parser directives (``# escape=`` ``# syntax=``): only at the very top of the file."""

    def __init__(self) -> None:
        self.escape = "\\"
        self.done = False
        self.seen: set[str] = set()
        self._continuation = self._continuation_regex("\\")

    @staticmethod
    def _continuation_regex(escape: str) -> re.Pattern:
        e = re.escape(escape)
        return re.compile(rf"([^{e}]){e}[ \t]*\Z|^{e}[ \t]*\Z")

    def check(self, line: str) -> None:
        if self.done:
            return
        match = _DIRECTIVE.match(line[1:].lstrip()) if line.startswith("#") else None
        name = match.group(1).lower() if match else None
        if name not in ("syntax", "escape", "check"):
            self.done = True
            return
        if name in self.seen:
            raise DockerfileParseError(f"only one {name} parser directive can be used")
        self.seen.add(name)
        if name == "escape":
            value = match.group(2)
            if value not in ("`", "\\"):
                raise DockerfileParseError(f"invalid escape token '{value}' does not match ` or \\")
            self.escape = value
            self._continuation = self._continuation_regex(value)

    def trim_continuation(self, line: str) -> tuple[str, bool]:
        """Drop a trailing escape character; say whether the instruction ends here."""
        if self._continuation.search(line):
            return self._continuation.sub(r"\1", line), False
        return line, True


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _logical_lines(text: str, directives: _Directives):
    """Yield ``(start_line, end_line, text)`` for each instruction, continuations joined."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    number, index = 0, 0
    while index < len(lines):
        raw = lines[index].rstrip("\r\n")
        if index == 0:
            raw = raw.removeprefix("\ufeff")
        index += 1
        token = raw.lstrip()
        try:
            directives.check(token)
        except DockerfileParseError as err:
            raise err.at("", number + 1) from None
        number += 1
        start = number
        token, ended = directives.trim_continuation("" if _is_comment(token) else token)
        if ended and not token:
            continue
        parts = [token]
        while not ended and index < len(lines):
            raw = lines[index].rstrip("\r\n")
            index += 1
            directives.check(raw)
            number += 1
            if _is_comment(raw) or not raw.strip():
                continue        # comments and empty lines inside a continuation vanish
            token, ended = directives.trim_continuation(raw)
            parts.append(token)
        yield start, number, "".join(parts)


def _has_heredoc(ins: Instruction) -> bool:
    if ins.name not in ("ADD", "COPY", "RUN") or ins.json or "<<" not in ins.original:
        return False
    return any((m := _HEREDOC.match(word)) and m.group(3) for word in ins.original.split())


def parse(text: str | bytes, path: str = "Dockerfile") -> Dockerfile:
    """Parse Dockerfile text; ``path`` names the file in error messages.

    Raises ``DockerfileParseError`` (a ``ValueError``) located at the line,
    worded as Docker words it. Here-documents (``RUN <<EOF``) are refused.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    directives = _Directives()
    instructions: list[Instruction] = []
    try:
        logical = list(_logical_lines(text, directives))
    except DockerfileParseError as err:
        raise err.at(path, err.line) from None
    for start, end, line in logical:
        try:
            ins = split_instruction(line, directives.escape)
        except DockerfileParseError as err:
            raise err.at(path, start) from None
        ins = Instruction(ins.name, ins.args, ins.flags, ins.json, ins.pairs, start, end, ins.original)
        if _has_heredoc(ins):
            raise DockerfileParseError("here-documents (<<EOF) are not supported by imgkit yet; "
                                       "write the file into the build context and COPY it",
                                       path, start)
        if ins.name != "ARG" and not any(i.name == "FROM" for i in instructions) \
                and ins.name != "FROM":
            raise DockerfileParseError("no build stage in current context", path, start)
        instructions.append(ins)
    if not instructions:
        raise DockerfileParseError("file with no instructions", path)
    if not any(ins.name == "FROM" for ins in instructions):
        raise DockerfileParseError("dockerfile contains no stages to build", path)
    return Dockerfile(tuple(instructions), path, directives.escape)

