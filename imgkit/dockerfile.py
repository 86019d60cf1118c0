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

Variables (``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR:+alt}``...) are
not replaced here but when the build reaches the step, with the ``ENV`` and
``ARG`` values known at that point: ``expand`` does it, as BuildKit's
``shell/lex.go`` does, in the instructions that allow it (``ENV``, ``LABEL``,
``COPY``, ``ADD``, ``WORKDIR``, ``USER``, ``VOLUME``, ``EXPOSE``,
``STOPSIGNAL``, ``ARG``, and ``FROM`` with the ARGs declared before it).
``RUN`` and ``CMD`` are left to the shell.

Errors carry the file and line, then Docker's own words::

    Dockerfile:3: unknown instruction: COPPY (did you mean COPY?)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Mapping

from .errors import ImgkitError

__all__ = ["parse", "Dockerfile", "Instruction", "DockerfileError", "DockerfileParseError",
           "expand", "expand_words", "INSTRUCTIONS"]

#: Every instruction Docker knows.
INSTRUCTIONS = ("ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
                "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
                "WORKDIR")

# The --flags each instruction accepts: str (needs =value), bool, or list (may repeat).
_FLAGS: dict[str, dict[str, type]] = {
    "ADD": {"chown": str, "chmod": str, "link": bool, "keep-git-dir": bool, "checksum": str,
            "unpack": bool, "exclude": list},
    "COPY": {"chown": str, "from": str, "chmod": str, "link": bool, "exclude": list, "parents": bool},
    "FROM": {"platform": str},
    "RUN": {"mount": list, "network": str, "security": str, "device": list},
    "HEALTHCHECK": {"interval": str, "timeout": str, "start-period": str, "start-interval": str,
                    "retries": str},
}
_WHITESPACE = re.compile(r"[\t\v\f\r ]+")
_DIRECTIVE = re.compile(r"^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_HEREDOC = re.compile(r"^(\d*)<<(-?)\s*([^<]*)$")
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9-_.]*$")


class DockerfileError(ImgkitError):
    """A problem at a line of a Dockerfile; ``str()`` is ``Dockerfile:LINE: reason``."""

    def __init__(self, reason: str, path: str | None = None, line: int | None = None):
        self.reason, self.path, self.line = reason, path, line
        where = f"{path}:{line}: " if path and line else f"{path}: " if path else ""
        super().__init__(where + reason)

    def at(self, path: str, line: int | None) -> "DockerfileError":
        """Return the same error, located at ``path:line``."""
        return type(self)(self.reason, path, line)


class DockerfileParseError(DockerfileError, ValueError):
    """A Dockerfile that Docker would refuse to parse."""


@dataclass(frozen=True)
class Instruction:
    """One instruction, as parsed: what ``Step N/M :`` shows is ``original``.

    ``args`` are the words after the flags (for the exec form: the JSON
    array, with ``json=True``); ``pairs`` holds ``(key, value)`` for ENV and
    LABEL and ``(name, default-or-None)`` for ARG; ``flags`` holds
    ``(name, value)`` in the order written. ``line``..``end_line`` is where
    it sits in the file (1-based).
    """

    name: str
    args: tuple[str, ...] = ()
    flags: tuple[tuple[str, str], ...] = ()
    json: bool = False
    pairs: tuple[tuple[str, str | None], ...] = ()
    line: int = 0
    end_line: int = 0
    original: str = ""

    def flag(self, name: str, default: str | None = None) -> str | None:
        """Return the value of ``--name`` (the last one given), or ``default``."""
        values = self.flag_values(name)
        return values[-1] if values else default

    def flag_values(self, name: str) -> list[str]:
        """Return every value given for ``--name`` (``--exclude`` may repeat)."""
        return [value for key, value in self.flags if key == name]


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


# -- splitting one instruction ------------------------------------------------

