"""The live pull display, driven from Python: a real pull moves every bar to its end."""

from __future__ import annotations

import pytest

from imgkit import digest as digests
from imgkit.api.host import Host
from imgkit.api.pulling import pull
from imgkit.events import ProgressEvent
from imgkit.widgets import PullDisplay
from imgkit.widgets.style import BAR_COLOURS, STATUS_COLOURS


@pytest.fixture
def host(lab, tmp_path) -> Host:
    """An empty host whose docker.io mirror is the session's lab."""
    return Host(tmp_path / "home", mirrors=[lab.url])


def assert_full(row) -> None:
    assert row.bar.max > 0 and row.bar.value == row.bar.max
    assert row.percent == 100.0


@pytest.mark.registry
def test_a_cold_pull_ends_with_every_bar_full_and_pull_complete(host):
    display = PullDisplay("alpine")
    result = pull("alpine", host=host, listener=display)
    assert [row.id for row in display.rows] == [layer.id for layer in result.layers]
    for row in display.rows:
        assert row.status == "Pull complete"
        assert row.status_label.value == "Pull complete"
        assert row.status_label.style.text_color == STATUS_COLOURS["Pull complete"]
        assert row.bar.style.bar_color == BAR_COLOURS["Pull complete"]
        assert_full(row)
        assert row.total is not None and row.bar.max == row.total
        assert row.bytes_label.value != ""            # the layer's size once it is done
    assert display.messages[0] == "Using default tag: latest"
    assert display.messages[1] == "latest: Pulling from library/alpine"
    assert any(m.startswith("Digest: sha256:") for m in display.messages)
    assert "Status: Downloaded newer image for alpine:latest" in display.messages
    assert display.messages[-1] == "docker.io/library/alpine:latest"
    # The widget tree: a title, the header, one box per layer, the closing lines, in order.
    boxes = [child for child in display.children if "imgkit-pull-layer" in child._dom_classes]
    assert boxes == [row.box for row in display.rows]
    assert "imgkit-pull" in display._dom_classes


@pytest.mark.registry
def test_the_text_is_the_screen_a_terminal_would_show(host):
    display = PullDisplay("alpine")
    result = pull("alpine", host=host, listener=display)
    final = {layer.id: layer.status for layer in result.layers}
    expected = [line for line in result.lines
                if not any(line.startswith(f"{i}: ") for i in final)]
    header = expected.index("latest: Pulling from library/alpine")
    expected[header + 1:header + 1] = [f"{i}: {status}" for i, status in final.items()]
    assert repr(display) == "\n".join(expected)
    bundle = display._repr_mimebundle_()
    assert bundle["text/plain"] == repr(display)           # not cut at 110 characters
    assert "application/vnd.jupyter.widget-view+json" in bundle


@pytest.mark.registry
def test_layers_already_in_the_store_say_so_in_their_own_colour(host):
    pull("alpine", host=host, listener=lambda event: None)
    display = PullDisplay("redis")
    result = pull("redis", host=host, listener=display)
    statuses = {row.id: row.status for row in display.rows}
    assert statuses == {layer.id: layer.status for layer in result.layers}
    exists, *pulled = display.rows
    assert exists.status == "Already exists"
    assert "imgkit-pull-exists" in exists.box._dom_classes
    assert exists.status_label.style.text_color == STATUS_COLOURS["Already exists"]
    assert exists.bar.style.bar_color == BAR_COLOURS["Already exists"]
    assert STATUS_COLOURS["Already exists"] != STATUS_COLOURS["Pull complete"]
    assert exists.speed_label.value == ""
    assert_full(exists)
    assert pulled and all(row.status == "Pull complete" for row in pulled)
    assert all("imgkit-pull-exists" not in row.box._dom_classes for row in pulled)
    for row in pulled:
        assert_full(row)


