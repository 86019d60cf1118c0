"""A tiny static Linux program for x86-64, written byte by byte.

The course's ``hello-world`` image holds one file, ``/hello``: a complete
Linux executable of a couple of hundred bytes that prints a greeting and
exits. No compiler is involved: this module lays out the ELF header, one
program header and eleven machine instructions itself. It shows that an image
is just files - even "the program" is only bytes in a layer - and it needs
no libc, because it talks to the kernel directly with two system calls::

    write(1, message, length)     # print to standard output
    exit(0)
"""

from __future__ import annotations

import struct

__all__ = ["hello_program", "GREETING"]

GREETING = """
Hello from imgkit's course copy of hello-world!

This message comes from /hello, the only file in this image's only layer.
To print it, imgkit
 1. pulled the image from the lab registry,
 2. unpacked its layer into a container's filesystem,
 3. ran /hello in that container, and
 4. showed you what it wrote to standard output.

Try next: imgkit images, imgkit inspect hello-world, imgkit history hello-world
"""

_BASE_ADDRESS = 0x400000      # where Linux maps a classic static executable
_ELF_HEADER_SIZE = 64
_PROGRAM_HEADER_SIZE = 56


def _code(message_length: int) -> bytes:
    """Return the machine code: write(1, msg, len); exit(0); msg follows it."""
    code = b"".join([
        b"\xb8\x01\x00\x00\x00",                    # mov eax, 1      (sys_write)
        b"\xbf\x01\x00\x00\x00",                    # mov edi, 1      (stdout)
        b"\x48\x8d\x35\x10\x00\x00\x00",            # lea rsi, [rip+16] (the message)
        b"\xba" + struct.pack("<I", message_length),  # mov edx, length
        b"\x0f\x05",                                # syscall
        b"\xb8\x3c\x00\x00\x00",                    # mov eax, 60     (sys_exit)
        b"\x31\xff",                                # xor edi, edi    (status 0)
        b"\x0f\x05",                                # syscall
    ])
    # The lea's displacement (16) counts from the end of the lea to the end
    # of the code, where the message starts: mov edx (5) + syscall (2) +
    # mov eax (5) + xor (2) + syscall (2) = 16.
    assert len(code) == 33
    return code


def hello_program(message: str = GREETING) -> bytes:
    """Return a static x86-64 Linux executable that prints ``message`` and exits 0."""
    text = message.encode("utf-8")
    body = _code(len(text)) + text
    total = _ELF_HEADER_SIZE + _PROGRAM_HEADER_SIZE + len(body)
    entry = _BASE_ADDRESS + _ELF_HEADER_SIZE + _PROGRAM_HEADER_SIZE
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)   # 64-bit, little-endian, v1, SysV
    elf_header = ident + struct.pack(
        "<HHIQQQIHHHHHH",
        2,                       # e_type: an executable
        0x3E,                    # e_machine: x86-64
        1,                       # e_version
        entry,                   # e_entry: first instruction
        _ELF_HEADER_SIZE,        # e_phoff: program headers follow the ELF header
        0,                       # e_shoff: no section headers (the kernel needs none)
        0,                       # e_flags
        _ELF_HEADER_SIZE,        # e_ehsize
        _PROGRAM_HEADER_SIZE,    # e_phentsize
        1,                       # e_phnum
        0, 0, 0)                 # no sections
    program_header = struct.pack(
        "<IIQQQQQQ",
        1,                       # PT_LOAD: map this part of the file
        5,                       # readable and executable
        0,                       # from file offset 0 ...
        _BASE_ADDRESS,           # ... to this address
        _BASE_ADDRESS,
        total, total,            # file and memory size
        0x1000)                  # page alignment
    program = elf_header + program_header + body
    assert len(program) == total
    return program