def _split_flags(rest: str, escape: str) -> tuple[str, list[str]]:
    """Take the leading ``--flag[=value]`` words off ``rest`` (BuildKit's extractBuilderFlags)."""
    flags: list[str] = []
    pos = 0
    while True:
        while pos < len(rest) and rest[pos].isspace():
            pos += 1
        if not rest.startswith("--", pos) or pos + 2 > len(rest):
            return rest[pos:], flags
        word, quote = [], None
        while pos < len(rest):
            ch = rest[pos]
            if quote is None and ch.isspace():
                break
            if quote is None and ch in "'\"":
                quote = ch
            elif quote is not None and ch == quote:
                quote = None
            elif ch == escape and pos + 1 < len(rest):
                pos += 1
                word.append(rest[pos])
            elif ch != escape:
                word.append(ch)
            pos += 1
        if "".join(word) == "--":
            return rest[pos:], flags
        flags.append("".join(word))


def _words(rest: str, escape: str) -> list[str]:
    """Split on spaces outside quotes, keeping quotes and escapes (BuildKit's parseWords)."""
    words: list[str] = []
    word: list[str] = []
    phase, quote, blank_ok = "spaces", "", False
    pos = 0
    while pos <= len(rest):
        ch = rest[pos] if pos < len(rest) else ""
        if phase == "spaces":
            if pos == len(rest):
                break
            if ch.isspace():
                pos += 1
                continue
            phase = "word"
        if pos == len(rest):
            if blank_ok or word:
                words.append("".join(word))
            break
        if phase == "word":
            if ch.isspace():
                if blank_ok or word:
                    words.append("".join(word))
                phase, word, blank_ok = "spaces", [], False
                pos += 1
                continue
            if ch in "'\"":
                quote, blank_ok, phase = ch, True, "quote"
            if ch == escape:
                if pos + 1 == len(rest):
                    pos += 1
                    continue
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
        else:
            if ch == quote:
                phase = "word"
            if ch == escape and quote != "'":
                if pos + 1 == len(rest):
                    phase = "word"
                    pos += 1
                    continue
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
        pos += 1
    return words


def _json_array(rest: str) -> list[str] | None:
    """Return the JSON array ``rest`` holds, or None when it is not one (the shell form)."""
    rest = rest.lstrip()
    if not rest.startswith("["):
        return None
    try:
        value = json.loads(rest)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(item, str) for item in value):
        raise DockerfileParseError("when using JSON array syntax, arrays must be comprised "
                                   "of strings only")
    return value


def _name_values(rest: str, name: str, escape: str) -> list[tuple[str, str]]:
    words = _words(rest, escape)
    if not words:
        return []
    if "=" not in words[0]:          # the old form: ENV NAME value with spaces
        parts = _WHITESPACE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise DockerfileParseError(f"{name} must have two arguments")
        return [(parts[0], parts[1])]
    pairs = []
    for word in words:
        if "=" not in word:
            raise DockerfileParseError(f"Syntax error - can't find = in {json.dumps(word)}. "
                                       "Must be of the form: name=value")
        key, _, value = word.partition("=")
        pairs.append((key, value))
    return pairs


def _suggest(value: str, options, case_sensitive: bool) -> str:
    """Return `` (did you mean X?)`` for a near miss (Levenshtein distance < 3), as BuildKit does."""
    def distance(a: str, b: str) -> int:
        row = list(range(len(b) + 1))
        for i, ca in enumerate(a, 1):
            prev, row[0] = row[0], i
            for j, cb in enumerate(b, 1):
                prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
        return row[-1]

    wanted = value if case_sensitive else value.lower()
    best, best_distance = "", 3
    for option in sorted(options):
        option = option if case_sensitive else option.lower()
        if option == wanted:
            return ""
        if distance(wanted, option) < best_distance:
            best, best_distance = option, distance(wanted, option)
    if best and not case_sensitive:
        best = best.upper() if value == value.upper() else best
    return f" (did you mean {best}?)" if best else ""


