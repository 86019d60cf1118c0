"""The ``imgkit`` parser: built for the one command a command line names, the same as the whole."""

from __future__ import annotations

import argparse
from importlib import import_module
from pathlib import Path

import pytest

from imgkit import cli


def _registered(module_name: str) -> tuple[str, ...]:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers()
    import_module(f"imgkit.cli.{module_name}").register(commands)
    return tuple(commands.choices)


@pytest.mark.parametrize("module_name", list(cli._COMMAND_MODULES))
def test_the_map_names_exactly_the_commands_each_module_adds(module_name):
    assert _registered(module_name) == cli._COMMAND_MODULES[module_name]


def _choices(parser: argparse.ArgumentParser) -> dict:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


@pytest.mark.parametrize("argv, command", [
    (["pull", "alpine"], "pull"),
    (["--home", "/h", "images", "-a"], "images"),
    (["--home=/h", "ps"], "ps"),
    (["lab", "start"], "lab"),
])
def test_a_command_line_gets_its_own_command_parsed_the_same(argv, command):
    small, whole = cli.build_parser(argv), cli.build_parser(["--help"])
    assert command in _choices(small) and len(_choices(small)) < len(_choices(whole))
    assert vars(small.parse_args(argv)) == vars(whole.parse_args(argv))


@pytest.mark.parametrize("argv", [["--help"], ["-h"], [], ["image", "ls"], ["nosuch"],
                                  ["--home"], ["--version"]])
def test_help_image_and_unknown_words_get_the_whole_parser(argv):
    choices = _choices(cli.build_parser(argv))
    assert set(choices) == {"image", *(c for names in cli._COMMAND_MODULES.values() for c in names)}


def test_an_unknown_command_is_refused_with_the_whole_list(capsys):
    with pytest.raises(SystemExit):
        cli.main(["nosuch"])
    err = capsys.readouterr().err
    assert "invalid choice: 'nosuch'" in err and "'pull'" in err and "'doctor'" in err


def test_the_program_runs_main_and_keeps_its_status(tmp_path):
    # (how it ends, at once yet losing nothing, is tests/unit/test_cli_exit.py)
    import subprocess
    import sys

    code = ("import sys; from imgkit.cli import command; "
            f"sys.argv = ['imgkit', '--home', {str(tmp_path)!r}, 'images']; "
            "sys.exit(command())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["REPOSITORY   TAG       IMAGE ID   CREATED   SIZE"]
    for argv in ([sys.executable, "-m", "imgkit"], [str(Path(sys.executable).with_name("imgkit"))]):
        failed = subprocess.run([*argv, "--home", str(tmp_path), "rmi", "nosuch"],
                                capture_output=True, text=True)
        assert failed.returncode == 1
        assert failed.stderr == "No such image: nosuch:latest\n"
