"""A learner's memory of each word (chalicelib.core.scheduling), one item per word: read before a
review, and whole for what is due. Written by the review's transaction (review_repository). The
partition's item SCHEDULER_WORD_ID is the learner's scheduler, not a word: read with the words
where they are computed with it, never listed as one."""
from typing import Dict, Iterable, List, Tuple

from botocore.exceptions import ClientError

from chalicelib.storage.dynamo import Item, Repository, from_item, to_attribute, to_item, translate_errors
from chalicelib.storage.review_repository import memory_condition
from chalicelib.storage.schema import SCHEDULER_WORD_ID

# What "what is due" needs of a memory item: its word and card, not its replay position; and of
# the scheduler item, its settings.
DUE_PROJECTION = ("word_id", "#state", "step", "stability", "difficulty", "due", "last_review")
SETTINGS_PROJECTION = ("#parameters", "#retention", "#version")  # reserved words, named


class MemoryRepository(Repository):
    def __init__(self, client, tables, attempts):
        super().__init__(client, tables, attempts)
        self._memories = tables["memories"]

    @translate_errors
    def memories(self, owner: str, word_ids: Iterable[int]) -> Tuple[Item, Dict[int, Item]]:
        """The owner's scheduler item (empty when none) and their memory of these words
        (chalicelib.core.scheduling), read strongly consistent in one call; words never reviewed
        are left out."""
        ids = sorted(set(word_ids) | {SCHEDULER_WORD_ID})
        keys = [(self._memories, {"scope": owner, "word_id": id_}) for id_ in ids]
        found = {item["word_id"]: item for _, item in self._batch_get_all(keys, consistent=True)}
        return found.pop(SCHEDULER_WORD_ID, {}), found

    @translate_errors
    def every_memory(self, owner: str) -> List[Item]:
        """The owner's memory of every word they reviewed, by word id, read strongly consistent:
        one Query of the owner's partition after its scheduler item (~18 items a read unit)."""
        return self._query_partition(owner, SCHEDULER_WORD_ID + 1, DUE_PROJECTION)

    @translate_errors
    def scheduler_and_every_memory(self, owner: str) -> Tuple[Item, List[Item]]:
        """The owner's scheduler settings (empty when none) and every_memory, in one Query."""
        items = self._query_partition(owner, SCHEDULER_WORD_ID, DUE_PROJECTION + SETTINGS_PROJECTION)
        if items and items[0]["word_id"] == SCHEDULER_WORD_ID:
            return items[0], items[1:]
        return {}, items

    def _query_partition(self, owner: str, from_word: int, projection: Tuple[str, ...]) -> List[Item]:
        names = {"#scope": "scope", "#state": "state"}
        if projection[-len(SETTINGS_PROJECTION):] == SETTINGS_PROJECTION:
            names.update({"#parameters": "parameters", "#retention": "desired_retention",
                          "#version": "version"})
        return self._every_page("query", {
            "TableName": self._memories, "ConsistentRead": True,
            "KeyConditionExpression": "#scope = :scope AND word_id >= :from",
            "ProjectionExpression": ", ".join(projection),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":scope": {"S": owner}, ":from": to_attribute(from_word)}})

    @translate_errors
    def partition_page(self, scope: str, limit: int, after=None) -> Tuple[List[Item], bool]:
        """A page of one scope's memory items of words (not its scheduler) by word id, after the
        word id ``after``."""
        after = SCHEDULER_WORD_ID if after is None else max(after, SCHEDULER_WORD_ID)
        return self._partition_page(self._memories, ("scope", "word_id"), scope, limit, after)

    @translate_errors
    def memory(self, owner: str, word_id: int) -> Item:
        """The owner's memory of one word, read strongly consistent; empty when none."""
        answer = self._call("get_item", TableName=self._memories, ConsistentRead=True,
                            Key=to_item({"scope": owner, "word_id": word_id}))
        return from_item(answer.get("Item", {}))

    @translate_errors
    def rewrite(self, owner: str, word_id: int, fields: Item, applied: int, version: int) -> bool:
        """Write a word's memory computed again (chalicelib.streams.recompute), if the stored one
        still holds ``applied`` reviews computed with scheduler ``version``; whether it did."""
        try:
            self._call("put_item", write=True, TableName=self._memories,
                       Item=to_item({"scope": owner, "word_id": word_id, "owner": owner, **fields}),
                       **memory_condition(applied, version))
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