def _check_flags(name: str, raw_flags: list[str]) -> tuple[tuple[str, str], ...]:
    allowed = _FLAGS.get(name, {})
    flags: list[tuple[str, str]] = []
    for raw in raw_flags:
        if not raw.startswith("--"):
            raise DockerfileParseError(f"arg should start with -- : {raw}")
        flag, has_value, value = raw.partition("=")
        key = flag[2:]
        if key not in allowed:
            raise DockerfileParseError(f"unknown flag: {flag}" + _suggest(key, allowed, True))
        kind = allowed[key]
        if kind is not list and any(k == key for k, _ in flags):
            raise DockerfileParseError(f"duplicate flag specified: {flag}")
        if kind is bool:
            if has_value and not value:
                raise DockerfileParseError(f"missing a value on flag: {flag}")
            if value.lower() not in ("", "true", "false"):
                raise DockerfileParseError(f"expecting boolean value for flag {flag}, not: {value}")
            value = "false" if value.lower() == "false" else "true"
        elif not has_value:
            raise DockerfileParseError(f"missing a value on flag: {flag}")
        flags.append((key, value))
    return tuple(flags)


def _instruction(line: str, escape: str) -> Instruction:
    """Turn one logical line into an ``Instruction`` (or raise Docker's parse error)."""
    head = _WHITESPACE.split(line.strip(), maxsplit=1)
    name = head[0].upper()
    rest, raw_flags = _split_flags(head[1], escape) if len(head) == 2 else ("", [])
    rest = rest.strip()
    if name not in INSTRUCTIONS:
        raise DockerfileParseError(f"unknown instruction: {head[0]}"
                                   + _suggest(head[0], INSTRUCTIONS, False))
    args: list[str] = []
    pairs: list[tuple[str, str | None]] = []
    is_json = False
    if name in ("CMD", "ENTRYPOINT", "RUN", "SHELL", "ADD", "COPY", "VOLUME"):
        array = _json_array(rest)
        if array is not None:
            args, is_json = array, True
        elif name in ("ADD", "COPY", "VOLUME"):
            args = _WHITESPACE.split(rest) if rest else []
        elif rest:
            args = [rest]
    elif name in ("ENV", "LABEL"):
        pairs = list(_name_values(rest, name, escape))
        if not pairs:
            raise DockerfileParseError(f"{name} requires at least one argument")
        if any(not key for key, _ in pairs):
            raise DockerfileParseError(f"{name} names can not be blank")
    elif name == "ARG":
        args = _words(rest, escape)
        for word in args:
            key, has_value, value = word.partition("=")
            if has_value and not key:
                raise DockerfileParseError("ARG names can not be blank")
            pairs.append((key, value if has_value else None))
    elif name in ("EXPOSE", "FROM", "HEALTHCHECK"):
        args = _WHITESPACE.split(rest) if rest else []
    elif rest:                  # MAINTAINER, ONBUILD, STOPSIGNAL, USER, WORKDIR: one string
        args = [rest]
    _check_arguments(name, args, is_json)
    flags = () if name in ("ARG", "STOPSIGNAL") else _check_flags(name, raw_flags)
    return Instruction(name, tuple(args), flags, is_json, tuple(pairs), original=line.strip())


def _check_arguments(name: str, args: list[str], is_json: bool) -> None:
    """Docker's argument-count rules, with its messages."""
    if name in ("ADD", "COPY") and len(args) < 2:
        raise DockerfileParseError(f"{name} requires at least two arguments, but only one was "
                                   "provided. Destination could not be determined")
    if name in ("EXPOSE", "VOLUME", "ARG", "ONBUILD", "HEALTHCHECK", "SHELL") and not args:
        raise DockerfileParseError(f"{name} requires at least one argument")
    if name in ("WORKDIR", "USER", "STOPSIGNAL", "MAINTAINER") and len(args) != 1:
        raise DockerfileParseError(f"{name} requires exactly one argument")
    if name == "VOLUME" and any(not arg.strip() for arg in args):
        raise DockerfileParseError("VOLUME specified can not be an empty string")
    if name == "SHELL" and not is_json:
        raise DockerfileParseError("SHELL requires the arguments to be in JSON form")
    if name == "FROM":
        if len(args) == 3 and args[1].lower() == "as":
            if not _STAGE_NAME.match(args[2].lower()):
                raise DockerfileParseError(f"invalid name for build stage: {json.dumps(args[2])}, "
                                           "name can't start with a number or contain symbols")
        elif len(args) != 1:
            raise DockerfileParseError("FROM requires either one or three arguments")


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
            ins = _instruction(line, directives.escape)
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


