"""Study sessions: written once, read by id, listed from the indexes of the learner's history."""
from typing import List, Optional, Sequence, Tuple

from botocore.exceptions import ClientError

from chalicelib.storage.dynamo import Item, Repository, from_item, to_attribute, to_item, translate_errors
from chalicelib.storage.schema import Index


class SessionExists(Exception):
    """The conditional put found an item with this id already."""

    def __init__(self, item: Item):
        super().__init__(item.get("id"))
        self.item = item


class SessionRepository(Repository):
    def __init__(self, client, tables, attempts):
        super().__init__(client, tables, attempts)
        self._sessions = tables["study_sessions"]

    @translate_errors
    def get_sessions(self, session_ids: Sequence[str]) -> List[Item]:
        """The sessions with these ids, live counters included, in the order asked."""
        return self._by_ids(self._sessions, session_ids)

    @translate_errors
    def put_session(self, session: Item) -> None:
        """Write a new session; raises SessionExists with the stored item if the id is taken."""
        try:
            self._call(
                "put_item", write=True,
                TableName=self._sessions,
                Item=to_item(session),
                ConditionExpression="attribute_not_exists(id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            existing = error.response.get("Item")
            stored = from_item(existing) if existing else self._read_session(session["id"])
            raise SessionExists(stored) from None

    @translate_errors
    def get_session(self, session_id: str) -> Optional[Item]:
        return self._read_session(session_id)

    def _read_session(self, session_id: str) -> Optional[Item]:
        answer = self._call("get_item", TableName=self._sessions, Key={"id": {"S": session_id}},
                            ConsistentRead=True)
        return from_item(answer["Item"]) if "Item" in answer else None

    @translate_errors
    def query_sessions(
        self, index: Index, partition_value, limit: int, after: Optional[Sequence[str]]
    ) -> Tuple[List[Item], bool]:
        """Up to ``limit`` sessions of one index partition, newest first, strictly after
        the (created_at, id) position; and whether more follow."""
        params = self._partition_query(index, partition_value, Limit=limit + 1)
        if after:
            params["ExclusiveStartKey"] = {
                index.partition_key[0]: to_attribute(partition_value),
                index.sort_key[0]: {"S": after[0]},
                "id": {"S": after[1]},
            }
        answer = self._call("query", **params)
        items = [from_item(item) for item in answer["Items"]]
        return items[:limit], len(items) > limit or "LastEvaluatedKey" in answer

    @translate_errors
    def session_window(self, index: Index, partition_value, skip: int, count: int,
                       newest_first: bool = True) -> List[Item]:
        """``count`` sessions of one index partition after the first ``skip`` from one end:
        DynamoDB cannot skip, so this reads the ``skip`` before them too."""
        wanted = skip + count
        params, items = self._partition_query(index, partition_value, Limit=wanted), []
        params["ScanIndexForward"] = not newest_first
        while len(items) < wanted:
            answer = self._call("query", **params)
            items.extend(answer["Items"])
            if "LastEvaluatedKey" not in answer:
                break
            params["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
            params["Limit"] = wanted - len(items)
        return [from_item(item) for item in items[skip:wanted]]

    def _partition_query(self, index: Index, partition_value, **extra) -> dict:
        return {
            "TableName": self._sessions,
            "IndexName": index.name,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": index.partition_key[0]},
            "ExpressionAttributeValues": {":pk": to_attribute(partition_value)},
            "ScanIndexForward": False,
            **extra,
        }
