"""The image explorer: pick an image, see its layers, its history, and what each layer changes.

    >>> imgkit.widgets.explorer()                    # doctest: +SKIP

shows a drop-down of the host's images. For the chosen image it lists

- its **layers**, bottom first as the manifest lists them: the short
  ChainID (the layer *and everything under it*, what the store keys it by),
  its size, the history step that made it, and which other images share it;
- the **files a layer adds, changes or deletes** (``A``, ``C``, ``D``, as
  ``docker diff`` prints them; deletions are the layer's whiteouts);
- its **history**, as ``docker history`` prints it.

Its text (``repr``) says all of that too, for a terminal or nbval.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from .. import digest as digests
from ..format import ellipsis, human_size, table, truncate_id
from ..store import find_image
from .layerfiles import FileChange, LayerFiles
from .style import MONO, heading_html, note_html, table_html

__all__ = ["ImageExplorer", "LayerInfo", "explorer", "MAX_FILES_SHOWN"]

#: Files listed for one layer before "... and N more".
MAX_FILES_SHOWN = 400
_CHANGE_COLOURS = {"A": "#2e7d32", "C": "#1565c0", "D": "#c62828"}
_CHANGE_WORDS = {"A": "added", "C": "changed", "D": "deleted"}


class LayerInfo:
    """One layer of the chosen image: its place, ChainID, blob, size and the step that made it."""

    def __init__(self, number: int, chain_id: str, digest: str, size: int, compressed: int,
                 created_by: str, shared_with: tuple[str, ...]):
        self.number = number            #: 1 for the bottom layer
        self.chain_id = chain_id
        self.digest = digest            #: the compressed blob in the store
        self.size = size                #: Docker's SIZE: bytes of the files in it
        self.compressed = compressed    #: what a pull downloads
        self.created_by = created_by
        self.shared_with = shared_with  #: names of the other images that stack this layer

    def __repr__(self) -> str:
        return f"<layer {self.number}: {digests.short(self.chain_id)} {human_size(self.size)}>"


def _image_label(records, image_id: str) -> str:
    from ..graph.collect import names_of

    names = names_of(records, image_id)
    short = digests.short(image_id)
    return ", ".join(names) if names else f"<none>:<none> ({short})"


class ImageExplorer(widgets.VBox):
    """Pick an image: its layers, history, and the files any one layer adds or deletes.

    ``image`` is the image drop-down (its value an image ID), ``layer`` the
    layer drop-down (its value the layer's number, 1 = bottom). ``layers``,
    ``files`` and ``history_rows`` hold what is shown, for code and tests.
    """

    def __init__(self, host=None, **kwargs):
        from ..api.host import default_host

        kwargs.setdefault("layout", widgets.Layout(border="1px solid #d0d7de", padding="8px 12px",
                                                   margin="4px 0", max_width="100%"))
        super().__init__(**kwargs)
        self.add_class("imgkit-explorer")
        self.host = host if host is not None else default_host()
        self.reader = LayerFiles(self.host.store.blobs)
        self.layers: list[LayerInfo] = []
        self.files: list[FileChange] = []
        self.history_rows: list = []
        self._history_text = ""
        self._quiet = False
        self.image = widgets.Dropdown(description="Image", options=[],
                                      layout=widgets.Layout(width="32em"))
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh",
                                             tooltip="read the store again (after a pull or rmi)",
                                             layout=widgets.Layout(width="8em"))
        self.summary = widgets.HTML()
        self.layers_html = widgets.HTML()
        self.layer = widgets.Dropdown(description="Files of", options=[],
                                      layout=widgets.Layout(width="44em"))
        self.files_note = widgets.HTML()
        self.files_html = widgets.HTML(layout=widgets.Layout(max_height="22em", overflow="auto"))
        self.history_html = widgets.HTML(layout=widgets.Layout(overflow="auto"))
        layers_tab = widgets.VBox([
            self.layers_html,
            widgets.HTML(heading_html("Files the layer adds (A), changes (C) or deletes (D)")),
            self.layer, self.files_note, self.files_html])
        self.tabs = widgets.Tab(children=[layers_tab, self.history_html])
        self.tabs.titles = ("Layers", "History")
        self.children = (widgets.HBox([self.image, self.refresh_button]), self.summary, self.tabs)
        self.image.observe(self._image_chosen, names="value")
        self.layer.observe(self._layer_chosen, names="value")
        self.refresh_button.on_click(lambda _button: self.refresh())
        self.refresh()

    # -- reading the store ----------------------------------------------------------
    def refresh(self) -> None:
        """Read the store again: the image list, and the chosen image if it is still there."""
        records = self.host.store.records()
        options = sorted(((_image_label(records, image_id), image_id)
                          for image_id in records.images),
                         key=lambda item: (item[0].startswith("<none>"), item[0]))
        ids = [image_id for _, image_id in options]
        chosen = self.image.value if self.image.value in ids else (ids[0] if ids else None)
        self._quiet = True          # the drop-downs' own notifications would redraw twice
        try:
            self.image.options = options
            self.image.value = chosen
        finally:
            self._quiet = False
        self._show_image(chosen)

    def select(self, name: str) -> None:
        """Choose an image by name or ID, as ``docker inspect`` finds it (``"ubuntu"``)."""
        image = find_image(self.host.store.records(), name)
        if image.id not in [value for _, value in self.image.options]:
            self.refresh()
        self.image.value = image.id

    def _image_chosen(self, change) -> None:
        if not self._quiet:
            self._show_image(change["new"])

    def _layer_chosen(self, change) -> None:
        if not self._quiet:
            self._show_files(change["new"])

    # -- the chosen image -------------------------------------------------------------
    def _show_image(self, image_id: str | None) -> None:
        from ..api.inspecting import History, history_rows
        from ..graph.collect import history_of, names_of

        if image_id is None:
            self.layers, self.history_rows, self._history_text = [], [], ""
            self.summary.value = note_html(
                "No images in this host's store yet: pull one (imgkit.pull(\"alpine\")), "
                "then press Refresh.")
            self.layers_html.value = self.history_html.value = ""
            self.layer.options = []
            self._show_files(None)
            return
        store = self.host.store
        records = store.records()
        image = records.images[image_id]
        try:
            config = store.blobs.read(image_id)
        except OSError:
            config = None
        steps, _ = history_of(config, image.layers)
        users = records.layer_users()
        self.layers = []
        for number, chain_id in enumerate(image.layers, start=1):
            layer = records.layers[chain_id]
            others = tuple(sorted({_image_label(records, other) for other in users.get(chain_id, [])
                                   if other != image_id}))
            self.layers.append(LayerInfo(number, chain_id, layer.digest, layer.content_size,
                                         layer.size, steps.get(chain_id, ""), others))
        names = names_of(records, image_id)
        platform = "/".join(p for p in (image.os, image.architecture, image.variant) if p)
        count = len(self.layers)
        self.summary.value = (
            f"<div style=\"font-family:{MONO};font-size:12px;margin:4px 0 6px 0;color:#37474f\">"
            f"<b>{html.escape(', '.join(names) or '<none>')}</b> &nbsp;·&nbsp; "
            f"ID {html.escape(truncate_id(image_id))} &nbsp;·&nbsp; {html.escape(platform)} "
            f"&nbsp;·&nbsp; created {html.escape(image.created[:19].replace('T', ' '))} "
            f"&nbsp;·&nbsp; {count} layer{'s' if count != 1 else ''}, "
            f"{html.escape(human_size(image.size))}</div>")
        self.layers_html.value = self._layers_table()
        try:
            rows = history_rows(records, image_id, store.blobs.read)
        except (OSError, KeyError, ValueError):
            rows = []
        self.history_rows = rows
        self._history_text = History(rows).table() if rows else "(no history)"
        self.history_html.value = (
            note_html("docker history: newest step first; steps that made no layer show 0B")
            + f"<pre style=\"font-family:{MONO};font-size:12px;margin:4px 0\">"
            f"{html.escape(self._history_text)}</pre>")
        options = [(self._layer_option(info), info.number) for info in self.layers]
        chosen = self.layers[-1].number if self.layers else None
        self._quiet = True
        try:
            self.layer.options = options
            self.layer.value = chosen
        finally:
            self._quiet = False
        self._show_files(chosen)

    def _layer_option(self, info: LayerInfo) -> str:
        step = ellipsis(" ".join(info.created_by.split()), 60) if info.created_by else ""
        return f"{info.number} · {digests.short(info.chain_id)} · {human_size(info.size)} · {step}"

    def _layers_table(self, highlight: int | None = None) -> str:
        rows = [[str(info.number), digests.short(info.chain_id), human_size(info.size),
                 human_size(info.compressed), info.created_by,
                 ", ".join(info.shared_with) or "-"] for info in self.layers]
        return (note_html("bottom layer first, as the manifest lists them; a layer is named "
                          "by its ChainID: itself and every layer under it")
                + table_html(["#", "CHAIN ID", "SIZE", "DOWNLOAD", "CREATED BY", "ALSO IN"], rows,
                             highlight=None if highlight is None else highlight - 1, wrap=(4,)))

    # -- the chosen layer --------------------------------------------------------------
    def _show_files(self, number: int | None) -> None:
        if number is None or not self.layers:
            self.files = []
            self.files_note.value = ""
            self.files_html.value = ""
            return
        self.layers_html.value = self._layers_table(number)
        blobs = [info.digest for info in self.layers]
        try:
            self.files = self.reader.changes(blobs, number - 1)
        except (OSError, EOFError, ValueError) as exc:        # a blob missing or unreadable
            self.files = []
            self.files_note.value = note_html(f"layer {number} cannot be read: {exc}")
            self.files_html.value = ""
            return
        self.files_note.value = note_html(self._counts(number))
        shown = self.files[:MAX_FILES_SHOWN]
        rows = [[f.change, f.path + (f" -> {f.target}" if f.target else ""), f.kind,
                 human_size(f.size) if f.kind == "file" else ""] for f in shown]
        more = len(self.files) - len(shown)
        self.files_html.value = table_html(
            ["", "PATH", "TYPE", "SIZE"], rows,
            row_colours=[_CHANGE_COLOURS[f.change] for f in shown], wrap=(1,)) + (
            note_html(f"... and {more} more") if more > 0 else "")

    def _counts(self, number: int) -> str:
        counts = {key: sum(1 for f in self.files if f.change == key) for key in "ACD"}
        said = ", ".join(f"{counts[key]} {_CHANGE_WORDS[key]}" for key in "ACD" if counts[key])
        return f"layer {number}: {said or 'no files'}"

    # -- text ---------------------------------------------------------------------------
    def __repr__(self) -> str:
        if self.image.value is None:
            return "Image explorer: no images in the store yet"
        records = self.host.store.records()
        lines = [f"Image: {_image_label(records, self.image.value)}"
                 f"  ({truncate_id(self.image.value)}, {len(self.layers)} layers)", "",
                 "Layers (bottom first):"]
        lines.append(table(["#", "CHAIN ID", "SIZE", "CREATED BY", "ALSO IN"],
                           [[str(i.number), digests.short(i.chain_id), human_size(i.size),
                             ellipsis(" ".join(i.created_by.split()), 45),
                             ", ".join(i.shared_with) or "-"] for i in self.layers]))
        if self.layer.value is not None:
            lines += ["", f"Files of {self._counts(self.layer.value)}:"]
            lines += [f.line() for f in self.files[:MAX_FILES_SHOWN]]
            if len(self.files) > MAX_FILES_SHOWN:
                lines.append(f"... and {len(self.files) - MAX_FILES_SHOWN} more")
        lines += ["", "History:", self._history_text]
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):
            bundle["text/plain"] = repr(self)
        return bundle


def explorer(host=None) -> ImageExplorer:
    """Return an image explorer for ``host`` (the default host, or a lesson's)."""
    return ImageExplorer(host)
