"""The package's public names resolve, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import imgkit


def test_every_public_name_resolves():
    for name in imgkit.__all__:
        assert getattr(imgkit, name) is not None, name


def test_import_imgkit_loads_no_heavy_dependency():
    code = ("import sys, imgkit; heavy = {'requests', 'graphviz', 'ipywidgets', 'IPython'}"
            " & set(sys.modules); print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


def test_no_verb_shares_its_modules_name():
    # `import imgkit.api.x` sets the attribute `x` to the module, hiding a verb named x.
    from imgkit import api

    clashes = {verb for verb, module in api._VERBS.items() if verb == module}
    assert clashes == set()
