"""Views that ask a registry: what a pull would fetch, and the platforms of an index.

Both read only manifests and image configs (a few kB); no layer is
downloaded and the store is not changed. Registries are tried as ``pull``
tries them (the lab or another mirror first, then Docker Hub), and fail
with the same messages.

"Already exists" follows ``pull``'s rule (``imgkit.api.pulllayers``): the
bottom run of layers whose ChainID the store records - and whose blob it
holds - exists; everything above the first missing layer is downloaded,
because a layer's ChainID depends on every layer under it.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, TypeVar

from .. import digest as digests
from .. import reference as references
from ..format import human_size
from .collect import history_of, snapshot
from .model import Graph, Image, IndexNode, Layer

__all__ = ["pull_preview", "index"]

T = TypeVar("T")


def _host(host):
    from ..api.host import default_host
    return host if host is not None else default_host()


def _reference(name: str) -> references.Reference:
    ref = references.parse(name)
    return ref.with_default_tag() if ref.tag is None and ref.digest is None else ref


def _platform(host, platform):
    from ..oci import Platform

    chosen = platform if platform is not None else host.platform
    return Platform.parse(chosen) if isinstance(chosen, str) else chosen


def _ask(host, ref: references.Reference, fetch: Callable[[object], T]) -> T:
    """Run ``fetch(client)`` against each registry a pull would try, until one answers."""
    from ..api.pulling import _access_denied, _most_informative, _not_found
    from ..errors import (
        ImgkitError,
        ManifestUnknownError,
        RepositoryNotFoundError,
        StoreError,
    )

    clients = host.registry_clients(ref.domain)
    failures: list = []
    try:
        for client in clients:
            try:
                return fetch(client)
            except StoreError:
                raise
            except ManifestUnknownError as exc:
                failures.append((client, _not_found(client, ref, exc)))
            except RepositoryNotFoundError as exc:
                failures.append((client, _access_denied(ref, exc)))
            except ImgkitError as exc:
                failures.append((client, exc))
        raise _most_informative(failures)
    finally:
        for client in clients:
            client.close()


def _image_documents(client, repository: str, digest: str):
    """Return (manifest, config bytes) of one platform image."""
    from ..oci import Manifest, parse_any

    fetched = client.get_manifest(repository, digest)
    manifest = parse_any(fetched.data, fetched.media_type)
    if not isinstance(manifest, Manifest):
        from ..errors import ManifestError
        raise ManifestError(f"{digest} is an index inside an index: not supported here")
    config = client.get_blob(repository, manifest.config.digest, manifest.config.size)
    return manifest, config


def _remote_layers(records, manifest, config_bytes: bytes) -> list[Layer]:
    """Return the layers of a remote image, sized from the store where it has them."""
    from ..oci import ImageConfig

    config = ImageConfig.from_json(config_bytes)
    chain_ids = list(config.chain_ids)
    steps, _ = history_of(config_bytes, chain_ids)
    users = records.layer_users()
    layers = []
    for position, (descriptor, diff_id, chain_id) in enumerate(
            zip(manifest.layers, config.diff_ids, chain_ids, strict=True)):
        known = records.layers.get(chain_id)
        layers.append(Layer(
            chain_id=chain_id, parent=chain_ids[position - 1] if position else None,
            diff_id=diff_id, digest=descriptor.digest,
            size=known.content_size if known else None, download_size=descriptor.size,
            created_by=steps.get(chain_id, ""), used_by=tuple(sorted(users.get(chain_id, ())))))
    return layers


def pull_preview(name: str, *, platform=None, host=None, rankdir: str | None = None) -> Graph:
    """Draw what ``pull name`` would do: which layers already exist, which it would download.

    The image to pull is green and dashed, with its layers: grey ones
    "Already exist" (the images of your store that have them are drawn
    too), green dashed ones would be downloaded. Each layer's note is the
    line ``docker pull`` would print for it. Nothing is downloaded but the
    manifest and the image config.
    """
    from ..oci import ImageConfig, Index, parse_any

    host = _host(host)
    ref = _reference(name)
    wanted = _platform(host, platform)

    def fetch(client):
        top = client.get_manifest(ref.path, ref.digest or ref.tag)
        document = parse_any(top.data, top.media_type)
        digest = top.digest
        if isinstance(document, Index):
            digest = document.select(wanted).digest
        manifest, config = _image_documents(client, ref.path, digest)
        return top.digest, manifest, config

    resolved, manifest, config_bytes = _ask(host, ref, fetch)
    store = host.store
    records = store.records()
    layers = _remote_layers(records, manifest, config_bytes)
    from ..api.pulllayers import present_layers

    present = present_layers(records, store.blobs.has, [layer.digest for layer in layers],
                             [layer.chain_id for layer in layers])
    holders = {user for layer in layers[:present] for user in layer.used_by}
    image_id = manifest.config.digest
    if image_id in records.images:
        holders.add(image_id)
    g = snapshot(records, store.blobs.read, holders, view="pull", rankdir=rankdir,
                 title=f"imgkit pull {ref.familiar} (preview: nothing is downloaded)")
    fetch_bytes = 0
    for position, layer in enumerate(layers):
        blob = digests.short(layer.digest or "")
        if position < present:
            g.layers[layer.chain_id] = dataclasses.replace(
                g.layers.get(layer.chain_id, layer), state="exists", note=f"blob {blob}")
        else:
            fetch_bytes += layer.download_size or 0
            g.layers[layer.chain_id] = dataclasses.replace(
                layer, state="fetch", note=f"blob {blob}")
    to_fetch = len(layers) - present
    if image_id in records.images:
        up_to_date = records.references.get(str(ref)) == image_id
        note = "Image is up to date" if up_to_date else "in the store already: nothing to download"
        g.images[image_id] = dataclasses.replace(g.images[image_id], note=note)
        summary = note
    else:
        _, metadata = history_of(config_bytes, [layer.chain_id for layer in layers])
        config = ImageConfig.from_json(config_bytes)
        summary = (f"would download {to_fetch} layer{'s' * (to_fetch != 1)} "
                   f"({human_size(fetch_bytes)} compressed); {present} already exist{'s' * (present == 1)}")
        g.images[image_id] = Image(
            id=image_id, layers=tuple(layer.chain_id for layer in layers), names=(ref.familiar,),
            download_size=manifest.layers_size, metadata=metadata, platform=str(config.platform),
            state="pull", note=f"{to_fetch} layer{'s' * (to_fetch != 1)} to download")
    g.notes = (f"{ref.tag or ref.digest}: Pulling from {ref.path}", summary,
               f"Digest: {resolved[:19]}…")
    return g


def index(name: str, *, host=None, rankdir: str | None = None) -> Graph:
    """Draw a multi-platform image: its index, one image per platform, and their layers.

    The image this host would pull (its platform, or the host's
    ``platform``) is bold and says "your platform"; images your store holds
    say "in your store". A single-platform tag draws just its one image.
    """
    from ..errors import NoMatchingManifestError
    from ..oci import ImageConfig, Index, parse_any

    host = _host(host)
    ref = _reference(name)
    wanted = _platform(host, platform=None)

    def fetch(client):
        top = client.get_manifest(ref.path, ref.digest or ref.tag)
        document = parse_any(top.data, top.media_type)
        if not isinstance(document, Index):
            return top.digest, None, None, [(top.digest, *_image_documents(client, ref.path, top.digest))]
        try:
            chosen = document.select(wanted).digest
        except NoMatchingManifestError:
            chosen = None
        entries = [m for m in document.manifests if not m.is_attestation]
        return top.digest, document, chosen, [
            (entry.digest, *_image_documents(client, ref.path, entry.digest)) for entry in entries]

    resolved, document, chosen, platform_images = _ask(host, ref, fetch)
    records = host.store.records()
    g = Graph(title=f"The platforms of {ref.familiar}", view="index", rankdir=rankdir)
    ids = []
    for manifest_digest, manifest, config_bytes in platform_images:
        config = ImageConfig.from_json(config_bytes)
        image_id = manifest.config.digest
        layers = _remote_layers(records, manifest, config_bytes)
        for layer in layers:
            g.layers.setdefault(layer.chain_id, layer)
        _, metadata = history_of(config_bytes, [layer.chain_id for layer in layers])
        local = records.images.get(image_id)
        yours = manifest_digest == chosen or document is None
        where = "in your store" if local else "not in your store"
        g.images[image_id] = Image(
            id=image_id, layers=tuple(layer.chain_id for layer in layers), names=(ref.familiar,),
            size=local.size if local else None, download_size=manifest.layers_size,
            metadata=metadata, platform=str(config.platform),
            state="platform" if yours else ("local" if local else ""),
            note="" if local and not yours else where)
        ids.append(image_id)
    if document is not None:
        g.index = IndexNode(resolved, ref.familiar, tuple(ids))
        g.notes = (f"{ref.familiar} is an index of {len(ids)} platform images; "
                   f"this host pulls {wanted or _host_platform()}",)
    else:
        g.notes = (f"{ref.familiar} is a single-platform image: no index",)
    return g


def _host_platform():
    from ..oci.platform import host
    return host()
