"""Reads of the reference data, the same for every learner: groups, study activities and a
group's words, from the function's cache (chalicelib.learners.reference_cache)."""
from chalicelib.core.errors import NotFound
from chalicelib.core.pagination import an_id, decode_cursor, encode_cursor
from chalicelib.core.validation import parse_limit, parse_path_id
from chalicelib.learners.reference_cache import ReferenceCache
from chalicelib.study.representation import activity_json, group_json, page_json, word_json


class ReferenceData:
    def __init__(self, references: ReferenceCache):
        self._references = references

    def list_groups(self, query: dict) -> dict:
        return self._page(list(self._references.snapshot().groups.values()), "groups", group_json, query)

    def list_activities(self) -> list:
        """Every study activity, by id: the lang-portal reads a bare array."""
        return [activity_json(activity) for activity in self._references.all_activities()]

    def list_group_words(self, group_id: str, query: dict) -> dict:
        """The words an activity reviews for a group, by id."""
        id_ = parse_path_id(group_id, "group id")
        snapshot = self._references.showing_group(id_)
        return self._page(snapshot.words_of(id_), f"words:{id_}", word_json, query)

    def launch(self, activity_id: str) -> dict:
        """What the lang-portal's launch page needs: the activity and the groups to pick from."""
        activity = self.get_activity(activity_id)
        groups = self._references.snapshot().groups.values()
        return {"activity": activity, "groups": [group_json(group) for group in groups]}

    @staticmethod
    def _page(items, scope: str, shape, query: dict):
        size, after = parse_limit(query.get("limit")), decode_cursor(query.get("cursor"), scope, (an_id,))
        if after:
            items = [item for item in items if item["id"] > after[0]]
        page = items[:size]
        more = len(items) > size
        return page_json(
            [shape(item) for item in page], encode_cursor(scope, [page[-1]["id"]]) if more else None
        )

    def get_group(self, group_id: str) -> dict:
        id_ = parse_path_id(group_id, "group id")
        return group_json(self._references.showing_group(id_).groups[id_])

    def get_activity(self, activity_id: str) -> dict:
        id_ = parse_path_id(activity_id, "study activity id")
        _, activities = self._references.lookup([], [id_])
        if id_ not in activities:
            raise NotFound(f"Study activity {id_} does not exist.")
        return activity_json(activities[id_])
