"""A learner's memory of each word (chalicelib.core.scheduling), one item per word: read before a
review, and whole for what is due. Written by the review's transaction (review_repository)."""
from typing import Dict, Iterable, List, Tuple

from chalicelib.storage.dynamo import Item, Repository, translate_errors

# What "what is due" needs of a memory item: its word and card, not its replay position.
DUE_PROJECTION = ("word_id", "#state", "step", "stability", "difficulty", "due", "last_review")


class MemoryRepository(Repository):
    def __init__(self, client, tables, attempts):
        super().__init__(client, tables, attempts)
        self._memories = tables["memories"]

    @translate_errors
    def memories(self, owner: str, word_ids: Iterable[int]) -> Dict[int, Item]:
        """The owner's memory of these words (chalicelib.core.scheduling), read strongly consistent;
        words never reviewed are left out."""
        keys = [(self._memories, {"scope": owner, "word_id": id_}) for id_ in sorted(set(word_ids))]
        return {item["word_id"]: item for _, item in self._batch_get_all(keys, consistent=True)}

    @translate_errors
    def every_memory(self, owner: str) -> List[Item]:
        """The owner's memory of every word they reviewed, by word id, read strongly consistent:
        one Query of the owner's partition (~18 items a read unit)."""
        return self._every_page("query", {
            "TableName": self._memories, "ConsistentRead": True,
            "KeyConditionExpression": "#scope = :scope", "ProjectionExpression": ", ".join(DUE_PROJECTION),
            "ExpressionAttributeNames": {"#scope": "scope", "#state": "state"},
            "ExpressionAttributeValues": {":scope": {"S": owner}}})

    @translate_errors
    def partition_page(self, scope: str, limit: int, after=None) -> Tuple[List[Item], bool]:
        """A page of one scope's memory items by word id, after the word id ``after``."""
        return self._partition_page(self._memories, ("scope", "word_id"), scope, limit, after)
