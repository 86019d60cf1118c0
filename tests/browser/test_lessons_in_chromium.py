"""Lessons run in JupyterLab, in headless Chromium, as a learner would run them.

Each test opens a notebook (a copy: the committed lessons are never
touched), runs every cell, waits for the kernel to finish, and checks what
a learner would see: no error output, the layer graph drawn as SVG, the
live pull widget drawn with its bars. Screenshots of the whole notebook, and
of the widgets alone, are kept in ``test-output/browser/``.
"""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.registry]

#: A lesson that pulls and draws a layer graph; and the first lesson, which pulls.
GRAPH_LESSON = "01-The-TLDR"
PULL_LESSON = "00-Start-Here"
#: Seconds one notebook may take to run.
RUN_TIMEOUT = 150

#: The state of the open notebook, read from JupyterLab's own objects.
_STATE = """(name) => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.context || !panel.context.path.endsWith(name + '.ipynb')) return null;
  const session = panel.sessionContext && panel.sessionContext.session;
  const kernel = session && session.kernel;
  const cells = [];
  const list = panel.content.model ? panel.content.model.cells : null;
  if (!list) return null;
  for (let i = 0; i < list.length; i++) {
    const cell = list.get(i);
    if (cell.type !== 'code') continue;
    const outputs = cell.outputs.toJSON();
    cells.push({count: cell.executionCount,
                errors: outputs.filter(o => o.output_type === 'error')
                               .map(o => o.ename + ': ' + o.evalue)});
  }
  return {ready: panel.context.isReady && !!kernel, kernel: kernel ? kernel.status : null,
          cells: cells,
          running: document.querySelectorAll('.jp-InputArea-prompt').length ?
            Array.from(document.querySelectorAll('.jp-InputArea-prompt'))
                 .filter(p => p.textContent.includes('*')).length : 0};
}"""


#: A pull caught half-way (the lab's layers come down too fast to see one): every state at once.
MIDWAY = """from imgkit.events import ProgressEvent
from imgkit.widgets import PullDisplay

ticks = iter(range(100))
midway = PullDisplay("example/app:2.1", clock=lambda: next(ticks) / 4)
for status, layer, *done in [
        ("Pulling from example/app", "2.1"), ("Already exists", "a2318d6c47ec"),
        ("Pulling fs layer", "1a8e1b7ec4f5"), ("Pulling fs layer", "5d1c2a5b0e4f"),
        ("Pulling fs layer", "9b3f0e1c2d4a"), ("Waiting", "77aa0c3e5b12"),
        ("Downloading", "1a8e1b7ec4f5", 1_200_000, 3_400_000),
        ("Downloading", "1a8e1b7ec4f5", 2_300_000, 3_400_000),
        ("Downloading", "5d1c2a5b0e4f", 52_000, 61_000),
        ("Verifying Checksum", "9b3f0e1c2d4a", None, 812)]:
    midway(ProgressEvent(status, layer, *done) if len(done) == 2 else ProgressEvent(status, layer))
midway.flush()
midway"""


def _state(page, name):
    return page.evaluate(_STATE, name)


