"""make import-words / import-activities: the lang-portal's seed files into the reference tables,
checked whole before anything is written, idempotent, words shared between groups."""
import json
import os
import subprocess
import time
import uuid

import pytest
import requests

from chalicelib.learners.reference_cache import DEFAULT_MISS_TTL_SECONDS, DEFAULT_TTL_SECONDS
from chalicelib.storage.dynamo import from_item
from chalicelib.storage.schema import GROUP_IMPORTING
from devtools.import_words import BadFile, Importer, parse_activities, parse_vocabulary
from devtools.stage import PROJECT_DIR
from tests.helpers import scan

VERBS = [
    {"kanji": "払う", "romaji": "harau", "english": "to pay",
     "parts": [{"kanji": "払", "romaji": ["ha", "ra"]}]},
    {"kanji": "食べる", "romaji": "taberu", "english": "to eat", "parts": []},  # seeded already, group 1
    {"kanji": "持つ", "romaji": "motsu", "english": "to hold", "parts": []},
    {"kanji": "払う", "romaji": "harau", "english": "to pay", "parts": []},  # repeated inside the file
]


def test_a_vocabulary_joins_a_new_group_once_however_often_it_is_imported(api):
    importer = Importer(api.dynamodb, api.names)
    vocabulary = parse_vocabulary(json.dumps(VERBS))

    first = importer.vocabulary("Verbs of Trade", vocabulary)
    again = importer.vocabulary("Verbs of Trade", parse_vocabulary(json.dumps(VERBS)))

    assert vocabulary.repeats == [(0, 3)]
    assert first == {"group_id": 3, "group_created": True, "group_finished": False,
                     "added": 2, "joined": 1, "already_in_group": 0}
    assert again == {"group_id": 3, "group_created": False, "group_finished": False,
                     "added": 0, "joined": 0, "already_in_group": 3}
    words = {w["kanji"]: w for w in scan(api, "words")}
    groups = {g["id"]: g for g in scan(api, "groups")}
    assert len(words) == 22 and len(groups) == 3 and groups[3] == {"id": 3, "name": "Verbs of Trade"}
    assert words["食べる"]["group_ids"] == [1, 3] and words["払う"]["group_ids"] == [3]
    assert json.loads(words["払う"]["parts"]) == [{"kanji": "払", "romaji": ["ha", "ra"]}]
    served = api.get("/api/groups/3/words?limit=10").json_body["items"]
    assert [w["kanji"] for w in served] == ["食べる", "払う", "持つ"]


def numbered_pages(get, path, key):
    """Every item of a numbered list (10 a page); None if it is 404."""
    items, number = [], 1
    while True:
        status, body = get(f"{path}{'&' if '?' in path else '?'}page={number}")
        if status == 404:
            return None
        assert status == 200, body
        items += body[key]
        if number >= body["total_pages"]:
            return items
        number += 1


def group_sightings(get, group_id):
    """What each route of groups and words shows of the group: None where it does not show it,
    else the ids of the group's words the route lists, its word_count, or True where the route
    shows the group alone. Routes that name the group come first: a group the cache lacks is
    read there. ``get(path)``: (status, body)."""
    def found(path):
        status, body = get(path)
        assert status in (200, 404), (path, status, body)
        return body if status == 200 else None

    def words_of(path):
        body = found(path)
        return body and {word["id"] for word in body["items"]}

    def shows(path):
        return found(path) is not None or None

    def in_groups(groups):
        return any(group["id"] == group_id for group in groups) or None

    single, path = found(f"/groups/{group_id}"), f"/groups/{group_id}"
    listed = numbered_pages(get, f"{path}/words", "words")
    api_path = f"/api/groups/{group_id}"
    return {
        "/groups/{id}": single and single["word_count"],
        "/groups/{id}/words": listed and {word["id"] for word in listed},
        "/groups/{id}/study_sessions": shows(f"{path}/study_sessions"),
        "/api/groups/{id}": shows(api_path),
        "/api/groups/{id}/words": words_of(f"{api_path}/words?limit=100"),
        "/api/groups/{id}/due-words": words_of(f"{api_path}/due-words?limit=100"),
        "/api/groups/{id}/study-sessions": shows(f"{api_path}/study-sessions"),
        "/words/1": in_groups(found("/words/1")["word"]["groups"]),  # a stored word each import here has
        "/words": {word["id"] for word in numbered_pages(get, "/words", "words") if in_groups(word["groups"])}
                  or None,
        "/groups": next((row["word_count"] for row in numbered_pages(get, "/groups", "groups")
                         if row["id"] == group_id), None),
        "/api/groups": in_groups(found("/api/groups?limit=100")["items"]),
        "/api/study-activities/{id}/launch": in_groups(found("/api/study-activities/1/launch")["groups"]),
    }


