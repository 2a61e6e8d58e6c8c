"""DynamoDB repository. Owns every DynamoDB call and turns DynamoDB failures into
the service's errors; knows nothing of HTTP."""
import functools
import time
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as TransportConnectionError

from chalicelib.errors import InternalError, Unavailable
from chalicelib.schema import Index

Item = Dict[str, object]
BATCH_GET_MAX_KEYS = 100
BATCH_GET_ATTEMPTS = 4
# "Retry shortly" answers: DynamoDB's throttling codes, and any answer with a 5xx status.
RETRYABLE_CODES = frozenset({
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionInProgressException",
    "InternalServerError",
    "ServiceUnavailable",
})
# The transport failures botocore itself treats as transient (refused, timed out, reset, TLS,
# proxy): DynamoDB may be fine a moment later.
UNREACHABLE = (TransportConnectionError, HTTPClientError)


class SessionExists(Exception):
    """The conditional put found an item with this id already."""

    def __init__(self, item: Item):
        super().__init__(item.get("id"))
        self.item = item


def _translate_errors(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Unknown")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in RETRYABLE_CODES or status >= 500:
                raise Unavailable(cause=f"DynamoDB {code} (HTTP {status})") from error
            raise InternalError(cause=f"DynamoDB {code}") from error
        except UNREACHABLE as error:
            raise Unavailable(cause=f"DynamoDB unreachable: {type(error).__name__}") from error
        except BotoCoreError as error:
            raise InternalError(cause=f"botocore {type(error).__name__}") from error

    return wrapper


def _to_attribute(value) -> dict:
    return {"N": str(value)} if isinstance(value, int) else {"S": value}


def _from_attribute(attribute: dict):
    return int(attribute["N"]) if "N" in attribute else attribute["S"]


def to_item(values: Item) -> dict:
    return {name: _to_attribute(value) for name, value in values.items()}


def from_item(item: dict) -> Item:
    return {name: _from_attribute(attribute) for name, attribute in item.items()}


class DynamoStore:
    def __init__(self, client, groups_table: str, activities_table: str, sessions_table: str):
        self._client = client
        self._groups = groups_table
        self._activities = activities_table
        self._sessions = sessions_table

    @_translate_errors
    def get_references(
        self, group_ids: Iterable[int], activity_ids: Iterable[int]
    ) -> Tuple[Dict[int, Item], Dict[int, Item]]:
        """Groups and activities by id, read with BatchGetItem; absent ids are left out."""
        wanted = [(self._groups, id_) for id_ in sorted(set(group_ids))]
        wanted += [(self._activities, id_) for id_ in sorted(set(activity_ids))]
        found: Dict[str, Dict[int, Item]] = {self._groups: {}, self._activities: {}}
        for start in range(0, len(wanted), BATCH_GET_MAX_KEYS):
            for table, item in self._batch_get(wanted[start:start + BATCH_GET_MAX_KEYS]):
                found[table][item["id"]] = item
        return found[self._groups], found[self._activities]

    def _batch_get(self, keys: Sequence[Tuple[str, int]]):
        request: Dict[str, dict] = {}
        for table, id_ in keys:
            request.setdefault(table, {"Keys": []})["Keys"].append({"id": _to_attribute(id_)})
        for attempt in range(BATCH_GET_ATTEMPTS):
            answer = self._client.batch_get_item(RequestItems=request)
            for table, items in answer.get("Responses", {}).items():
                for item in items:
                    yield table, from_item(item)
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                return
            time.sleep(0.05 * 2**attempt)
        raise Unavailable(cause="DynamoDB left keys unprocessed")

    @_translate_errors
    def put_session(self, session: Item) -> None:
        """Write a new session; raises SessionExists with the stored item if the id is taken."""
        try:
            self._client.put_item(
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

    @_translate_errors
    def get_session(self, session_id: str) -> Optional[Item]:
        return self._read_session(session_id)

    def _read_session(self, session_id: str) -> Optional[Item]:
        answer = self._client.get_item(
            TableName=self._sessions, Key={"id": {"S": session_id}}, ConsistentRead=True
        )
        return from_item(answer["Item"]) if "Item" in answer else None

    @_translate_errors
    def query_sessions(
        self, index: Index, partition_value, limit: int, after: Optional[Sequence[str]]
    ) -> Tuple[List[Item], bool]:
        """Up to ``limit`` sessions of one index partition, newest first, strictly after
        the (created_at, id) position; and whether more follow."""
        params = self._partition_query(index, partition_value, Limit=limit + 1)
        if after:
            params["ExclusiveStartKey"] = {
                index.partition_key[0]: _to_attribute(partition_value),
                index.sort_key[0]: {"S": after[0]},
                "id": {"S": after[1]},
            }
        items = [from_item(item) for item in self._client.query(**params)["Items"]]
        return items[:limit], len(items) > limit

    @_translate_errors
    def count_sessions(self, index: Index, partition_value) -> int:
        """How many sessions one index partition holds (reads every one of them)."""
        params, total = self._partition_query(index, partition_value, Select="COUNT"), 0
        while True:
            answer = self._client.query(**params)
            total += answer["Count"]
            if "LastEvaluatedKey" not in answer:
                return total
            params["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    @_translate_errors
    def session_window(self, index: Index, partition_value, offset: int, count: int) -> List[Item]:
        """Sessions ``offset`` to ``offset + count`` of one index partition, newest first:
        DynamoDB cannot skip, so this reads the ``offset`` before them too."""
        wanted = offset + count
        params, items = self._partition_query(index, partition_value, Limit=wanted), []
        while len(items) < wanted:
            answer = self._client.query(**params)
            items.extend(answer["Items"])
            if "LastEvaluatedKey" not in answer:
                break
            params["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
            params["Limit"] = wanted - len(items)
        return [from_item(item) for item in items[offset:wanted]]

    def _partition_query(self, index: Index, partition_value, **extra) -> dict:
        return {
            "TableName": self._sessions,
            "IndexName": index.name,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": index.partition_key[0]},
            "ExpressionAttributeValues": {":pk": _to_attribute(partition_value)},
            "ScanIndexForward": False,
            "ReturnConsumedCapacity": "TOTAL",
            **extra,
        }

    @_translate_errors
    def scan_groups(self) -> List[Item]:
        return self._scan(self._groups)

    @_translate_errors
    def scan_activities(self) -> List[Item]:
        return self._scan(self._activities)

    def _scan(self, table: str) -> List[Item]:
        items: List[Item] = []
        params = {"TableName": table}
        while True:
            answer = self._client.scan(**params)
            items.extend(from_item(item) for item in answer["Items"])
            if "LastEvaluatedKey" not in answer:
                return items
            params["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
