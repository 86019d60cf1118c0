"""The Dockerfile parser and ``$VAR`` substitution, case by case, against BuildKit's rules."""

from __future__ import annotations

import pytest

from imgkit.dockerfile import DockerfileError, DockerfileParseError, expand, expand_words, parse


def only(text: str):
    """Parse ``FROM scratch`` + ``text`` and return the last instruction."""
    return parse("FROM scratch\n" + text).instructions[-1]


# -- lines -----------------------------------------------------------------------

@pytest.mark.parametrize("text, original, line, end_line", [
    ("COPY a \\\n  /b/", "COPY a   /b/", 2, 3),
    ("COPY a \\   \n/b/", "COPY a /b/", 2, 3),                     # spaces after the backslash
    ("COPY a \\\n# a comment\n\n /b/", "COPY a  /b/", 2, 5),       # comment and blank lines vanish
    ("\n\n  COPY a /b/", "COPY a /b/", 4, 4),                       # leading blanks, indentation
    ("RUN echo \\\\\nCMD x", "CMD x", 3, 3),                        # "\\\\" at the end is not a continuation
    ("ENV A=1 \\", "ENV A=1", 2, 2),                                # continuation at end of file
])
def test_continuation_lines_join_like_buildkit(text, original, line, end_line):
    ins = only(text)
    assert (ins.original, ins.line, ins.end_line) == (original, line, end_line)


def test_escape_directive_makes_the_backtick_the_continuation_character():
    df = parse("# escape=`\nFROM scratch\nCOPY a `\n  C:\\dir\\ /b/\n")
    assert df.escape == "`"
    assert df.instructions[-1].args == ("a", "C:\\dir\\", "/b/")


def test_directives_only_count_at_the_top():
    df = parse("FROM scratch\n# escape=`\nCOPY a \\\n /b/\n")
    assert df.escape == "\\" and df.instructions[-1].args == ("a", "/b/")


@pytest.mark.parametrize("text, message", [
    ("# escape=x\nFROM scratch", "Dockerfile:1: invalid escape token 'x' does not match ` or \\"),
    ("# escape=`\n# escape=\\\nFROM scratch", "Dockerfile:2: only one escape parser directive can be used"),
])
def test_bad_directives(text, message):
    with pytest.raises(DockerfileParseError) as caught:
        parse(text)
    assert str(caught.value) == message


def test_names_are_case_insensitive_and_comments_skipped():
    df = parse("# hello\nfrom scratch\n  # indented comment\nCoPy a /b\n")
    assert [(i.name, i.line) for i in df.instructions] == [("FROM", 2), ("COPY", 4)]


# -- forms ---------------------------------------------------------------------

@pytest.mark.parametrize("text, args, is_json", [
    ('CMD ["redis-server", "--port", "1"]', ("redis-server", "--port", "1"), True),
    ("CMD redis-server --port 1", ("redis-server --port 1",), False),
    ('ENTRYPOINT ["/entry.sh"]', ("/entry.sh",), True),
    ("ENTRYPOINT []", (), True),
    ('RUN ["echo", "hi"]', ("echo", "hi"), True),
    ("RUN echo 'a  b'", ("echo 'a  b'",), False),
    ('CMD ["unclosed"', ('["unclosed"',), False),                    # not JSON: the shell form
    ("CMD [x]", ("[x]",), False),
    ('SHELL ["/bin/bash", "-c"]', ("/bin/bash", "-c"), True),
    ('COPY ["a b", "/c d/"]', ("a b", "/c d/"), True),
    ("COPY a b /c/", ("a", "b", "/c/"), False),
    ('VOLUME ["/data", "/logs"]', ("/data", "/logs"), True),
    ("VOLUME /data /logs", ("/data", "/logs"), False),
    ("WORKDIR /my dir", ("/my dir",), False),
    ("EXPOSE 80  443/udp", ("80", "443/udp"), False),
])
def test_exec_and_shell_forms(text, args, is_json):
    ins = only(text)
    assert (ins.args, ins.json) == (args, is_json)


