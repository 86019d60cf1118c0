"""Write a ``Graph`` in Graphviz's DOT language, the same text on every machine.

How the picture reads:

- Base layers at the top, each layer above the layers stacked on it, so
  images that share a base hang off one root like branches of a tree; an
  image sits under its top layer, and its dashed arrow points up at it (an
  image *names* its top layer; the layers under it come with it).
- A run of layers that only one branch uses (no image starts or ends in
  the middle) is drawn as one box with a row per layer, like ``docker
  history`` upside down. That keeps twenty images readable: the picture
  grows with the number of branches, not the number of layers.
- With more than ``AUTO_LR_AFTER`` images side by side the graph turns on
  its side (base layers at the left): a notebook scrolls down easily, not
  across.
- Colours are paired with border weight, dash and words, so a greyscale
  printout says the same: shared layers are blue *and* bold *and* say
  "shared by N"; what a command would remove is red *and* dashed.

Node IDs come from ChainIDs and image IDs; nodes, rows and edges are
written in a fixed order; no time or version appears. Golden files can
compare the text byte for byte.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from .. import digest as digests
from ..format import ellipsis
from .model import Graph, Image, Layer, marks

__all__ = ["to_dot", "body", "header_label", "preamble", "legend_states", "rankdir_of", "groups",
           "LOOKS", "AUTO_LR_AFTER"]

FONT = "Helvetica"
MONO = "Courier"
STEP_WIDTH = 40         # CREATED BY is cut to this many columns, with …
AUTO_LR_AFTER = 4
MAX_NAMES = 3


@dataclass(frozen=True)
class Look:
    """How one kind of node is drawn: fill colour, border width and style, legend words."""

    fill: str
    border: int
    style: str
    words: str


LOOKS = {
    "layer": Look("#ffffff", 1, "solid", "layer of one image: short ChainID, SIZE, the step that made it"),
    "shared": Look("#9ecae1", 3, "solid", "layer shared by several images (bold)"),
    "image": Look("#fee391", 1, "rounded", "image: tags, short ID, SIZE; dashed arrow to its top layer"),
    "index": Look("#dadaeb", 1, "rounded", "multi-platform index: one image per platform"),
    # layer marks
    "freed": Look("#fc9272", 2, "dashed", "layer rmi would free (dashed: leaves the store)"),
    "kept": Look("#9ecae1", 3, "solid", "layer rmi keeps: another image uses it"),
    "exists": Look("#d9d9d9", 1, "solid", "layer the store has: Already exists"),
    "fetch": Look("#a1d99b", 2, "dashed", "layer a pull downloads (dashed: not in the store yet)"),
    "added": Look("#a1d99b", 3, "solid", "new since before (bold)"),
    "removed": Look("#fc9272", 2, "dashed", "gone after (dashed)"),
    # image marks
    "deleted": Look("#fc9272", 2, "rounded,dashed", "image rmi would delete"),
    "untagged": Look("#fee391", 2, "rounded,dashed", "image that loses a tag but stays"),
    "pull": Look("#a1d99b", 2, "rounded,dashed", "image a pull would bring"),
    "changed": Look("#fee391", 3, "rounded", "image whose tags changed (bold)"),
    "local": Look("#fee391", 1, "rounded", "image in your store"),
    "platform": Look("#fee391", 3, "rounded", "your platform's image (bold)"),
}


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def node_id(kind: str, digest: str, prefix: str = "") -> str:
    """Return a DOT node ID: a letter for the kind and 16 hex digits of the digest."""
    return f"{prefix}{kind}_{digests.hex_of(digest)[:16] if ':' in digest else digest[:16]}"


def rankdir_of(graph: Graph, images: int | None = None) -> str:
    """TB (base at top) unless the graph says otherwise or has too many images for one row."""
    if graph.rankdir:
        return graph.rankdir
    return "LR" if (images if images is not None else len(graph.images)) > AUTO_LR_AFTER else "TB"


# -- layers, grouped into runs ----------------------------------------------------

def _layer_look(layer: Layer) -> Look:
    if layer.state in LOOKS:
        return LOOKS[layer.state]
    return LOOKS["shared"] if layer.shared else LOOKS["layer"]


def _signature(layer: Layer) -> tuple:
    return (layer.used_by, layer.state)


def groups(graph: Graph) -> list[list[Layer]]:
    """Return runs of layers drawn as one box, bottom first, in drawing order.

    A layer joins the run of the layer under it when that layer has no
    other child and no image on it, and both have the same users and mark.
    """
    children: dict[str, list[Layer]] = {}
    for layer in graph.sorted_layers():
        if layer.parent in graph.layers:
            children.setdefault(layer.parent, []).append(layer)
    tops = {image.top for image in graph.images.values()}
    runs: list[list[Layer]] = []
    run_of: dict[str, list[Layer]] = {}
    for layer in graph.sorted_layers():
        parent = graph.parent_of(layer)
        if (parent is not None and parent.chain_id in run_of and len(children[parent.chain_id]) == 1
                and parent.chain_id not in tops and _signature(parent) == _signature(layer)):
            run = run_of[parent.chain_id]
            run.append(layer)
        else:
            run = [layer]
            runs.append(run)
        run_of[layer.chain_id] = run
    return runs


def _layer_header(layer: Layer) -> list[str]:
    words = marks(layer.state, "")
    if layer.shared:
        words.append(f"shared by {len(layer.used_by)} images")
    return words


def _layer_node(run: list[Layer], prefix: str) -> str:
    first = run[0]
    look = _layer_look(first)
    rows = []
    header = _layer_header(first)
    if header:
        rows.append(f'<TR><TD COLSPAN="2"><B>{_e(" · ".join(header))}</B></TD></TR>')
    for position, layer in enumerate(run):
        # A thin rule between the layers of a run, as between the rows of `docker history`.
        sides = ' SIDES="T"' if position else ""
        rows.append(f'<TR><TD ALIGN="LEFT" BORDER="{1 if position else 0}"{sides}>'
                    f'<FONT FACE="{MONO}">{layer.short}</FONT></TD>'
                    f'<TD ALIGN="RIGHT" BORDER="{1 if position else 0}"{sides}>{_e(layer.size_text)}</TD></TR>')
        rows.append(f'<TR><TD COLSPAN="2" ALIGN="LEFT"><FONT POINT-SIZE="9">'
                    f'{_e(ellipsis(layer.step, STEP_WIDTH))}</FONT></TD></TR>')
        if layer.note:
            rows.append(f'<TR><TD COLSPAN="2" ALIGN="LEFT"><FONT POINT-SIZE="9"><I>'
                        f'{_e(layer.note)}</I></FONT></TD></TR>')
    tooltip = "\n".join(f"{layer.chain_id} (ChainID)\ndiff_id {layer.diff_id or '?'}\n"
                        f"blob {layer.digest or '?'}\n{layer.step}" for layer in run)
    return (f"  {node_id('L', first.chain_id, prefix)} [tooltip={_quote(tooltip)}, label=<"
            f'<TABLE BORDER="{look.border}" STYLE="{look.style}" BGCOLOR="{look.fill}" '
            f'CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">\n    '
            + "\n    ".join(rows) + "\n  </TABLE>>];")


# -- images and the index -----------------------------------------------------------

def _wrap(words: list[str], width: int) -> list[str]:
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + len(word) + 2 <= width:
            lines[-1] += ", " + word
        else:
            lines.append(word)
    return lines


def _image_node(image: Image, prefix: str, show_platform: bool) -> str:
    look = LOOKS.get(image.state) or LOOKS["image"]
    style = look.style if "rounded" in look.style else f"rounded,{look.style}".replace(",solid", "")
    rows = []
    if show_platform and image.platform:
        rows.append(f"<TR><TD><B>{_e(image.platform)}</B></TD></TR>")
    names = list(image.names[:MAX_NAMES]) or ["<none>:<none>"]
    if len(image.names) > MAX_NAMES:
        names.append(f"+{len(image.names) - MAX_NAMES} more")
    for name in names:
        rows.append(f"<TR><TD>{'<B>' if not show_platform else ''}{_e(name)}"
                    f"{'</B>' if not show_platform else ''}</TD></TR>")
    rows.append(f'<TR><TD><FONT FACE="{MONO}">{image.short}</FONT> · {_e(image.size_text)}</TD></TR>')
    if image.metadata:
        text = "<BR/>".join(_e(line) for line in _wrap(["metadata: " + image.metadata[0],
                                                        *image.metadata[1:]], 32))
        rows.append(f'<TR><TD><FONT POINT-SIZE="9">{text}</FONT></TD></TR>')
    if image.containers:
        count = image.containers
        rows.append(f'<TR><TD><FONT POINT-SIZE="9">{count} container{"s" * (count != 1)}'
                    "</FONT></TD></TR>")
    words = marks(image.state, image.note)
    if words:
        rows.append(f'<TR><TD><FONT POINT-SIZE="9"><I>{_e(" · ".join(words))}</I></FONT></TD></TR>')
    tooltip = f"image {image.id}\n{image.label}"
    return (f"  {node_id('I', image.id, prefix)} [tooltip={_quote(tooltip)}, label=<"
            f'<TABLE BORDER="{look.border}" STYLE="{style}" BGCOLOR="{look.fill}" '
            f'CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">\n    '
            + "\n    ".join(rows) + "\n  </TABLE>>];")


def _index_node(graph: Graph, prefix: str) -> str:
    index = graph.index
    assert index is not None
    look = LOOKS["index"]
    count = len(index.images)
    rows = [f"<TR><TD><B>index {_e(index.reference)}</B></TD></TR>",
            f'<TR><TD><FONT FACE="{MONO}">{digests.short(index.digest)}</FONT> · '
            f"{count} platform{'s' * (count != 1)}</TD></TR>"]
    return (f"  {node_id('X', index.digest, prefix)} [tooltip={_quote('index ' + index.digest)}, "
            f'label=<<TABLE BORDER="{look.border}" STYLE="{look.style}" BGCOLOR="{look.fill}" '
            f'CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">\n    '
            + "\n    ".join(rows) + "\n  </TABLE>>];")


# -- the whole graph ------------------------------------------------------------------

def _root(graph: Graph, chain_id: str) -> str:
    layer = graph.layers[chain_id]
    while layer.parent in graph.layers:
        layer = graph.layers[layer.parent]
    return layer.chain_id


def body(graph: Graph, prefix: str = "", rankdir: str = "TB") -> list[str]:
    """Return the node and edge statements of ``graph`` (IDs prefixed with ``prefix``).

    Nodes are written one tree (base layer) at a time. Graphviz places
    separate trees left to right in the order written, but bottom to top
    when the graph lies on its side - so then they are written in reverse,
    keeping the first tree at the top.
    """
    runs = groups(graph)
    run_id = {layer.chain_id: node_id("L", run[0].chain_id, prefix) for run in runs for layer in run}
    images = graph.sorted_images()
    show_platform = graph.index is not None or graph.view == "index"
    trees: dict[str, list[str]] = {}
    for run in runs:
        trees.setdefault(_root(graph, run[0].chain_id), []).append(_layer_node(run, prefix))
    for image in images:
        tree = _root(graph, image.top) if image.top in graph.layers else image.id
        trees.setdefault(tree, []).append(_image_node(image, prefix, show_platform))
    blocks = list(trees.values())
    if graph.index is not None:
        blocks = [[line for block in blocks for line in block] + [_index_node(graph, prefix)]]
    if rankdir == "LR":
        blocks.reverse()
    lines = [line for block in blocks for line in block]
    for run in runs:
        parent = run[0].parent
        if parent in run_id:
            lines.append(f"  {run_id[parent]} -> {run_id[run[0].chain_id]};")
    for image in images:
        if image.top in run_id:
            # Drawn from the layer so the image ranks below it; dir=back puts the arrowhead
            # on the layer: the image names its top layer.
            lines.append(f"  {run_id[image.top]} -> {node_id('I', image.id, prefix)} "
                         "[style=dashed, dir=back];")
    if graph.index is not None:
        for image_id in graph.index.images:
            if image_id in graph.images:
                lines.append(f"  {node_id('I', image_id, prefix)} -> "
                             f"{node_id('X', graph.index.digest, prefix)} [style=dotted, dir=back];")
    return lines


def legend_states(graph: Graph) -> list[str]:
    """Return the kinds of node ``graph`` shows, in legend order."""
    present = ["layer"]
    if any(layer.shared for layer in graph.layers.values()):
        present.append("shared")
    present.append("image")
    if graph.index is not None:
        present.append("index")
    used = {layer.state for layer in graph.layers.values()} | \
        {image.state for image in graph.images.values()}
    present += [state for state in LOOKS if state in used and state not in present]
    return present


def legend(states: list[str]) -> str:
    """Return an HTML table explaining each kind of node in ``states`` (two columns past four)."""
    cells = []
    for state in states:
        look = LOOKS[state]
        cells.append(f'<TD BORDER="{look.border}" STYLE="{look.style.replace("rounded,", "")}" '
                     f'BGCOLOR="{look.fill}" WIDTH="24"> </TD>'
                     f'<TD ALIGN="LEFT"><FONT POINT-SIZE="9">{_e(look.words)}</FONT></TD>')
    columns = 2 if len(cells) > 4 else 1
    height = -(-len(cells) // columns)
    rows = ["".join(cells[row + height * column] for column in range(columns)
                    if row + height * column < len(cells)) for row in range(height)]
    return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="1">'
            + "".join(f"<TR>{row}</TR>" for row in rows) + "</TABLE>")


def header_label(title: str, notes: tuple[str, ...], states: list[str]) -> str:
    """Return the graph's label: title, notes and legend, as one HTML table."""
    rows = [f'<TR><TD ALIGN="LEFT"><B><FONT POINT-SIZE="13">{_e(title)}</FONT></B></TD></TR>']
    rows += [f'<TR><TD ALIGN="LEFT">{_e(note)}</TD></TR>' for note in notes]
    rows.append(f'<TR><TD ALIGN="LEFT">{legend(states)}</TD></TR>')
    return '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">\n  ' + \
        "\n  ".join(rows) + "\n  </TABLE>"


def preamble(rankdir: str, label: str) -> list[str]:
    """Return the graph, node and edge defaults every imgkit picture starts with."""
    return [
        f'  graph [rankdir={rankdir}, fontname="{FONT}", fontsize=10, nodesep=0.2, ranksep=0.3, '
        f"labelloc=t, labeljust=l, label=<{label}>];",
        f'  node [shape=plain, fontname="{FONT}", fontsize=10];',
        '  edge [color="#444444", arrowsize=0.7];',
    ]


def to_dot(graph: Graph) -> str:
    """Return ``graph`` as DOT text."""
    label = header_label(graph.title, graph.notes, legend_states(graph))
    rankdir = rankdir_of(graph)
    lines = ["digraph imgkit {", *preamble(rankdir, label), *body(graph, rankdir=rankdir), "}"]
    return "\n".join(lines) + "\n"