# What group_sightings finds where a route shows the group: its word_count, that it is there,
# or (every other route) the ids of its words.
COUNTING = ("/groups/{id}", "/groups")
SHOWING_ALONE = ("/groups/{id}/study_sessions", "/api/groups/{id}", "/api/groups/{id}/study-sessions",
                 "/words/1", "/api/groups", "/api/study-activities/{id}/launch")
LISTING = ("/groups/{id}/words", "/api/groups/{id}/words", "/api/groups/{id}/due-words", "/words")


def whole(word_ids):
    """The sightings of a group that every route shows with all these words."""
    return {**{route: len(word_ids) for route in COUNTING}, **{route: True for route in SHOWING_ALONE},
            **{route: word_ids for route in LISTING}}


NOWHERE = {route: None for route in whole(set())}


def group_words(client, names, group_id):
    pages = client.get_paginator("scan").paginate(TableName=names["words"], ConsistentRead=True)
    return {item["id"] for page in pages for item in map(from_item, page["Items"])
            if group_id in item.get("group_ids", [])}


class AfterEachWrite:
    """A DynamoDB client that calls ``then()`` after each PutItem and UpdateItem it sends."""

    def __init__(self, client, then):
        self._client, self._then = client, then

    def __getattr__(self, name):
        return getattr(self._client, name)

    def put_item(self, **params):
        answer = self._client.put_item(**params)
        self._then()
        return answer

    def update_item(self, **params):
        answer = self._client.update_item(**params)
        self._then()
        return answer


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def api_get(api):
    def get(path):
        response = api.get(path)
        return response.status_code, response.json_body
    return get


@pytest.mark.parametrize("between_writes", [DEFAULT_MISS_TTL_SECONDS, DEFAULT_TTL_SECONDS],
                         ids=["a-miss-reads-again", "the-ttl-has-passed"])
def test_a_new_group_is_seen_with_all_its_words_or_not_at_all_while_it_is_imported(
        api, monkeypatch, between_writes):
    cache = api.services().cache
    clock = Clock(cache._clock())
    monkeypatch.setattr(cache, "_clock", clock)
    get = api_get(api)
    warm = group_sightings(get, 3)  # the cache holds the reference data, without group 3
    steps = []

    def look():
        clock.now += between_writes
        steps.append(group_sightings(get, 3))

    report = Importer(AfterEachWrite(api.dynamodb, look), api.names).vocabulary(
        "Verbs of Trade", parse_vocabulary(json.dumps(VERBS)))
    words = group_words(api.dynamodb, api.names, 3)

    assert report == {"group_id": 3, "group_created": True, "group_finished": False,
                      "added": 2, "joined": 1, "already_in_group": 0}
    assert len(words) == 3 and 1 in words
    assert warm == NOWHERE
    # the hidden group, 払う, 食べる joining, 持つ: nothing shows the group; then it is shown
    assert steps[:4] == [NOWHERE] * 4
    assert steps[4] == whole(words)


def test_a_group_an_import_left_hidden_is_finished_and_shown_by_the_next(api):
    api.put_reference("groups", {"id": 3, "name": "Verbs of Trade", GROUP_IMPORTING: True})
    api.put_reference("words", {"id": 21, "kanji": "払う", "romaji": "harau", "english": "to pay",
                                "parts": "[]", "group_ids": [3]})
    hidden = api.get("/api/groups/3").status_code

    importer = Importer(api.dynamodb, api.names)
    report = importer.vocabulary("Verbs of Trade", parse_vocabulary(json.dumps(VERBS)))
    api.restart()

    assert hidden == 404
    assert report == {"group_id": 3, "group_created": False, "group_finished": True,
                      "added": 1, "joined": 1, "already_in_group": 1}
    assert api.get("/groups/3").json_body == {"id": 3, "group_name": "Verbs of Trade", "word_count": 3}


def test_words_joining_a_group_already_shown_are_counted_as_they_are_listed(api, monkeypatch):
    cache = api.services().cache
    clock = Clock(cache._clock())
    monkeypatch.setattr(cache, "_clock", clock)
    get = api_get(api)
    group_sightings(get, 1)
    steps = []

    def look():
        clock.now += DEFAULT_TTL_SECONDS
        steps.append(group_sightings(get, 1))

    verbs = [*VERBS, {"kanji": "高い", "romaji": "takai", "english": "expensive"}]  # word 15, group 2's
    report = Importer(AfterEachWrite(api.dynamodb, look), api.names).vocabulary(
        "Core Verbs", parse_vocabulary(json.dumps(verbs)))

    assert report == {"group_id": 1, "group_created": False, "group_finished": False,
                      "added": 2, "joined": 1, "already_in_group": 1}
    # each step shows the words stored by then, every route the same ones: 払う, 持つ, then 高い
    assert [len(step["/api/groups/{id}/words"]) for step in steps] == [11, 12, 13]
    assert all(step == whole(step["/api/groups/{id}/words"]) for step in steps)
    assert 15 in steps[-1]["/words"]


