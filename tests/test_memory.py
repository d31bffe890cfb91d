"""ui.memory: the startup objects are frozen once, so Streamlit's after-run GC is cheap."""

from __future__ import annotations

import gc

from ui import memory


def test_freeze_happens_once_and_takes_the_live_objects_out_of_collections(monkeypatch):
    monkeypatch.setattr(memory, "_FROZEN", False)
    kept = [[] for _ in range(1_000)]  # container objects alive at the freeze
    assert memory.freeze_startup_objects() is True
    assert gc.get_freeze_count() >= len(kept)
    collected = {id(o) for o in gc.get_objects()}  # what collections still walk
    assert not any(id(o) in collected for o in kept)
    assert memory.freeze_startup_objects() is False  # later runs do nothing
    # Garbage made after the freeze is still collected.
    cycle = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1
