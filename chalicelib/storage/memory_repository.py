"""A learner's memory of each word (chalicelib.core.scheduling): read before a review, what is due,
the words of a group ever reviewed. Written by the review's transaction (review_repository)."""
from typing import Dict, Iterable, List, Optional, Tuple

from chalicelib.storage.dynamo import Item, Repository, from_item, to_item, translate_errors
from chalicelib.storage.schema import MEMORIES_BY_DUE, REVIEWED_WORDS, group_scope


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
    def due_memories(self, scope: str, now: str, limit: int, after: Optional[Tuple[str, int]]
                     ) -> Tuple[List[Item], bool]:
        """Up to ``limit`` memory items of one scope due at ``now``, the most overdue first,
        strictly after the (due, word id) position; and whether more may follow."""
        params = {"TableName": self._memories, "IndexName": MEMORIES_BY_DUE.name, "ConsistentRead": True,
                  "KeyConditionExpression": "#scope = :scope AND due <= :now",
                  "ExpressionAttributeNames": {"#scope": "scope"},
                  "ExpressionAttributeValues": {":scope": {"S": scope}, ":now": {"S": now}},
                  "Limit": limit}
        if after:
            params["ExclusiveStartKey"] = to_item({"scope": scope, "due": after[0], "word_id": after[1]})
        answer = self._call("query", **params)
        return [from_item(item) for item in answer["Items"]], "LastEvaluatedKey" in answer

    @translate_errors
    def reviewed_words(self, owner: str, group_id: int) -> set:
        """The words of a group the owner ever reviewed (chalicelib.storage.schema.REVIEWED_WORDS)."""
        answer = self._call("get_item", TableName=self._memories, ConsistentRead=True,
                            Key=to_item({"scope": group_scope(owner, group_id), "word_id": REVIEWED_WORDS}))
        return set(from_item(answer.get("Item", {})).get("reviewed", []))

    @translate_errors
    def count_due(self, owner: str, now: str) -> int:
        """How many of the owner's words are due at ``now``."""
        params = {"TableName": self._memories, "IndexName": MEMORIES_BY_DUE.name, "Select": "COUNT",
                  "KeyConditionExpression": "#scope = :scope AND due <= :now",
                  "ExpressionAttributeNames": {"#scope": "scope"},
                  "ExpressionAttributeValues": {":scope": {"S": owner}, ":now": {"S": now}}}
        count = 0
        while True:
            answer = self._call("query", **params)
            count += answer["Count"]
            if "LastEvaluatedKey" not in answer:
                return count
            params["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    @translate_errors
    def partition_page(self, scope: str, limit: int, after=None) -> Tuple[List[Item], bool]:
        """A page of one scope's memory items by word id, after the word id ``after``."""
        return self._partition_page(self._memories, ("scope", "word_id"), scope, limit, after)
