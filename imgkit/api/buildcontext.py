"""The build context: the directory ``docker build`` is given, and what ``COPY`` and ``ADD`` take from it.

``docker build CONTEXT`` sends the context to the daemon, minus what
``.dockerignore`` excludes; ``COPY`` and ``ADD`` can only read from it. Here:

* ``.dockerignore`` patterns follow Docker's patternmatcher: Go's
  ``filepath.Match`` (``*``, ``?``, ``[a-c]``) plus ``**`` for any depth;
  the last matching pattern wins and ``!pattern`` re-includes;
* a source may hold wildcards, matched one path component at a time
  (``*.py`` does not reach into ``lib/``); a source that names a path
  outside the context (a symlink out, ``../x``) is "not found";
* a directory source copies its *contents*; a destination ending in ``/``
  (or an existing directory in the image) receives files by their names;
* ``ADD`` unpacks a local tar archive (plain, gzip, bzip2 or xz) into the
  destination, keeping the archive's owners unless ``--chown`` says otherwise.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
import tarfile
from pathlib import Path

from ..tarlayer import Entry
from .rootfs import Rootfs

__all__ = ["BuildContext"]


def _pattern_regex(pattern: str, any_depth: bool) -> re.Pattern | None:
    """Translate a Go ``filepath.Match`` pattern (with ``**`` for .dockerignore) into a regex."""
    out, pos = ["^"], 0
    while pos < len(pattern):
        ch = pattern[pos]
        pos += 1
        if ch == "*" and any_depth and pattern[pos:pos + 1] == "*":
            pos += 1
            if pattern[pos:pos + 1] == "/":
                pos += 1
            out.append(".*" if pos == len(pattern) else "(.*/)?")
        elif ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and pos < len(pattern):
            out.append(re.escape(pattern[pos]))
            pos += 1
        elif ch == "[":
            end = pattern.find("]", pos + 1)
            if end < 0:
                return None                       # Go: ErrBadPattern, nothing matches
            body = pattern[pos:end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
            pos = end + 1
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out) + "$", re.DOTALL)


class _Ignore:
    """``.dockerignore``: Docker's patternmatcher (last matching pattern wins, ``!`` re-includes)."""

    def __init__(self, lines: list[str]) -> None:
        self.patterns: list[tuple[bool, str, re.Pattern | None]] = []
        for number, line in enumerate(lines):
            line = line.removeprefix("\ufeff") if number == 0 else line
            if line.startswith("#") or not line.strip():
                continue
            pattern = line.strip()
            exclusion = pattern.startswith("!")
            pattern = pattern[1:].strip() if exclusion else pattern
            pattern = posixpath.normpath(pattern) if pattern else pattern
            pattern = pattern[1:] if len(pattern) > 1 and pattern.startswith("/") else pattern
            self.patterns.append((exclusion, pattern, _pattern_regex(pattern, True)))
        self.exclusions = any(exclusion for exclusion, _, _ in self.patterns)

    @classmethod
    def read(cls, path: Path) -> "_Ignore":
        try:
            return cls(path.read_text("utf-8", "surrogateescape").splitlines())
        except FileNotFoundError:
            return cls([])

    @staticmethod
    def _match(pattern: str, regex: re.Pattern | None, path: str) -> bool:
        if pattern.startswith("**") and "*" not in pattern[2:] and "?" not in pattern \
                and "[" not in pattern and "\\" not in pattern:
            suffix = pattern[2:]              # Go's suffix match: "**.txt", "**/foo"
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        return regex is not None and regex.match(path) is not None

    def ignored(self, path: str) -> bool:
        """Tell whether a context path (``src/app.py``) is left out of the build."""
        if not path or path == ".":
            return False
        parents = path.split("/")[:-1]
        matched = False
        for exclusion, pattern, regex in self.patterns:
            if exclusion != matched:
                continue
            hit = self._match(pattern, regex, path) or any(
                self._match(pattern, regex, "/".join(parents[:i + 1])) for i in range(len(parents)))
            if hit:
                matched = not exclusion
        return matched


def _has_wildcards(path: str) -> bool:
    skip = False
    for ch in path:
        if skip:
            skip = False
        elif ch == "\\":
            skip = True
        elif ch in "*?[":
            return True
    return False


def _sorts_before(a: str, b: str) -> bool:
    return tuple(p.encode("utf-8", "surrogateescape") for p in a.split("/")) < \
        tuple(p.encode("utf-8", "surrogateescape") for p in b.split("/"))


