"""Stages storages: where built stages are kept and found (werf-internals §2-§4).

The pure parts (stage IDs, selection, record names, descriptions, the Protocol) are re-exported here;
the concrete storages live in `registry_storage` and `local_storage` and are chosen only in app.py.
"""

from shipyard.storage.base import CustomTagsNeedRepoError, StagesStorage, StageUnavailableError
from shipyard.storage.description import StageDescription
from shipyard.storage.selection import StageSelector, select_oldest, stage_candidates
from shipyard.storage.stage_id import StageID, new_timestamp_ms, parse_stage_tag

__all__ = [
    "CustomTagsNeedRepoError",
    "StageDescription",
    "StageID",
    "StageSelector",
    "StageUnavailableError",
    "StagesStorage",
    "new_timestamp_ms",
    "parse_stage_tag",
    "select_oldest",
    "stage_candidates",
]
