"""A learner's scheduler (chalicelib.core.scheduling.SchedulerSettings and the last fit's figures):
one item of their partition of the memories table, at word_id SCHEDULER_WORD_ID
(chalicelib.storage.schema). No item is version 0: the defaults. Every change is conditional on
the version it was made from, so two changes never both apply to one version."""
from typing import Optional

from botocore.exceptions import ClientError

from chalicelib.storage.dynamo import Item, Repository, from_item, to_item, translate_errors
from chalicelib.storage.schema import SCHEDULER_WORD_ID

FIT_REQUESTED = "fit_requested_at"  # a fit asked for and not yet done (chalicelib.streams.fitting)
FIT_SENT = "fit_sent_at"  # the FIT_REQUESTED whose message is on the fit queue
# The version whose recompute was sent and has not finished (chalicelib.streams.recompute): the
# change is stored even when the send failed, so what resends the change sends it again.
RECOMPUTE_PENDING = "recompute_version"


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
    def change(self, owner: str, changes: Item, from_version: int,
               fit_requested_at: Optional[str] = None) -> Optional[Item]:
        """SET ``changes`` on the owner's scheduler item, if its version is still ``from_version``
        (0: no item, or one without a version); the item as written, or None when another change
        came first. ``fit_requested_at``: the write ends that fit request (FIT_REQUESTED), and is
        made only while the item still holds it (an erased learner's item is gone: nothing)."""
        fixed = ("#version", "#owner", "#requested", "#sent")
        names = {f"#a{n}": name for n, name in enumerate(changes)}
        values = {f":a{n}": value for n, value in enumerate(changes.values())}
        names.update({"#version": "version", "#owner": "owner"})
        values.update({":from": from_version, ":owner": owner})
        condition = "(#version = :from" + ("" if from_version else " OR attribute_not_exists(#version)") + ")"
        removal = ""
        if fit_requested_at is not None:
            names["#requested"] = FIT_REQUESTED
            values[":requested"] = fit_requested_at
            names["#sent"] = FIT_SENT
            condition += " AND #requested = :requested"
            removal = " REMOVE #requested, #sent"
        try:
            answer = self._call(
                "update_item", write=True, TableName=self._memories, Key=to_item(self.key(owner)),
                UpdateExpression="SET " + ", ".join(f"{alias} = :{alias[1:]}" for alias in names
                                                    if alias not in fixed)
                                 + ", #owner = :owner" + removal,
                ConditionExpression=condition, ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values), ReturnValues="ALL_NEW")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return None
        return from_item(answer["Attributes"])

    @translate_errors
    def request_fit(self, owner: str, at: str, stale_before: str) -> Optional[Item]:
        """Mark a fit of the owner's parameters requested at ``at``, unless one requested at or
        after ``stale_before`` is pending: None when marked, else the item as it is now."""
        try:
            self._call("update_item", write=True, TableName=self._memories, Key=to_item(self.key(owner)),
                       UpdateExpression="SET #requested = :at, #owner = :owner",
                       ConditionExpression="attribute_not_exists(#requested) OR #requested < :stale",
                       ExpressionAttributeNames={"#requested": FIT_REQUESTED, "#owner": "owner"},
                       ExpressionAttributeValues=to_item(
                           {":at": at, ":stale": stale_before, ":owner": owner}))
            return None
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        return self.scheduler(owner)

    @translate_errors
    def fit_sent(self, owner: str, requested_at: str) -> None:
        """Note that the message of the fit requested at ``requested_at`` is queued, while that
        request is pending (a done one, or an erased learner's, writes nothing)."""
        self._update_if(owner, "SET #sent = :at", "#requested = :at",
                        {"#sent": FIT_SENT, "#requested": FIT_REQUESTED}, {":at": requested_at})

    @translate_errors
    def recompute_done(self, owner: str, version: int) -> None:
        """The recompute of ``version`` finished: no longer pending (a newer one stays)."""
        self._update_if(owner, "REMOVE #pending", "#pending = :version",
                        {"#pending": RECOMPUTE_PENDING}, {":version": version})

    def _update_if(self, owner: str, update: str, condition: str, names: dict, values: dict) -> bool:
        try:
            self._call("update_item", write=True, TableName=self._memories, Key=to_item(self.key(owner)),
                       UpdateExpression=update, ConditionExpression=condition,
                       ExpressionAttributeNames=names, ExpressionAttributeValues=to_item(values))
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False

    @translate_errors
    def end_fit_request(self, owner: str, requested_at: str) -> bool:
        """Remove the mark of the fit requested at ``requested_at``, if it is still the one."""
        return self._update_if(owner, "REMOVE #requested, #sent", "#requested = :at",
                               {"#requested": FIT_REQUESTED, "#sent": FIT_SENT}, {":at": requested_at})
