"""system df splits each image's size into what it shares and what is its own."""

from __future__ import annotations

from removal_images import ALPINE, PYTHON, REDIS, add_container

from imgkit.api.diskusage import system_df


def test_shared_and_unique_sizes(host):
    usage = system_df(host=host)
    by_id = {i.image_id: i for i in usage.images}
    base = ALPINE.layers[0].uncompressed_size
    assert by_id[ALPINE.id].shared_size == base and by_id[ALPINE.id].unique_size == 0
    assert by_id[REDIS.id].unique_size == REDIS.size - base
    assert usage.layers_size == REDIS.size + PYTHON.size - base
    assert usage.layer_rows()[0] == (ALPINE.chain_ids[0], base, 3)


def test_summary_counts_active_images_and_reclaimable_space(host):
    add_container(host, PYTHON.id, "exited")
    usage = system_df(host=host)
    assert usage.active == 1
    assert usage.reclaimable == usage.layers_size - (PYTHON.size - ALPINE.layers[0].uncompressed_size)
    lines = usage.summary().splitlines()
    assert lines[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    assert lines[1].split()[:3] == ["Images", "3", "1"]
    assert "Images space usage:" in repr(usage) and "SHARED SIZE" in repr(usage)