@pytest.mark.parametrize("text, phrase", [
    ("not json", "The file is not JSON"),
    ('{"kanji": "x"}', "must be a JSON array of words, not dict"),
    ('[{"kanji": "a", "romaji": "a", "english": "a"}, 7]', "[1] must be an object"),
    ('[{"kanji": "a", "romaji": "a"}]', "[0].english is missing."),
    ('[{"kanji": "a", "romaji": "a", "english": " "}]', "[0].english is empty."),
    ('[{"kanji": "a", "romaji": 5, "english": "b"}]', "[0].romaji must be a string, not int."),
    ('[{"kanji": "a", "romaji": "a", "english": "b", "parts": "x"}]', "[0].parts must be an array, not str."),
])
def test_a_bad_vocabulary_file_is_refused_naming_the_entry_and_field(text, phrase):
    with pytest.raises(BadFile) as refused:
        parse_vocabulary(text)

    assert phrase in str(refused.value)


def test_activities_are_added_once_by_name(api):
    importer = Importer(api.dynamodb, api.names)
    activities = parse_activities(json.dumps([
        {"name": "Typing Tutor", "url": "http://localhost:8080", "preview_url": "/a.png"},
        {"name": "Flashcards", "url": "http://localhost:8081", "preview_url": "/b.png"}]))

    assert importer.activities(activities) == {"added": 1, "already_stored": 1}
    assert importer.activities(activities) == {"added": 0, "already_stored": 2}
    assert sorted(a["name"] for a in scan(api, "study_activities")) == ["Flashcards", "Typing Tutor"]


@pytest.mark.server
def test_make_import_words_refuses_a_bad_file_in_one_sentence_before_it_connects(
        tmp_path, dynamodb_local_server):
    bad = tmp_path / "words.json"
    bad.write_text('[{"kanji": "a", "romaji": "a", "english": "b"}, {"kanji": "c"}]')
    port = dynamodb_local_server.endpoint.rsplit(":", 1)[1]

    result = subprocess.run(["make", "--no-print-directory", "import-words", f"FILE={bad}", "GROUP=New"],
                            cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "DYNAMODB_PORT": port})

    assert result.returncode != 0
    assert f"make import-words: {bad}: [1].romaji is missing. Nothing was written." in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.server
def test_make_import_words_into_a_new_group_is_seen_whole_by_a_running_api(tmp_path, local_server):
    """The group's first sighting on any route already has all its words, its 60 new ones and a
    stored one that joins it."""
    tag = uuid.uuid4().hex[:8]
    vocabulary = [{"kanji": f"語{tag}{n}", "romaji": f"go {tag} {n}", "english": f"word {tag} {n}"}
                  for n in range(60)] + [{"kanji": "食べる", "romaji": "taberu", "english": "to eat"}]
    file = tmp_path / "words.json"
    file.write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
    groups = local_server.dynamodb.scan(TableName=local_server.names["groups"], ConsistentRead=True)["Items"]
    group_id = max(from_item(group)["id"] for group in groups) + 1  # the id the import takes

    def get(path):
        response = requests.get(local_server.url(path), timeout=10)
        return response.status_code, response.json()

    port = local_server.dynamodb.meta.endpoint_url.rsplit(":", 1)[1]
    warm = group_sightings(get, group_id)
    sightings = []
    command = ["make", "--no-print-directory", "import-words", f"FILE={file}", f"GROUP=Import {tag}"]
    with subprocess.Popen(command, cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, "DYNAMODB_PORT": port}) as importing:
        while importing.poll() is None:
            sightings.append(group_sightings(get, group_id))
        out, err = importing.communicate(timeout=120)
    words = group_words(local_server.dynamodb, local_server.names, group_id)
    deadline = time.monotonic() + 5 * DEFAULT_MISS_TTL_SECONDS  # it is read again within one miss TTL
    while (not sightings or sightings[-1] != whole(words)) and time.monotonic() < deadline:
        sightings.append(group_sightings(get, group_id))

    assert importing.returncode == 0, err
    assert json.loads(out.splitlines()[-1]) == {"group_id": group_id, "group_created": True,
                                                "group_finished": False, "added": 60, "joined": 1,
                                                "already_in_group": 0, "repeated_in_file": 0}
    assert len(words) == 61 and 1 in words
    assert warm == NOWHERE
    assert all(seen in (None, whole(words)[route]) for sighting in sightings
               for route, seen in sighting.items())
    assert sightings[-1] == whole(words)
