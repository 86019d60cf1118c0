"""The filter playground: type a ``--filter``, watch ``docker images`` answer.

    >>> imgkit.widgets.filter_playground()           # doctest: +SKIP

Type ``dangling=true``, ``reference=alpine:*``, ``label=tier=web
before=redis`` (several filters separated by spaces, as several ``-f`` would
be): the images table below updates as you type. A filter Docker refuses
shows Docker's message (``invalid filter 'x'``) instead of a table.
"""

from __future__ import annotations

import html
import shlex

import ipywidgets as widgets

from ..errors import ImgkitError
from ..filters import ACCEPTED_KEYS
from .style import MONO, error_html, note_html

__all__ = ["FilterPlayground", "filter_playground", "split_filters"]


def split_filters(text: str) -> list[str]:
    """Read what was typed as a list of filters: ``dangling=true label=a`` -> two filters.

    Quotes group as in a shell (``label="a b"``); ``-f``, ``--filter`` and
    ``--filter=`` may be typed too, as on the command line.
    """
    try:
        words = shlex.split(text)
    except ValueError:                  # an unclosed quote while typing
        words = text.split()
    found = []
    for word in words:
        if word in ("-f", "--filter"):
            continue
        for prefix in ("--filter=", "-f="):
            if word.startswith(prefix):
                word = word[len(prefix):]
        if word:
            found.append(word)
    return found


class FilterPlayground(widgets.VBox):
    """A text box for filters and the ``docker images`` table they give, updated as you type.

    ``text`` is the text box; ``images`` the last ``ImageList`` (None after
    an error) and ``error`` the last error message ("" when none).
    """

    def __init__(self, host=None, value: str = "", **kwargs):
        from ..api.host import default_host

        kwargs.setdefault("layout", widgets.Layout(border="1px solid #d0d7de", padding="8px 12px",
                                                   margin="4px 0", max_width="100%"))
        super().__init__(**kwargs)
        self.add_class("imgkit-filters")
        self.host = host if host is not None else default_host()
        self.images = None
        self.error = ""
        self.text = widgets.Text(value=value, description="--filter", continuous_update=True,
                                 placeholder="dangling=true   reference=alpine:*   label=tier=web",
                                 layout=widgets.Layout(width="36em"),
                                 style={"font_size": "13px"})
        self.help = widgets.HTML(note_html(
            "keys: " + ", ".join(ACCEPTED_KEYS) + " - several filters: separate them with spaces"))
        self.command = widgets.HTML()
        self.output = widgets.HTML(layout=widgets.Layout(overflow="auto"))
        self.children = (self.text, self.help, self.command, self.output)
        self.text.observe(lambda change: self.refresh(), names="value")
        self.refresh()

    @property
    def filters(self) -> list[str]:
        """The filters typed, one string each."""
        return split_filters(self.text.value)

    def command_line(self) -> str:
        """The docker command the filters stand for."""
        return " ".join(["docker images", *(f"--filter {shlex.quote(f)}" for f in self.filters)])

    def refresh(self) -> None:
        """List the images again with the filters typed (also after a pull or rmi)."""
        from ..api.listing import images

        self.command.value = (f"<div style=\"font-family:{MONO};font-size:12px;color:#57606a;"
                              f"margin:4px 0 0 0\">$ {html.escape(self.command_line())}</div>")
        try:
            self.images = images(filters=self.filters, host=self.host)
        except ImgkitError as exc:
            self.images, self.error = None, str(exc)
            self.output.value = error_html(self.error)
            return
        self.error = ""
        self.output.value = (f"<pre style=\"font-family:{MONO};font-size:12px;margin:2px 0;"
                             f"line-height:1.45\">{html.escape(self.images.table())}</pre>")

    def __repr__(self) -> str:
        shown = self.error if self.images is None else self.images.table()
        return f"$ {self.command_line()}\n{shown}"

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):
            bundle["text/plain"] = repr(self)
        return bundle


def filter_playground(host=None, value: str = "") -> FilterPlayground:
    """Return a filter playground for ``host`` (the default host, or a lesson's)."""
    return FilterPlayground(host, value)