class BuildContext:
    """The directory ``docker build`` is given: what ``COPY`` and ``ADD`` can read."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.ignore = _Ignore.read(self.root / ".dockerignore")

    def walk(self, rel: str = ""):
        """Yield ``(context path, lstat)`` of everything below ``rel`` not ignored, in name order."""
        try:
            names = sorted(os.listdir(self.root / rel))
        except OSError:
            return
        for name in names:
            path = f"{rel}/{name}" if rel else name
            info = os.lstat(self.root / path)
            skip = self.ignore.ignored(path)
            if not skip:
                yield path, info
            if stat.S_ISDIR(info.st_mode) and (not skip or self.ignore.exclusions):
                yield from self.walk(path)

    def find(self, source: str) -> list[str]:
        """Return the context paths a COPY source names (wildcards matched per component)."""
        clean = posixpath.normpath("/" + source).lstrip("/")
        if _has_wildcards(clean):
            regex = _pattern_regex(clean, False)
            return [path for path, _ in self.walk() if regex is not None and regex.match(path)]
        full = self.root / clean
        real_root = os.path.realpath(self.root)
        inside = os.path.commonpath([os.path.realpath(full), real_root]) == real_root
        if not full.exists() or not inside or self.ignore.ignored(clean):
            raise LookupError(f"file not found in build context or excluded by .dockerignore: "
                              f"stat {clean}: file does not exist")
        return [clean]

    def _tree(self, rel: str, target: str, ids, mode) -> list[Entry]:
        uid, gid = ids or (0, 0)
        entries = []
        for path, info in self.walk(rel):
            dest = posixpath.join(target, path[len(rel):].lstrip("/")) if rel else \
                posixpath.join(target, path)
            perms = stat.S_IMODE(info.st_mode) if mode is None else mode
            if stat.S_ISLNK(info.st_mode):
                entries.append(Entry.symlink(dest, os.readlink(self.root / path), uid=uid, gid=gid))
            elif stat.S_ISDIR(info.st_mode):
                entries.append(Entry.directory(dest, perms, uid=uid, gid=gid))
            elif stat.S_ISREG(info.st_mode):
                entries.append(Entry.file(dest, (self.root / path).read_bytes(), perms,
                                          uid=uid, gid=gid))
        return entries

    def copy_entries(self, sources: list[str], dest: str, workdir: str, rootfs: Rootfs,
                     ids: tuple[int, int] | None, mode: int | None, unpack: bool) -> list[Entry]:
        """Return the entries of the layer ``COPY sources dest`` (``ADD`` if ``unpack``) makes."""
        found = [path for source in sources for path in self.find(source)]
        if not found:
            raise LookupError("no source files were specified")
        command = "ADD" if unpack else "COPY"
        if len(found) > 1 and not dest.endswith("/"):
            raise ValueError(f"When using {command} with more than one source file, the "
                             "destination must be a directory and end with a /")
        into_dir = dest.endswith("/") or posixpath.basename(dest) in (".", "..")
        dest = posixpath.normpath(posixpath.join(workdir, dest))
        uid, gid = ids or (0, 0)
        entries: dict[str, Entry] = {}
        for rel in found:
            full = self.root / rel
            info = os.stat(full)
            if stat.S_ISDIR(info.st_mode):
                target = rootfs.resolve(dest, follow_last=True)
                if target and not rootfs.is_dir(target):
                    perms = stat.S_IMODE(info.st_mode) if mode is None else mode
                    entries[target] = Entry.directory(target, perms, uid=uid, gid=gid)
                items = self._tree(rel, target, ids, mode)
            elif unpack and (items := _unpack(full, rootfs.resolve(dest, True), ids, mode)) is not None:
                pass
            else:
                name = posixpath.join(dest, posixpath.basename(rel)) \
                    if into_dir or rootfs.is_dir(dest) else dest
                perms = stat.S_IMODE(info.st_mode) if mode is None else mode
                items = [Entry.file(rootfs.resolve(name), full.read_bytes(), perms, uid=uid, gid=gid)]
            entries.update((entry.path, entry) for entry in items)
        return rootfs.with_parents(list(entries.values()), ids)


def _unpack(archive_path: Path, target: str, ids, mode) -> list[Entry] | None:
    """ADD's archive rule: a local tar (plain, gzip, bzip2, xz) is unpacked into ``target``."""
    try:
        archive = tarfile.open(archive_path, "r:*")
    except (tarfile.TarError, EOFError, OSError):
        return None                              # not an archive: ADD copies the file
    entries: dict[str, Entry] = {}
    with archive:
        for member in archive:
            name = posixpath.normpath(member.name.lstrip("/"))
            if name == ".." or name.startswith("../"):
                raise ValueError(f"{member.name!r} in {archive_path.name} is outside of {'/' + target}")
            if name == ".":
                continue
            path = posixpath.join(target, name)
            uid, gid = ids or (member.uid, member.gid)
            perms = member.mode & 0o7777 if mode is None else mode
            if member.isdir():
                entries[path] = Entry.directory(path, perms, uid=uid, gid=gid)
            elif member.isreg():
                entries[path] = Entry.file(path, archive.extractfile(member).read(), perms,
                                           uid=uid, gid=gid)
            elif member.issym():
                entries[path] = Entry.symlink(path, member.linkname, uid=uid, gid=gid)
            elif member.islnk():
                source = posixpath.join(target, posixpath.normpath(member.linkname.lstrip("/")))
                if source not in entries or entries[source].kind != "file":
                    raise ValueError(f"{member.name}: hard link to {member.linkname}, which is not "
                                     f"a file earlier in {archive_path.name}")
                entries[path] = (Entry.hardlink(path, source, perms, uid=uid, gid=gid)
                                 if _sorts_before(source, path) else
                                 Entry.file(path, entries[source].data, perms, uid=uid, gid=gid))
            else:
                raise ValueError(f"{member.name} in {archive_path.name}: devices and FIFOs "
                                 "cannot go into an imgkit layer")
    return list(entries.values())