# -- variable substitution ----------------------------------------------------

class _Words:
    """Collect words the way the shell splits them: only unquoted spaces separate."""

    def __init__(self) -> None:
        self.words: list[str] = []
        self.buf: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if ch.isspace():
            if self.in_word and self.buf:
                self.words.append("".join(self.buf))
                self.buf, self.in_word = [], False
        else:
            self.add_raw(ch)

    def add_raw(self, text: str) -> None:
        self.buf.append(text)
        self.in_word = True

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def result(self) -> list[str]:
        if self.buf:
            self.words.append("".join(self.buf))
            self.buf, self.in_word = [], False
        return self.words


class _Lexer:
    """BuildKit's ``shell/lex.go``: quotes, escapes and ``$`` expansions of one word."""

    def __init__(self, text: str, env: Mapping[str, str], escape: str):
        self.text, self.env, self.escape, self.pos = text, env, escape, 0
        self.raw_escapes = False

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1 if ch else 0
        return ch

    def until(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        """Read up to ``stop`` (or the end when ``stop`` is empty); return text and words."""
        saved, self.raw_escapes = self.raw_escapes, raw_escapes
        result: list[str] = []
        words = _Words()
        try:
            while self.peek():
                ch = self.peek()
                if stop and ch == stop:
                    self.next()
                    return "".join(result), words.result()
                if ch == "$":
                    value = self.dollar()
                    result.append(value)
                    words.add_string(value)
                elif ch in "'\"":
                    value = self.single_quoted() if ch == "'" else self.double_quoted()
                    result.append(value)
                    words.add_raw(value)
                else:
                    ch = self.next()
                    if ch == self.escape:
                        if self.raw_escapes:
                            words.add_raw(ch)
                            result.append(ch)
                        ch = self.next()
                        if not ch:
                            break
                        words.add_raw(ch)
                    else:
                        words.add_char(ch)
                    result.append(ch)
            if stop:
                raise DockerfileError(f"unexpected end of statement while looking for matching {stop}")
            return "".join(result), words.result()
        finally:
            self.raw_escapes = saved

    def single_quoted(self) -> str:
        self.next()
        out = []
        while True:
            ch = self.next()
            if not ch:
                raise DockerfileError("unexpected end of statement while looking for matching "
                                      "single-quote")
            if ch == "'":
                return "".join(out)
            out.append(ch)

    def double_quoted(self) -> str:
        self.next()
        out = []
        while True:
            ch = self.peek()
            if not ch:
                raise DockerfileError("unexpected end of statement while looking for matching "
                                      "double-quote")
            if ch == '"':
                self.next()
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            ch = self.next()
            if ch == self.escape:
                if self.raw_escapes:
                    out.append(ch)
                if not self.peek():
                    continue
                if self.peek() in ('"', "$", self.escape):
                    ch = self.next()
            out.append(ch)

    def name(self) -> str:
        out = []
        while self.peek():
            ch = self.peek()
            if not out and ch.isdigit():
                while self.peek().isdigit():
                    out.append(self.next())
                return "".join(out)
            if not out and ch in "@*#?-$!0":
                return self.next()
            if not (ch.isalnum() or ch == "_"):
                break
            out.append(self.next())
        return "".join(out)

    def dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self.name()
            return self.env.get(name, "") if name else "$"
        self.next()
        if not self.peek():
            raise DockerfileError("syntax error: missing '}'")
        if self.peek() in "{}:":
            raise DockerfileError("syntax error: bad substitution")
        name = self.name()
        ch = self.next()
        if ch == "}":
            return self.env.get(name, "")
        if not ch:
            raise DockerfileError("syntax error: missing '}'")
        modifier, null_is_unset = ch, False
        if ch == ":":
            null_is_unset = True
            ch = self.next()
            modifier += ch
        if ch == "/":
            return self.replace(name)
        if ch not in ("+", "-", "?", "#", "%") and not null_is_unset:
            raise DockerfileError(f"unsupported modifier ({modifier}) in substitution")
        if null_is_unset and ch in ("#", "%"):
            raise DockerfileError(f"unsupported modifier ({modifier}) in substitution")
        try:
            word, _ = self.until("}", ch in ("#", "%"))
        except DockerfileError:
            if not self.peek():
                raise DockerfileError("syntax error: missing '}'") from None
            raise
        is_set = name in self.env
        value = self.env.get(name, "")
        empty = not is_set or (null_is_unset and value == "")
        if ch == "-":
            return word if empty else value
        if ch == "+":
            return "" if empty else word
        if ch == "?":
            if empty:
                default = "is not allowed to be unset" if not is_set else "is not allowed to be empty"
                raise DockerfileError(f"{name}: {word or default}")
            return value
        if ch in ("#", "%"):
            greedy = word.startswith(ch)
            word = word[1:] if greedy else word
            if ch == "#":
                return _trim_prefix(word, value, greedy)
            return _trim_prefix(_reverse_pattern(word), value[::-1], greedy)[::-1]
        raise DockerfileError(f"unsupported modifier ({modifier}) in substitution")

    def replace(self, name: str) -> str:
        every = self.peek() == "/"
        if every:
            self.next()
        try:
            pattern, _ = self.until("/", True)
        except DockerfileError:
            raise DockerfileError("syntax error: missing '/' in ${}") from None
        try:
            replacement, _ = self.until("}", True)
        except DockerfileError:
            raise DockerfileError("syntax error: missing '}'") from None
        regex = _shell_pattern(pattern, greedy=True, anchored=False)
        return regex.sub(lambda m: replacement, self.env.get(name, ""), count=0 if every else 1)


def _shell_pattern(pattern: str, greedy: bool, anchored: bool) -> re.Pattern:
    """Turn a ``${VAR#pattern}`` pattern (``*``, ``?``, ``\\`` escapes) into a regex."""
    out = ["^"] if anchored else []
    pos = 0
    while pos < len(pattern):
        ch = pattern[pos]
        pos += 1
        if ch == "*":
            out.append(".*" if greedy else ".*?")
        elif ch == "?":
            out.append(".")
        elif ch == "\\":
            if pos < len(pattern) and pattern[pos] in "}/":
                continue
            escaped = pattern[pos] if pos < len(pattern) else ""
            pos += 1
            if escaped not in ("*", "?", "\\") or not escaped:
                raise DockerfileError(f"invalid pattern ({pattern}) in substitution: "
                                      f"invalid escape '\\{escaped}'")
            out.append(re.escape(escaped))
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.DOTALL)


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    match = _shell_pattern(pattern, greedy, anchored=True).match(value)
    return value[match.end():] if match else value