@pytest.mark.parametrize("text, pairs", [
    ("ENV A=1 B=2", (("A", "1"), ("B", "2"))),
    ('ENV A="two words" B=x\\ y', (("A", '"two words"'), ("B", "x\\ y"))),   # quotes go at expansion
    ("ENV OLD value with spaces", (("OLD", "value with spaces"),)),
    ("ENV ONE TWO= THREE=world", (("ONE", "TWO= THREE=world"),)),             # Docker's own example
    ('LABEL "com.example.vendor"="ACME" version=1.0', (('"com.example.vendor"', '"ACME"'),
                                                        ("version", "1.0"))),
    ("ARG NAME", (("NAME", None),)),
    ("ARG A=1 B", (("A", "1"), ("B", None))),
    ("ARG EMPTY=", (("EMPTY", ""),)),
])
def test_key_value_instructions(text, pairs):
    assert only(text).pairs == pairs


def test_flags_come_before_the_arguments():
    ins = only("COPY --chown=1:2 --chmod=600 --link a /b")
    assert ins.flags == (("chown", "1:2"), ("chmod", "600"), ("link", "true"))
    assert ins.flag("chown") == "1:2" and ins.flag("from") is None and ins.args == ("a", "/b")
    assert only("RUN --mount=type=cache,target=/x --mount=type=tmpfs,target=/t make").flag_values(
        "mount") == ["type=cache,target=/x", "type=tmpfs,target=/t"]


def test_meta_args_and_stages():
    df = parse("ARG BASE=scratch\nFROM ${BASE} AS build\nCOPY a /a\n")
    assert [i.original for i in df.meta_args] == ["ARG BASE=scratch"]
    ((start, steps),) = df.stages()
    assert start.args == ("${BASE}", "AS", "build") and [s.name for s in steps] == ["COPY"]


# -- errors ----------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("FROM scratch\nCOPY a b\nCOPPY x y", "Dockerfile:3: unknown instruction: COPPY (did you mean COPY?)"),
    ("FROM scratch\nrunn x", "Dockerfile:2: unknown instruction: runn (did you mean run?)"),
    ("FROM scratch\nFROBNICATE x", "Dockerfile:2: unknown instruction: FROBNICATE"),
    ("COPY a /b", "Dockerfile:1: no build stage in current context"),
    ("# only a comment\n", "Dockerfile: file with no instructions"),
    ("ARG A=1\n", "Dockerfile: dockerfile contains no stages to build"),
    ("FROM a b", "Dockerfile:1: FROM requires either one or three arguments"),
    ("FROM a AS 1st", 'Dockerfile:1: invalid name for build stage: "1st", name can\'t start with '
                      "a number or contain symbols"),
    ("FROM scratch\nCOPY a", "Dockerfile:2: COPY requires at least two arguments, but only one "
                             "was provided. Destination could not be determined"),
    ("FROM scratch\nWORKDIR", "Dockerfile:2: WORKDIR requires exactly one argument"),
    ("FROM scratch\nENV A", "Dockerfile:2: ENV must have two arguments"),
    ("FROM scratch\nENV A=1 B", 'Dockerfile:2: Syntax error - can\'t find = in "B". Must be of the '
                                "form: name=value"),
    ("FROM scratch\nEXPOSE", "Dockerfile:2: EXPOSE requires at least one argument"),
    ("FROM scratch\nSHELL /bin/sh -c", "Dockerfile:2: SHELL requires the arguments to be in JSON form"),
    ('FROM scratch\nCMD ["a", 1]', "Dockerfile:2: when using JSON array syntax, arrays must be "
                                   "comprised of strings only"),
    ("FROM scratch\nCOPY --chownn=1 a b", "Dockerfile:2: unknown flag: --chownn (did you mean chown?)"),
    ("FROM scratch\nCOPY --chown a b", "Dockerfile:2: missing a value on flag: --chown"),
    ("FROM scratch\nENV --x=1 A=1", "Dockerfile:2: unknown flag: --x"),
    ("FROM scratch\nRUN <<EOF\necho hi\nEOF", "Dockerfile:2: here-documents (<<EOF) are not supported "
                                              "by imgkit yet; write the file into the build context "
                                              "and COPY it"),
])
def test_errors_name_file_and_line_in_dockers_words(text, message):
    with pytest.raises(DockerfileParseError) as caught:
        parse(text)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_the_file_name_is_the_one_given():
    with pytest.raises(DockerfileParseError, match=r"^app\.Dockerfile:2: unknown instruction"):
        parse("FROM scratch\nNOPE", "app.Dockerfile")


