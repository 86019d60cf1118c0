"""The ``ImageBuilder`` steps a Dockerfile needs beyond the course recipes: several ENV/ARG pairs, SHELL..."""

from __future__ import annotations

import pytest

from imgkit import digest as digests
from imgkit.build import BUILDKIT_COMMENT, ImageBuilder
from imgkit.oci import canonical
from imgkit.tarlayer import Entry


def entries(image) -> list[tuple[str, bool]]:
    return [(h.get("created_by", ""), h.get("empty_layer", False)) for h in image.config["history"]]


def test_several_pairs_are_one_step_and_one_pair_is_the_old_step():
    image = ImageBuilder().env("A", "0").envs([("A", "1"), ("B", "x y")]).envs({"C": ""}) \
        .args([("MODE", "fast"), ("DEBUG", None)]).build()
    assert entries(image) == [("ENV A=0", True), ("ENV A=1 B=x y", True), ("ENV C=", True),
                              ("ARG MODE=fast DEBUG", True)]
    assert image.config["config"]["Env"] == ["A=1", "B=x y", "C="]
    # The one-pair spellings give exactly the bytes they always gave.
    assert ImageBuilder().env("K", "v").build().config_bytes == ImageBuilder().envs([("K", "v")]).build().config_bytes
    assert ImageBuilder().arg("N").build().config_bytes == ImageBuilder().args({"N": None}).build().config_bytes


@pytest.mark.parametrize("step, error", [
    (lambda b: b.envs([]), "ENV needs at least one key=value"),
    (lambda b: b.envs([("A=B", "1")]), "invalid environment variable name 'A=B'"),
    (lambda b: b.args([("", "1")]), "ARG needs a name"),
    (lambda b: b.shell("/bin/bash -c"), "SHELL needs a command as a list of strings"),
    (lambda b: b.maintainer(""), "MAINTAINER needs a name"),
])
def test_bad_steps_are_refused(step, error):
    with pytest.raises(ValueError, match=error):
        step(ImageBuilder())


def test_shell_changes_the_shell_form_and_maintainer_sets_the_author():
    image = ImageBuilder().shell(["/bin/bash", "-eu", "-c"]).cmd("echo hi").maintainer("Ada <ada@x.org>").build()
    assert entries(image) == [("SHELL [/bin/bash -eu -c]", True), ('CMD ["/bin/bash" "-eu" "-c" "echo hi"]', True),
                              ("MAINTAINER Ada <ada@x.org>", True)]
    assert image.config["author"] == "Ada <ada@x.org>"
    assert "author" not in ImageBuilder().build().config
    assert "author" not in ImageBuilder(base=image).build().config      # not inherited, as in the classic builder


def test_workdir_with_a_layer_of_its_own_and_a_step_that_changed_nothing():
    parents = [Entry.directory("srv", 0o750), Entry.directory("srv/app")]
    image = ImageBuilder().workdir("/srv/app", layer=parents, mtime=1700000000) \
        .no_change("RUN true # buildkit").build()
    assert entries(image) == [("WORKDIR /srv/app", False), ("RUN true # buildkit", True)]
    assert image.config["config"]["WorkingDir"] == "/srv/app" and len(image.layers) == 1
    assert ImageBuilder().workdir("/data", create=True).build().config_bytes == \
        ImageBuilder().workdir("/data", layer=[Entry.directory("/data")]).build().config_bytes


def test_settings_and_image_id_show_the_image_so_far():
    builder = ImageBuilder(default_path=True, comment=BUILDKIT_COMMENT).env("A", "1")
    settings = builder.settings
    settings["Env"].append("B=2")                                      # a copy: the image is not changed
    assert builder.settings["Env"][-1] == "A=1"
    assert builder.image_id() == builder.build().id == digests.compute(canonical.dumps(builder.config()))
    assert builder.image_id(created="2025-01-01T00:00:00Z") != builder.image_id()
