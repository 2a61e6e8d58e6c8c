"""What every repository shares: attribute conversion, one DynamoDB call within the request's
attempts, batch reads of any size, every page of a query, DynamoDB's failures turned into the
service's errors. Knows nothing of HTTP."""
import functools
import time
from decimal import Decimal
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core.errors import InternalError, Unavailable
from chalicelib.storage.deadline import Attempts

Item = Dict[str, object]
BATCH_GET_MAX_KEYS = 100
BATCH_GET_ATTEMPTS = 4


def translate_errors(method):
    """Transient failures became Unavailable in Attempts; whatever else DynamoDB or botocore
    raises is a fault of ours (permissions, a malformed request): 500 without internals."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except ClientError as error:
            raise InternalError(cause=f"DynamoDB {error.response.get('Error', {}).get('Code', 'Unknown')}") \
                from error
        except BotoCoreError as error:
            raise InternalError(cause=f"botocore {type(error).__name__}") from error

    return wrapper


def to_attribute(value) -> dict:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, float):  # its shortest repr, in fixed notation: read back, the same float
        return {"N": format(Decimal(repr(value)), "f")}
    if isinstance(value, list):
        return {"NS": [str(number) for number in value]}
    if isinstance(value, set):
        return {"SS": sorted(value)}
    if isinstance(value, tuple):  # an ordered list (a list is a number set)
        return {"L": [to_attribute(element) for element in value]}
    if isinstance(value, dict):
        return {"M": to_item(value)}
    if value is None:
        return {"NULL": True}
    return {"S": value}


def from_attribute(attribute: dict):
    if "N" in attribute:
        number = attribute["N"]
        return int(number) if number.lstrip("-").isdigit() else float(number)
    if "BOOL" in attribute:
        return attribute["BOOL"]
    if "NS" in attribute:
        return sorted(int(number) for number in attribute["NS"])
    if "SS" in attribute:
        return set(attribute["SS"])
    if "L" in attribute:
        return [from_attribute(element) for element in attribute["L"]]
    if "M" in attribute:
        return from_item(attribute["M"])
    if "NULL" in attribute:
        return None
    return attribute["S"]


def to_item(values: Item) -> dict:
    return {name: to_attribute(value) for name, value in values.items()}


def from_item(item: dict) -> Item:
    return {name: from_attribute(attribute) for name, attribute in item.items()}


class Repository:
    """One aggregate's tables, reached through one client within the request's attempts."""

    def __init__(self, client, tables: Mapping[str, str], attempts: Attempts):
        """``tables``: logical name (as in chalicelib.storage.schema.TABLES) -> DynamoDB table name."""
        self._client = client
        self._attempts = attempts

    def _call(self, operation: str, write: bool = False, **params):
        """One DynamoDB call, resent unchanged after a transient failure if time allows."""
        send = getattr(self._client, operation)
        return self._attempts.run(lambda: send(**params), write)

    def _by_ids(self, table: str, ids: Sequence[str]) -> List[Item]:
        """The items of a table keyed by "id" with these ids, in the order asked; absent ones left out."""
        by_id = {item["id"]: item for _, item in self._batch_get_all(
            [(table, {"id": id_}) for id_ in dict.fromkeys(ids)])}
        return [by_id[id_] for id_ in ids if id_ in by_id]

    def _batch_get_all(self, keys: Sequence[Tuple[str, Item]], consistent: bool = False):
        for start in range(0, len(keys), BATCH_GET_MAX_KEYS):
            yield from self._batch_get(keys[start:start + BATCH_GET_MAX_KEYS], consistent)

    def _batch_get(self, keys: Sequence[Tuple[str, Item]], consistent: bool):
        request: Dict[str, dict] = {}
        for table, key in keys:
            request.setdefault(table, {"Keys": [], **({"ConsistentRead": True} if consistent else {})}
                               )["Keys"].append(to_item(key))
        for attempt in range(BATCH_GET_ATTEMPTS):
            answer = self._call("batch_get_item", RequestItems=request)
            for table, items in answer.get("Responses", {}).items():
                for item in items:
                    yield table, from_item(item)
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                return
            time.sleep(0.05 * 2**attempt)
        raise Unavailable(cause="DynamoDB left keys unprocessed")

    def _every_page(self, operation: str, params: dict) -> List[Item]:
        items: List[Item] = []
        while True:
            answer = self._call(operation, **params)
            items.extend(from_item(item) for item in answer["Items"])
            if "LastEvaluatedKey" not in answer:
                return items
            params["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def _partition_page(self, table: str, keys: Tuple[str, str], partition_value: str, limit: int,
                        after=None, index: Optional[str] = None, before: Optional[str] = None
                        ) -> Tuple[List[Item], bool]:
        """Up to ``limit`` items of one partition of a table (or of its ``index``), ``keys`` its
        (partition, sort) key names, in sort key order, strictly after the sort key value
        ``after`` and, of a table, strictly before ``before``; and whether more follow."""
        partition_key, sort_key = keys
        params = {"TableName": table, "KeyConditionExpression": "#pk = :pk",
                  "ExpressionAttributeNames": {"#pk": partition_key},
                  "ExpressionAttributeValues": {":pk": {"S": partition_value}}, "Limit": limit + 1}
        if index is not None:
            params["IndexName"] = index
        bound = ("<", before) if before is not None else (">", after) if after is not None else None
        if bound:
            params["KeyConditionExpression"] += f" AND #sk {bound[0]} :bound"
            params["ExpressionAttributeNames"]["#sk"] = sort_key
            params["ExpressionAttributeValues"][":bound"] = to_attribute(bound[1])
        if before is not None and after is not None:  # one condition a key: after is a start key
            params["ExclusiveStartKey"] = to_item({partition_key: partition_value, sort_key: after})
        items: List[Item] = []
        while True:  # a read stops at 1 MB: read on until the page is whole
            answer = self._call("query", **params)
            items += [from_item(item) for item in answer["Items"]]
            if len(items) > limit or "LastEvaluatedKey" not in answer:
                return items[:limit], len(items) > limit
            params["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
