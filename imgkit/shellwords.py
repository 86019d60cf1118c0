"""Replace ``$VAR`` in a Dockerfile word the way Docker does: BuildKit's ``shell/lex.go``, in Python.

A Dockerfile is not run by a shell, yet ``ENV``, ``COPY``, ``WORKDIR`` and
friends understand a shell's quoting and ``$`` forms. The builder expands
each word with the ``ENV`` and ``ARG`` values known at that step::

    >>> expand("${NAME:-world}-$V", {"V": "1"})
    'world-1'
    >>> expand_words("80/tcp $EXTRA", {"EXTRA": "53/udp 443"})
    ['80/tcp', '53/udp', '443']

* ``'single quotes'`` keep everything as written; ``"double quotes"``
  still expand ``$VAR``; the escape character (``\\``, or the backtick a
  ``# escape=`` directive chooses) takes the next character literally;
* ``${VAR-x}``/``${VAR:-x}``, ``${VAR+x}``/``${VAR:+x}``, ``${VAR?msg}``,
  ``${VAR#pat}``/``##``, ``${VAR%pat}``/``%%`` and ``${VAR/pat/new}``
  (``//`` for every match) behave as in a POSIX shell;
* an unknown variable is empty, as in a shell.

A malformed expression raises ``DockerfileError`` with BuildKit's words and
no line yet: the build adds the file and line of the step.
"""

from __future__ import annotations

import json
import re
from typing import Mapping

from .errors import DockerfileError

__all__ = ["expand", "expand_words"]


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
