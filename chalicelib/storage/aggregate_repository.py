"""The learner's aggregates, kept by the stream consumer (chalicelib.streams.aggregates): the
dashboard's figures and the lists' totals."""
from typing import List, Optional, Tuple

from chalicelib.storage.dynamo import Item, Repository, from_item, translate_errors


class AggregateRepository(Repository):
    def __init__(self, client, tables, attempts):
        super().__init__(client, tables, attempts)
        self._aggregates = tables["aggregates"]

    @translate_errors
    def aggregate(self, owner: str, item: str) -> Item:
        """One aggregate item of an owner (chalicelib.streams.aggregates); empty before its first count."""
        answer = self._call("get_item", TableName=self._aggregates,
                            Key={"learner": {"S": owner}, "item": {"S": item}})
        return from_item(answer.get("Item", {}))

    @translate_errors
    def totals_with_reviews(self, at_least: int) -> List[Item]:
        """Every owner's totals item counting at least ``at_least`` reviews: one Scan of the
        table, filtered (it reads, and bills, every item; README, "Personalised scheduling")."""
        return self._every_page("scan", {
            "TableName": self._aggregates, "ProjectionExpression": "learner, reviews",
            "FilterExpression": "#item = :totals AND reviews >= :least",
            "ExpressionAttributeNames": {"#item": "item"},
            "ExpressionAttributeValues": {":totals": {"S": "totals"}, ":least": {"N": str(at_least)}}})

    @translate_errors
    def aggregates(self, owner: str, prefix: str) -> List[Item]:
        """An owner's aggregate items whose names start with ``prefix`` ("group#", "days#")."""
        return self._every_page("query", {
            "TableName": self._aggregates,
            "KeyConditionExpression": "learner = :learner AND begins_with(#item, :prefix)",
            "ExpressionAttributeNames": {"#item": "item"},
            "ExpressionAttributeValues": {":learner": {"S": owner}, ":prefix": {"S": prefix}},
        })

    @translate_errors
    def partition_page(self, owner: str, limit: int, after=None, before: Optional[str] = None
                       ) -> Tuple[List[Item], bool]:
        """A page of one owner's aggregate items by name, after the name ``after`` and before
        ``before``."""
        return self._partition_page(self._aggregates, ("learner", "item"), owner, limit, after, before=before)