# -- substitution ----------------------------------------------------------------

ENV = {"NAME": "redis", "EMPTY": "", "PATH_LIKE": "/usr/local/bin/redis-server", "V": "7.2.5"}


@pytest.mark.parametrize("word, result", [
    ("$NAME", "redis"),
    ("${NAME}", "redis"),
    ("${NAME}-server", "redis-server"),
    ("$NAME-server", "redis-server"),
    ("$NAMEserver", ""),                                  # the name runs to the end of the letters
    ("$UNSET", ""),
    ("${UNSET:-default}", "default"),
    ("${EMPTY:-default}", "default"),
    ("${EMPTY-default}", ""),                             # without ':' only unset counts
    ("${NAME:-default}", "redis"),
    ("${NAME:+alt}", "alt"),
    ("${EMPTY:+alt}", ""),
    ("${EMPTY+alt}", "alt"),
    ("${UNSET+alt}", ""),
    ("${UNSET:-$NAME}", "redis"),                         # the default is expanded too
    ("${UNSET:-a b}", "a b"),
    ('"$NAME is here"', "redis is here"),                 # double quotes expand and go away
    ("'$NAME'", "$NAME"),                                 # single quotes keep it literal
    ("\\$NAME", "$NAME"),                                 # an escaped dollar
    ('"\\$NAME"', "$NAME"),
    ("$", "$"),
    ("a$", "a$"),
    ("${PATH_LIKE##*/}", "redis-server"),
    ("${PATH_LIKE#*/}", "usr/local/bin/redis-server"),
    ("${V%.*}", "7.2"),
    ("${V%%.*}", "7"),
    ("${V/./-}", "7-2.5"),
    ("${V//./-}", "7-2-5"),
])
def test_expand(word, result):
    assert expand(word, ENV) == result


@pytest.mark.parametrize("word, message", [
    ("${NAME", "syntax error: missing '}'"),
    ("${}", "syntax error: bad substitution"),
    ("${:x}", "syntax error: bad substitution"),
    ("${UNSET:?must be set}", "UNSET: must be set"),
    ("${UNSET?}", "UNSET: is not allowed to be unset"),
    ("${EMPTY:?}", "EMPTY: is not allowed to be empty"),
    ("${NAME:#x}", "unsupported modifier (:#) in substitution"),
    ("'open", "unexpected end of statement while looking for matching single-quote"),
    ('"open', "unexpected end of statement while looking for matching double-quote"),
])
def test_expand_errors(word, message):
    with pytest.raises(DockerfileError) as caught:
        expand(word, ENV)
    assert caught.value.reason.endswith(message)
    assert caught.value.reason.startswith("failed to process ")


def test_expand_words_splits_only_unquoted_spaces():
    assert expand_words('80 ${PORTS} "a b" $EMPTY', {"PORTS": "443 8080/udp", "EMPTY": ""}) == \
        ["80", "443", "8080/udp", "a b"]


def test_the_escape_character_follows_the_directive():
    assert expand("`$NAME", ENV, escape="`") == "$NAME"
    assert expand("C:\\dir", ENV, escape="`") == "C:\\dir"
