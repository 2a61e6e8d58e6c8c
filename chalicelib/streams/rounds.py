"""Completes rounds a crash cut short. A round is committed by one transaction of its words'
memory items, each carrying the round's reviews of its word (chalicelib.storage.review_repository);
the reviews' own items are written after it. The memory items' stream records reach the
stream consumer (chalicelib.streams.aggregates.process), which writes any carried review whose
item is missing, once: a review is put only where none is stored under its id. Records of a
history a reset or an erasure replaced are dropped before this (AggregateWriter.current), as the
consumer drops theirs, so nothing erased is written back. A review written here reaches the
reviews' stream as any other, and is counted from there."""
import time
from typing import List, Mapping, Optional

from botocore.exceptions import ClientError

from chalicelib.storage.dynamo import from_item, to_item
from chalicelib.storage.schema import ROUND_REVIEWS, round_review

BATCH_GET_MAX_KEYS = 100


def carried_reviews(record: dict, memories_table: str, table_of) -> Optional[List[dict]]:
    """The reviews a round's memory item carries, from its stream record; None for any other record."""
    if record.get("eventName") not in ("INSERT", "MODIFY") or table_of(record) != memories_table:
        return None
    image = from_item(record["dynamodb"].get("NewImage", {}))
    if ROUND_REVIEWS not in image:
        return None
    return [round_review(image, id_, carried) for id_, carried in sorted(image[ROUND_REVIEWS].items())]


def write_missing(client, tables: Mapping[str, str], reviews: List[dict]) -> int:
    """Put each review not stored under its id; the number written."""
    table = tables["word_reviews"]
    stored = set()
    for start in range(0, len(reviews), BATCH_GET_MAX_KEYS):
        keys = [to_item({"id": review["id"]}) for review in reviews[start:start + BATCH_GET_MAX_KEYS]]
        request = {table: {"Keys": keys, "ConsistentRead": True, "ProjectionExpression": "id"}}
        while request:
            answer = client.batch_get_item(RequestItems=request)
            stored |= {item["id"]["S"] for item in answer.get("Responses", {}).get(table, [])}
            request = answer.get("UnprocessedKeys") or {}
            if request:
                time.sleep(0.05)
    written = 0
    for review in reviews:
        if review["id"] in stored:
            continue
        try:
            client.put_item(TableName=table, Item=to_item(review),
                            ConditionExpression="attribute_not_exists(id)")
            written += 1
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            # the API's own write of it landed meanwhile
    return written