@pytest.mark.registry
def test_a_pull_of_an_image_already_there_has_no_layer_rows(host):
    pull("alpine", host=host, listener=lambda event: None)
    display = PullDisplay("alpine")
    pull("alpine", host=host, listener=display)
    assert display.rows == []
    assert "Status: Image is up to date for alpine:latest" in display.messages


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bytes_and_speed_while_downloading_and_redraws_held_back():
    clock = Clock()
    display = PullDisplay("demo", clock=clock, redraw_every=0.1)
    display(ProgressEvent("latest: Pulling from library/demo"))
    display(ProgressEvent("Pulling fs layer", "aaaaaaaaaaaa"))
    display(ProgressEvent("Waiting", "bbbbbbbbbbbb"))
    row, waiting = display.rows
    assert row.bar.value == 0 and row.status_label.value == "Pulling fs layer"
    assert waiting.status_label.value == "Waiting"
    display(ProgressEvent("Downloading", "aaaaaaaaaaaa", 500_000, 2_000_000))
    assert row.bytes_label.value == "500kB/2MB"
    assert row.bar.max == 2_000_000 and row.bar.value == 500_000
    assert row.percent == 25.0
    assert row.bar.style.bar_color == BAR_COLOURS["Downloading"]
    clock.now += 0.5
    display(ProgressEvent("Downloading", "aaaaaaaaaaaa", 1_500_000, 2_000_000))
    assert row.bytes_label.value == "1.5MB/2MB"
    assert row.speed_label.value == "2MB/s"                # 1 MB in half a second
    clock.now += 0.01                                       # too soon to draw bytes again...
    display(ProgressEvent("Downloading", "aaaaaaaaaaaa", 1_800_000, 2_000_000))
    assert row.bar.value == 1_500_000
    assert repr(display).splitlines()[1] == "aaaaaaaaaaaa: Downloading  1.8MB/2MB"   # ...text is current
    display.flush()
    assert row.bar.value == 1_800_000
    display(ProgressEvent("Verifying Checksum", "aaaaaaaaaaaa"))    # a new status: drawn at once
    assert row.status_label.value == "Verifying Checksum" and row.percent == 100.0
    display(ProgressEvent("Download complete", "aaaaaaaaaaaa"))
    display(ProgressEvent("Pull complete", "aaaaaaaaaaaa"))
    assert row.bytes_label.value == "2MB" and row.percent == 100.0
    assert repr(display).splitlines() == ["latest: Pulling from library/demo",
                                          "aaaaaaaaaaaa: Pull complete",
                                          "bbbbbbbbbbbb: Waiting"]


def test_a_message_starts_a_new_block_as_on_a_terminal():
    display = PullDisplay("alpine", clock=Clock())
    layer = digests.short("sha256:" + "ab" * 32)
    display(ProgressEvent("Pulling from library/alpine", "3.19"))
    display(ProgressEvent("Already exists", layer))
    display(ProgressEvent("Digest: sha256:" + "cd" * 32))
    display(ProgressEvent("Pulling from library/alpine", "3.20"))
    display(ProgressEvent("Already exists", layer))
    assert len(display.rows) == 2
    assert display.messages[0] == "3.19: Pulling from library/alpine"
    assert repr(display).splitlines()[3:] == ["3.20: Pulling from library/alpine",
                                              f"{layer}: Already exists"]


@pytest.mark.registry
def test_pull_uses_the_display_by_itself_when_widgets_can_show(host, monkeypatch):
    from imgkit.widgets import auto

    shown = []
    monkeypatch.setattr(auto, "widgets_wanted", lambda: True)
    monkeypatch.setattr(PullDisplay, "show", lambda self: shown.append(self) or self)
    pull("alpine", host=host)
    (display,) = shown
    assert display.name == "alpine"
    assert display.rows and all(row.status == "Pull complete" for row in display.rows)


def test_no_display_outside_a_notebook_or_when_switched_off(monkeypatch):
    from imgkit.widgets import auto

    assert auto.notebook_listener("alpine") is None           # pytest is no Jupyter kernel
    monkeypatch.setenv("IMGKIT_WIDGETS", "0")
    assert auto.widgets_wanted() is False
