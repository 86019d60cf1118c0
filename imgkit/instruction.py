"""Split one logical Dockerfile line into an ``Instruction``: name, ``--flags``, form and words.

``imgkit.dockerfile.parse`` joins continuation lines first; each joined
line comes here. The rules are BuildKit's (``parser/line_parsers.go`` and
``instructions/parse.go``), with its error messages:

* the name is case-insensitive; a near miss is named
  (``unknown instruction: COPPY (did you mean COPY?)``);
* ``--flags`` come right after the name and each instruction accepts its
  own (``COPY --chown=1:1``; ``--exclude`` may repeat);
* ``CMD``, ``ENTRYPOINT``, ``RUN``, ``SHELL``, ``ADD``, ``COPY`` and
  ``VOLUME`` take a JSON array (the exec form) or plain words;
* ``ENV`` and ``LABEL`` take ``key=value`` pairs (or the old ``ENV key
  value with spaces``); ``ARG`` takes ``name[=default]`` words;
* argument counts are checked (``WORKDIR requires exactly one argument``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .errors import DockerfileParseError

__all__ = ["Instruction", "INSTRUCTIONS", "split_instruction"]

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
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9-_.]*$")


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


def split_instruction(line: str, escape: str = "\\") -> Instruction:
    """Turn one logical line into an ``Instruction`` (or raise Docker's parse error).

    ``escape`` is the escape character (a ``# escape=`` directive may choose
    the backtick). The result has no line numbers yet: ``parse`` adds them.
    """
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

