"""A learner's scheduler (chalicelib.core.scheduling.SchedulerSettings and the last fit's figures):
one item of their partition of the memories table, at word_id SCHEDULER_WORD_ID
(chalicelib.storage.schema). No item is version 0: the defaults. Every change is conditional on
the version it was made from, so two changes never both apply to one version."""
from typing import Optional

from botocore.exceptions import ClientError

from chalicelib.storage.dynamo import Item, Repository, from_item, to_item, translate_errors
from chalicelib.storage.schema import SCHEDULER_WORD_ID


class SchedulerRepository(Repository):
    def __init__(self, client, tables, attempts):
        super().__init__(client, tables, attempts)
        self._memories = tables["memories"]

    @staticmethod
    def key(owner: str) -> Item:
        return {"scope": owner, "word_id": SCHEDULER_WORD_ID}

    @translate_errors
    def scheduler(self, owner: str) -> Item:
        """The owner's scheduler item, read strongly consistent; empty when they have none."""
        answer = self._call("get_item", TableName=self._memories, ConsistentRead=True,
                            Key=to_item(self.key(owner)))
        return from_item(answer.get("Item", {}))

    @translate_errors
    def change(self, owner: str, changes: Item, from_version: int) -> Optional[Item]:
        """SET ``changes`` on the owner's scheduler item, if its version is still ``from_version``
        (0: no item, or one without a version); the item as written, or None when another change
        came first."""
        names = {f"#a{n}": name for n, name in enumerate(changes)}
        values = {f":a{n}": value for n, value in enumerate(changes.values())}
        names.update({"#version": "version", "#owner": "owner"})
        values.update({":from": from_version, ":owner": owner})
        condition = "#version = :from" + ("" if from_version else " OR attribute_not_exists(#version)")
        try:
            answer = self._call(
                "update_item", write=True, TableName=self._memories, Key=to_item(self.key(owner)),
                UpdateExpression="SET " + ", ".join(f"{alias} = :{alias[1:]}" for alias in names
                                                    if alias not in ("#version", "#owner"))
                                 + ", #owner = :owner",
                ConditionExpression=condition, ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values), ReturnValues="ALL_NEW")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return None
        return from_item(answer["Attributes"])
