"""make import-words / import-activities: the lang-portal's seed files into the reference tables,
checked whole before anything is written, idempotent, words shared between groups."""
import json
import os
import subprocess

import pytest

from chalicelib.store import from_item
from devtools.import_words import BadFile, Importer, parse_activities, parse_vocabulary
from devtools.stage import PROJECT_DIR

VERBS = [
    {"kanji": "払う", "romaji": "harau", "english": "to pay",
     "parts": [{"kanji": "払", "romaji": ["ha", "ra"]}]},
    {"kanji": "食べる", "romaji": "taberu", "english": "to eat", "parts": []},  # seeded already, group 1
    {"kanji": "持つ", "romaji": "motsu", "english": "to hold", "parts": []},
    {"kanji": "払う", "romaji": "harau", "english": "to pay", "parts": []},  # repeated inside the file
]


def scan(api, logical):
    items = api.dynamodb.scan(TableName=api.names[logical], ConsistentRead=True)["Items"]
    return [from_item(item) for item in items]


def test_a_vocabulary_joins_a_new_group_once_however_often_it_is_imported(api):
    importer = Importer(api.dynamodb, api.names)
    vocabulary = parse_vocabulary(json.dumps(VERBS))

    group_id, created = importer.group("Verbs of Trade")
    first = importer.words(vocabulary, group_id)
    again = importer.words(parse_vocabulary(json.dumps(VERBS)), importer.group("Verbs of Trade")[0])

    assert (group_id, created) == (3, True)
    assert vocabulary.repeats == [(0, 3)]
    assert first == {"added": 2, "joined": 1, "already_in_group": 0}
    assert again == {"added": 0, "joined": 0, "already_in_group": 3}
    words = {w["kanji"]: w for w in scan(api, "words")}
    assert len(words) == 22 and len(scan(api, "groups")) == 3
    assert words["食べる"]["group_ids"] == [1, 3] and words["払う"]["group_ids"] == [3]
    assert json.loads(words["払う"]["parts"]) == [{"kanji": "払", "romaji": ["ha", "ra"]}]
    served = api.get("/api/groups/3/words?limit=10").json_body["items"]
    assert [w["kanji"] for w in served] == ["食べる", "払う", "持つ"]


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
