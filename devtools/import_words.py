"""Reference data from the lang-portal's seed files into a stage's tables:

    make import-words FILE=words.json GROUP="Core Verbs" [STAGE=local]
    make import-activities FILE=study_activities.json [STAGE=local]

A vocabulary file is a JSON array of {"kanji", "romaji", "english", "parts"}; an activities
file of {"name", "url", "preview_url"}. The whole file is checked first: a bad one is refused
with the entry's index and field named, and nothing is written. The group is created if no
group has that name. A word already stored (same kanji, romaji and english) is not stored again
but joins the group, as in the lang-portal's many-to-many word_groups; a word repeated inside
the file is added once and reported. Importing the same file twice adds nothing. Locally it
writes to make run's DynamoDB Local (DYNAMODB_PORT); for a deployed stage it uses the AWS
credentials and region of the environment. A new group is shown with all its words or not at
all: it is stored hidden and shown once its words are in; a running function shows it when
first asked for it (or within 60 s in its lists), and words that join a group already shown
within 60 s (its reference cache, chalicelib.learners.reference_cache).
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, NamedTuple, Tuple

from chalicelib.storage.dynamo import from_item, to_item
from chalicelib.storage.schema import GROUP_IMPORTING

WORD_FIELDS = ("kanji", "romaji", "english")
ACTIVITY_FIELDS = ("name", "url", "preview_url")


class BadFile(ValueError):
    """The file cannot be imported; the message names the entry and field."""


class Vocabulary(NamedTuple):
    words: List[dict]  # each distinct word once: kanji, romaji, english, parts
    repeats: List[Tuple[int, int]]  # (first index, repeated index) inside the file


def _entries(text: str, fields: Tuple[str, ...], what: str) -> list:
    try:
        entries = json.loads(text)
    except ValueError as error:
        raise BadFile(f"The file is not JSON: {error}.") from None
    if not isinstance(entries, list):
        raise BadFile(f"The file must be a JSON array of {what}, not {type(entries).__name__}.")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise BadFile(f"[{index}] must be an object with {', '.join(fields)}.")
        for field in fields:
            if field not in entry:
                raise BadFile(f"[{index}].{field} is missing.")
            if not isinstance(entry[field], str):
                raise BadFile(f"[{index}].{field} must be a string, not {type(entry[field]).__name__}.")
            if not entry[field].strip():
                raise BadFile(f"[{index}].{field} is empty.")
    return entries


def parse_vocabulary(text: str) -> Vocabulary:
    entries = _entries(text, WORD_FIELDS, "words")
    words, first_seen, repeats = [], {}, []
    for index, entry in enumerate(entries):
        if "parts" in entry and not isinstance(entry["parts"], list):
            raise BadFile(f"[{index}].parts must be an array, not {type(entry['parts']).__name__}.")
        key = tuple(entry[field].strip() for field in WORD_FIELDS)
        if key in first_seen:
            repeats.append((first_seen[key], index))
            continue
        first_seen[key] = index
        words.append({**dict(zip(WORD_FIELDS, key, strict=True)), "parts": json.dumps(entry.get("parts", []),
                                                                         ensure_ascii=False)})
    return Vocabulary(words, repeats)


def parse_activities(text: str) -> List[dict]:
    return [{field: entry[field].strip() for field in ACTIVITY_FIELDS}
            for entry in _entries(text, ACTIVITY_FIELDS, "study activities")]


class Importer:
    def __init__(self, client, tables: Dict[str, str]):
        self._client = client
        self._tables = tables

    def _scan(self, logical: str) -> List[dict]:
        pages = self._client.get_paginator("scan").paginate(TableName=self._tables[logical],
                                                            ConsistentRead=True)
        return [from_item(item) for page in pages for item in page["Items"]]

    def _put_new(self, logical: str, item: dict, taken: set) -> int:
        """Store ``item`` under the next free id; the id."""
        id_ = max(taken, default=0) + 1
        while True:
            try:
                self._client.put_item(TableName=self._tables[logical], Item=to_item({"id": id_, **item}),
                                      ConditionExpression="attribute_not_exists(id)")
                taken.add(id_)
                return id_
            except self._client.exceptions.ConditionalCheckFailedException:
                id_ += 1  # another import took it meanwhile

    def vocabulary(self, group_name: str, vocabulary: Vocabulary) -> Dict[str, int]:
        """The words into the group of this name: its id, whether this import created it or
        finished it (an earlier import, cut short, created it), and what became of the words. A
        new group is stored hidden (schema.GROUP_IMPORTING) and shown only once all its words are
        stored, so a reader sees it with all of them or not at all; a group an import cut short
        left hidden is finished, and shown, by the next."""
        group_id, created, hidden = self._group(group_name)
        counts = self.words(vocabulary, group_id)
        if hidden:
            self._client.update_item(TableName=self._tables["groups"], Key={"id": {"N": str(group_id)}},
                                     UpdateExpression="REMOVE #importing",
                                     ExpressionAttributeNames={"#importing": GROUP_IMPORTING})
        return {"group_id": group_id, "group_created": created, "group_finished": hidden and not created,
                **counts}

    def _group(self, name: str) -> Tuple[int, bool, bool]:
        """The id of the group of this name, whether it was created now, and whether it is
        hidden: created now or by an import cut short."""
        groups = self._scan("groups")
        named = sorted((g for g in groups if g["name"] == name), key=lambda g: g["id"])
        if named:
            return named[0]["id"], False, GROUP_IMPORTING in named[0]
        new_id = self._put_new("groups", {"name": name, GROUP_IMPORTING: True}, {g["id"] for g in groups})
        return new_id, True, True

    def words(self, vocabulary: Vocabulary, group_id: int) -> Dict[str, int]:
        stored = self._scan("words")
        by_key = {tuple(w[f] for f in WORD_FIELDS): w for w in stored}
        taken = {w["id"] for w in stored}
        counts = {"added": 0, "joined": 0, "already_in_group": 0}
        for word in vocabulary.words:
            existing = by_key.get(tuple(word[f] for f in WORD_FIELDS))
            if existing is None:
                self._put_new("words", {**word, "group_ids": [group_id]}, taken)
                counts["added"] += 1
            elif group_id in existing.get("group_ids", []):
                counts["already_in_group"] += 1
            else:
                self._client.update_item(
                    TableName=self._tables["words"], Key={"id": {"N": str(existing["id"])}},
                    UpdateExpression="ADD group_ids :group",
                    ExpressionAttributeValues={":group": {"NS": [str(group_id)]}})
                counts["joined"] += 1
        return counts

    def activities(self, activities: List[dict]) -> Dict[str, int]:
        stored = self._scan("study_activities")
        names = {a["name"] for a in stored}
        taken = {a["id"] for a in stored}
        added = 0
        for activity in activities:
            if activity["name"] not in names:
                self._put_new("study_activities", activity, taken)
                names.add(activity["name"])
                added += 1
        return {"added": added, "already_stored": len(activities) - added}


def main() -> int:
    from devtools.audit import client_for
    from devtools.stage import table_names

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["words", "activities"])
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--group", help="the group the words join (words only)")
    parser.add_argument("--stage", default="local")
    args = parser.parse_args()
    if args.kind == "words" and not (args.group or "").strip():
        print("make import-words: GROUP=\"<name>\" names the group the words join.", file=sys.stderr)
        return 1
    try:
        text = args.file.read_text(encoding="utf-8")
        parsed = parse_vocabulary(text) if args.kind == "words" else parse_activities(text)
    except (OSError, UnicodeError, BadFile) as error:
        print(f"make import-{args.kind}: {args.file}: {error} Nothing was written.", file=sys.stderr)
        return 1
    importer = Importer(client_for(args.stage), table_names(args.stage))
    if args.kind == "activities":
        print(json.dumps(importer.activities(parsed)))
        return 0
    for first, repeated in parsed.repeats:
        print(f"[{repeated}] has the kanji, romaji and english of [{first}]: imported once.")
    report = importer.vocabulary(args.group.strip(), parsed)
    print(json.dumps({**report, "repeated_in_file": len(parsed.repeats)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