def run_notebook(browser, jupyterlab, screenshots, name: str):
    """Open ``name`` in JupyterLab, run all its cells, and return the page once all have run."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    messages = []
    page.on("pageerror", lambda error: messages.append(str(error)))
    # ?reset: a fresh workspace, with no tab of an earlier test open.
    page.goto(f"{jupyterlab.url}/lab/tree/{name}.ipynb?reset", wait_until="domcontentloaded")
    page.wait_for_function(
        "(name) => { const s = (" + _STATE + ")(name); return s && s.ready && s.kernel === 'idle'; }",
        arg=name, timeout=60_000)
    page.evaluate("""() => { const app = window.jupyterapp;
        if (!app.shell.leftCollapsed) app.commands.execute('application:toggle-left-area'); }""")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    deadline = time.monotonic() + RUN_TIMEOUT
    state = None
    while time.monotonic() < deadline:
        state = _state(page, name)
        errors = [e for cell in state["cells"] for e in cell["errors"]]
        if errors:
            break
        if (state["kernel"] == "idle" and state["running"] == 0
                and all(cell["count"] is not None for cell in state["cells"])):
            break
        time.sleep(0.5)
    else:
        page.screenshot(path=str(screenshots / f"{name}-timeout.png"), full_page=True)
        pytest.fail(f"{name}: not every cell ran in {RUN_TIMEOUT} s: {state}; "
                    f"log: {jupyterlab.log.read_text()[-2000:]}")
    page.wait_for_timeout(500)          # let the last outputs and widget views draw
    save_full_screenshot(page, screenshots / f"{name}.png")
    errors = [e for cell in state["cells"] for e in cell["errors"]]
    stderr = page.eval_on_selector_all(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
        "nodes => nodes.map(n => n.textContent)")
    assert errors == [], f"{name}: error outputs {errors}"
    assert stderr == [], f"{name}: stderr outputs {stderr}"
    assert messages == [], f"{name}: JavaScript errors {messages}"
    return page


def save_full_screenshot(page, path) -> None:
    """Screenshot the whole notebook: the window is made as tall as the notebook first."""
    scroller = """() => { const node = window.jupyterapp.shell.currentWidget.node;
        return node.querySelector('.jp-WindowedPanel-outer') || node.querySelector('.jp-Notebook'); }"""
    height = page.evaluate(f"() => ({scroller})().scrollHeight")
    page.set_viewport_size({"width": 1280, "height": min(max(900, height + 120), 16000)})
    page.wait_for_timeout(300)
    page.evaluate(f"() => {{ ({scroller})().scrollTop = 0; }}")
    page.wait_for_timeout(200)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def assert_pull_widget_drawn(page, name: str, screenshots) -> None:
    widget = page.locator(".jp-OutputArea-output .imgkit-pull").first
    widget.wait_for(state="visible", timeout=10_000)
    rows = widget.locator(".imgkit-pull-layer")
    assert rows.count() >= 1, f"{name}: the pull widget has no layer row"
    assert widget.locator(".widget-hprogress .progress-bar").count() == rows.count()
    text = widget.inner_text()
    assert "Pull complete" in text and "Status: " in text, text
    widths = rows.locator(".progress-bar").evaluate_all(
        "bars => bars.map(b => b.getBoundingClientRect().width / b.parentElement.getBoundingClientRect().width)")
    assert widths and all(width > 0.99 for width in widths), widths
    widget.screenshot(path=str(screenshots / f"{name}-pull-widget.png"))


def test_a_lesson_with_a_pull_and_a_layer_graph(browser, jupyterlab, screenshots):
    page = run_notebook(browser, jupyterlab, screenshots, GRAPH_LESSON)
    # JupyterLab draws an image/svg+xml output as an <img> of the SVG document.
    graphs = page.locator(".jp-OutputArea-output[data-mime-type='image/svg+xml'] img")
    assert graphs.count() >= 1, f"{GRAPH_LESSON}: no layer graph (SVG) was drawn"
    drawn = graphs.evaluate_all("""images => images.map(img => ({
        width: img.naturalWidth, shown: img.getBoundingClientRect().width,
        svg: decodeURIComponent(img.src.slice(img.src.indexOf(',') + 1))}))""")
    for image in drawn:
        assert image["width"] > 0 and image["shown"] > 0, image
        assert 'class="graph"' in image["svg"] and image["svg"].count('class="node"') >= 2
    graphs.first.screenshot(path=str(screenshots / f"{GRAPH_LESSON}-graph.png"))
    assert_pull_widget_drawn(page, GRAPH_LESSON, screenshots)
    page.close()


def test_the_first_lesson_shows_the_live_pull(browser, jupyterlab, screenshots):
    page = run_notebook(browser, jupyterlab, screenshots, PULL_LESSON)
    assert_pull_widget_drawn(page, PULL_LESSON, screenshots)
    page.close()


def test_the_explorer_and_the_filter_playground_draw(browser, jupyterlab, screenshots):
    name = jupyterlab.add_notebook("widgets-tour", [
        "import imgkit\nimport imgkit.widgets\n\nlesson = imgkit.lesson.start('widgets-tour')",
        "imgkit.pull('alpine:3.20')\nimgkit.pull('redis')\nimgkit.pull('ubuntu');",
        "explorer = imgkit.widgets.explorer()\nexplorer.select('ubuntu')\nexplorer.layer.value = 3\n"
        "explorer",
        "imgkit.widgets.filter_playground(value='reference=*u*')",
        MIDWAY,
    ])
    page = run_notebook(browser, jupyterlab, screenshots, name)
    pulls = page.locator(".jp-OutputArea-output .imgkit-pull")
    assert pulls.count() == 4
    assert "Already exists" in pulls.nth(1).inner_text()      # redis is built on alpine:3.20
    exists = pulls.nth(1).locator(".imgkit-pull-exists")
    assert exists.count() == 1
    exists.screenshot(path=str(screenshots / "widgets-tour-already-exists-row.png"))
    explorer = page.locator(".jp-OutputArea-output .imgkit-explorer")
    explorer.wait_for(state="visible")
    text = explorer.inner_text()
    assert "archive.ubuntu.com_ubuntu_dists_noble_InRelease" in text and "rm -rf" in text
    explorer.screenshot(path=str(screenshots / "widgets-tour-explorer.png"))
    playground = page.locator(".jp-OutputArea-output .imgkit-filters")
    text = playground.inner_text()
    assert "ubuntu" in text and "busybox" not in text and "alpine " not in text, text
    playground.locator("input").fill("x=1")
    page.wait_for_timeout(800)
    assert "invalid filter 'x'" in playground.inner_text()
    playground.locator("input").fill("dangling=false")
    page.wait_for_timeout(800)
    assert "alpine" in playground.inner_text()
    playground.screenshot(path=str(screenshots / "widgets-tour-filters.png"))
    explorer.get_by_text("History", exact=True).click()
    page.wait_for_timeout(300)
    assert "rm -rf /var/lib/apt/lists/*" in explorer.inner_text()
    explorer.screenshot(path=str(screenshots / "widgets-tour-explorer-history.png"))
    midway = page.locator(".jp-OutputArea-output .imgkit-pull").nth(3)
    text = midway.inner_text()
    for status in ("Already exists", "Downloading", "Waiting", "Verifying Checksum"):
        assert status in text, text
    assert "2.3MB/3.4MB" in text
    midway.screenshot(path=str(screenshots / "widgets-tour-pull-midway.png"))
    pulls.nth(1).screenshot(path=str(screenshots / "widgets-tour-pull-redis.png"))
    page.close()
