"""Media types: how a registry says what kind of JSON or blob it is sending.

Docker's own ("schema 2") types and the OCI image-spec's types mean the same
things and are read alike; imgkit writes OCI types for the images it builds.
"""

from __future__ import annotations

__all__ = [
    "OCI_INDEX", "OCI_MANIFEST", "OCI_CONFIG", "OCI_LAYER", "OCI_LAYER_GZIP",
    "OCI_LAYER_ZSTD", "DOCKER_MANIFEST_LIST", "DOCKER_MANIFEST", "DOCKER_CONFIG",
    "DOCKER_LAYER_GZIP", "INDEX_TYPES", "MANIFEST_TYPES", "CONFIG_TYPES",
    "LAYER_TYPES", "MANIFEST_ACCEPT", "compression_of",
]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"

DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
CONFIG_TYPES = frozenset({OCI_CONFIG, DOCKER_CONFIG})
LAYER_TYPES = frozenset({OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD, DOCKER_LAYER_GZIP,
                         DOCKER_FOREIGN_LAYER_GZIP})

#: The Accept header a puller sends for a manifest: indexes first, as Docker does,
#: so a multi-platform tag answers with its index.
MANIFEST_ACCEPT = ", ".join([OCI_INDEX, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST, OCI_MANIFEST])


def compression_of(media_type: str) -> str:
    """Return ``"gzip"``, ``"zstd"`` or ``"none"`` for a layer media type."""
    if media_type.endswith("+gzip") or media_type.endswith(".tar.gzip"):
        return "gzip"
    if media_type.endswith("+zstd"):
        return "zstd"
    return "none"