def _reverse_pattern(pattern: str) -> str:
    """Reverse a pattern but keep each ``\\x`` escape in front of its character."""
    pieces, pos = [], 0
    while pos < len(pattern):
        step = 2 if pattern[pos] == "\\" and pos + 1 < len(pattern) else 1
        pieces.append(pattern[pos:pos + step])
        pos += step
    return "".join(reversed(pieces))


def expand(word: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """Replace ``$VAR``, ``${VAR}``, ``${VAR:-default}``... in ``word``, and remove quotes.

    ``${VAR-x}``/``${VAR:-x}`` give ``x`` when VAR is unset (or, with ``:``,
    empty); ``${VAR+x}``/``${VAR:+x}`` give ``x`` when it is set (and not
    empty); ``${VAR?msg}`` fails; ``${VAR#pat}``, ``%``, ``##``, ``%%`` trim;
    ``${VAR/pat/new}`` replaces. Unknown variables are empty, as in a shell.
    Raises ``DockerfileError`` (no line yet) for a malformed expression.

    >>> expand("${NAME:-world}-$V", {"V": "1"})
    'world-1'
    """
    try:
        return _Lexer(word, env, escape).until("", False)[0]
    except DockerfileError as err:
        raise DockerfileError(f"failed to process {json.dumps(word)}: {err.reason}") from None


def expand_words(word: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    """Like ``expand``, then split into words on unquoted spaces (as ``EXPOSE`` does)."""
    try:
        return _Lexer(word, env, escape).until("", False)[1]
    except DockerfileError as err:
        raise DockerfileError(f"failed to process {json.dumps(word)}: {err.reason}") from None
