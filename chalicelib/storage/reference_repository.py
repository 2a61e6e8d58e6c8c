"""The reference data every learner shares: groups, study activities and words."""
from typing import Dict, Iterable, List

from chalicelib.storage.dynamo import Item, Repository, translate_errors


class ReferenceRepository(Repository):
    def __init__(self, client, tables, attempts):
        super().__init__(client, tables, attempts)
        self._by_kind = {"group": tables["groups"], "activity": tables["study_activities"],
                         "word": tables["words"]}

    @translate_errors
    def get_references(self, wanted: Dict[str, Iterable[int]]) -> Dict[str, Dict[int, Item]]:
        """Reference items by kind ("group", "activity", "word") and id, read with one
        BatchGetItem per 100 keys; absent ids are left out."""
        keys = [(self._by_kind[kind], {"id": id_}) for kind, ids in wanted.items()
                for id_ in sorted(set(ids))]
        kind_of = {table: kind for kind, table in self._by_kind.items()}
        found: Dict[str, Dict[int, Item]] = {kind: {} for kind in wanted}
        for table, item in self._batch_get_all(keys):
            found[kind_of[table]][item["id"]] = item
        return found

    @translate_errors
    def scan_groups(self) -> List[Item]:
        """Consistent, as scan_words: every group and word written before the read is in it."""
        return self._every_page("scan", {"TableName": self._by_kind["group"], "ConsistentRead": True})

    @translate_errors
    def scan_activities(self) -> List[Item]:
        return self._every_page("scan", {"TableName": self._by_kind["activity"], "ConsistentRead": False})

    @translate_errors
    def scan_words(self) -> List[Item]:
        return self._every_page("scan", {"TableName": self._by_kind["word"], "ConsistentRead": True})
