"""Submission profiles against hand-written gold profiles: field precision and recall, conflicts, seconds.

Gold files: benchmarks/fixtures/profiles/*.json (written by hand from the documents; see the README there).
The three sample_docs submissions and the synthetic lakeview-cold-storage submission (an SOV and a loss run in
XLSX with other column names, a survey in prose, a broker e-mail) are ingested into a fresh workspace, each
profiled from scratch and timed, then scored:

- fields: per location (COPE, values), the submission's totals, insured, effective date, expiring premium,
  claims (by claim number: date, amounts, status, line, location where the gold states one), loss figures
  per line (counts, paid, reserves, incurred, earned premium, loss ratio, valuation date) and
  recommendations (priority, status). Numbers must be exact (a loss ratio to 0.1 point); text matches when
  one normalised text holds most of the other's words. Precision: right values over values given (a value
  the gold does not have counts as given and wrong); recall: right values over gold values.
- conflicts: gold conflicts found (by field and location), conflicts reported that the gold does not have.
- triggers: the rules (`--rules`, default the starter rules of the sample guideline) checked against each
  profile: gold triggers found, triggers reported that the gold does not have (false).

    python benchmarks/submission_profile.py [--workspace W] [--model] [--gold DIR --docs FOLDER ...]

`--model` builds the profiles as `summarize` does: the embedded model reads the descriptive fields
(occupancy, construction, sprinkler system and design, alarm, exposures) that the tables and patterns left
unstated, each kept only when verified against its sentence; seconds then include the model's requests.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.quiet import quiet_libraries  # noqa: E402 (after the path insert)

quiet_libraries()

GOLD = ROOT / "benchmarks" / "fixtures" / "profiles"
FOLDERS = [ROOT / "sample_docs", ROOT / "benchmarks" / "fixtures" / "submissions" / "lakeview-cold-storage"]
TEXT_FIELDS = frozenset(("address", "occupancy", "construction", "sprinkler_type", "sprinkler_design", "alarm",
                         "exposures", "insured", "cause", "priority", "status", "line"))
NOT_SCORED = frozenset(("sources", "class_facts", "location_basis", "status_source", "status_text", "text", "policy",
                        "cause"))


# Not in the gold format: buildings; storage heights are scored through the 3.2 (high-piled storage) trigger.
UNSCORED_LOCATION_FIELDS = frozenset(("buildings", "storage_height_ft"))


def words(value: Any) -> set[str]:
    if isinstance(value, list):
        value = " ".join(str(item) for item in value)
    text = re.sub(r"non[\s-]+combustible", "noncombustible", str(value).lower())
    return {w for w in re.findall(r"[a-z0-9]+", text) if w not in ("the", "a", "an", "of", "and", "with", "in", "by")}


def same(key: str, gold: Any, got: Any) -> bool:
    if got is None:
        return False
    if isinstance(gold, bool) or isinstance(got, bool):
        return gold == got
    if isinstance(gold, int | float) and not isinstance(gold, bool):
        try:
            number = float(got)
        except (TypeError, ValueError):
            return False
        return abs(number - float(gold)) < (0.051 if key.endswith("_pct") else 0.5)
    if key == "alarm":  # the profile states the alarm's kind; a gold description has one too
        from assistant.profile.prose import alarm_kind

        return alarm_kind(str(gold)) == str(got) or same("alarm_text", gold, got)
    if key in TEXT_FIELDS or key == "alarm_text":
        a, b = words(gold), words(got)
        if not a or not b:
            return False
        shared = len(a & b)
        return shared / min(len(a), len(b)) >= 0.6
    return str(gold).strip().lower() == str(got).strip().lower()


@dataclass
class Score:
    right: int = 0
    given: int = 0
    gold: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, where: str, gold: Any, got: Any, key: str) -> None:
        if gold is not None:
            self.gold += 1
        if got is not None:
            self.given += 1
        if gold is not None and got is not None and same(key, gold, got):
            self.right += 1
        elif gold is not None or got is not None:
            self.misses.append(f"{where}.{key}: gold {gold!r}, got {got!r}")

    @property
    def precision(self) -> float:
        return self.right / self.given if self.given else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.gold if self.gold else 1.0


def _value(sourced: Any) -> Any:
    if sourced is None:
        return None
    value = sourced.value
    return value.isoformat() if hasattr(value, "isoformat") else value


def score_fields(gold: dict[str, Any], profile: Any, score: Score) -> None:
    from assistant.profile.model import LOCATION_FIELDS

    score.add("submission", gold.get("insured"), _value(profile.insured), "insured")
    score.add("submission", gold.get("effective_date"), _value(profile.effective_date), "effective_date")
    score.add("premium", (gold.get("premium") or {}).get("expiring"), _value(profile.premium.get("expiring")),
              "expiring")
    ours = {loc.number: loc for loc in profile.locations}
    for number in sorted(set(gold.get("locations", {})) | set(ours)):
        expected = gold.get("locations", {}).get(number, {})
        got = ours.get(number)
        for key in LOCATION_FIELDS:
            if key in UNSCORED_LOCATION_FIELDS:
                continue
            score.add(f"location {number}", expected.get(key), got.get(key) if got is not None else None, key)
    # The gold's totals are the sums of the rows; where the SOV's own totals row differs (stated_totals, a
    # conflict), the profile shows what the document states and lists the conflict: either counts as right.
    totals, stated = gold.get("totals") or {}, gold.get("stated_totals") or {}
    for key in ("building_value", "contents_value", "bi_value", "tiv", "area_sqft"):
        got = _value(profile.totals.get(key))
        expected = stated[key] if key in stated and got is not None and same(key, stated[key], got) else totals.get(key)
        score.add("totals", expected, got, key)
    claims = {c.claim_number: c for c in profile.claims}
    for claim in gold.get("claims", []):
        got = claims.pop(claim["claim_number"], None)
        for key in ("date_of_loss", "paid", "reserve", "incurred", "status", "line", "location"):
            if key == "location" and claim.get("location_basis") != "stated":
                continue
            value = getattr(got, key, None) if got is not None else None
            value = value.isoformat() if hasattr(value, "isoformat") else (value or None if key == "location"
                                                                            else value)
            score.add(f"claim {claim['claim_number']}", claim.get(key), value, key)
    for number in claims:  # claims the gold does not list
        score.add(f"claim {number}", None, "extra claim", "claim")
    for line, expected in (gold.get("loss_summary") or {}).items():
        got = profile.loss_summary(line)
        for key in ("claims", "open_claims", "paid", "open_reserves", "incurred", "earned_premium", "loss_ratio_pct"):
            score.add(f"losses {line}", expected.get(key), getattr(got, key, None) if got else None, key)
        if line == "property":
            score.add(f"losses {line}", expected.get("valuation_date"), _value(profile.valuation_date),
                      "valuation_date")
    recs = {r.number: r for r in profile.recommendations}
    for rec in gold.get("recommendations", []):
        got = recs.pop(rec["number"], None)
        for key in ("priority", "status"):
            score.add(f"recommendation {rec['number']}", rec.get(key), (getattr(got, key, None) or None) if got
                      else None, key)
    for number in recs:
        score.add(f"recommendation {number}", None, "extra recommendation", "recommendation")


def _conflict_key(field_: str, location: Any) -> tuple[str, str]:
    field_ = {"loss_history": "claims"}.get(field_, field_)
    field_ = field_.removeprefix("total_")
    return field_, str(location or "")


def score_conflicts(gold: dict[str, Any], profile: Any) -> tuple[int, int, list[str], list[str]]:
    """(found, gold count, missed, false): a reported conflict matches a gold one by field and location."""
    wanted = []
    for item in gold.get("conflicts", []):
        keys = {_conflict_key(f, item.get("location")) for f in [item["field"], *item.get("also_fields", [])]}
        wanted.append((item, keys))
    reported = [(c, _conflict_key(c.field, c.location)) for c in profile.conflicts]
    matched: set[int] = set()
    false = []
    for conflict, key in reported:
        hit = next((i for i, (_, keys) in enumerate(wanted) if key in keys), None)
        if hit is None:
            false.append(conflict.summary)
        else:
            matched.add(hit)
    missed = [f"{item['field']} at {item.get('location')}: {item.get('note', '')[:80]}"
              for i, (item, _) in enumerate(wanted) if i not in matched]
    return len(matched), len(wanted), missed, false


def _subject_location(subject: str, profile: Any) -> str | None:
    """'location 2' -> '2'; 'claim X' -> the claim's location; 'submission', 'property losses' -> None."""
    if subject.startswith("location "):
        return subject.split(" ", 1)[1]
    return None


def score_triggers(gold: dict[str, Any], profile: Any, report: Any) -> tuple[int, int, list[str], list[str]]:
    """(found, gold count, missed, false). A fired rule's trigger matches a gold trigger of its section at its
    location (a trigger about the submission or a claim matches one of its section anywhere); one gold trigger
    per reported one. A reported trigger that matches none is false; ambiguous gold entries are not scored."""
    wanted = [t for t in gold.get("triggers", []) if not t.get("ambiguous")]
    ambiguous = {(t["section"], str(t.get("location") or "")) for t in gold.get("not_triggered", [])
                 if t.get("ambiguous")}
    used: set[int] = set()
    false = []
    for result in report.results:
        if result.status != "fired":
            continue
        for trigger in result.triggers:
            where = _subject_location(trigger.subject, profile)
            candidates = [i for i, t in enumerate(wanted) if i not in used and t["section"] == result.section
                          and (where is None or t.get("location") in (None, where))]
            exact = [i for i in candidates if (wanted[i].get("location") or None) == where]
            hit = (exact or candidates or [None])[0]
            if hit is None:
                if (result.section, where or "") not in ambiguous:
                    false.append(f"§ {result.section} {result.rule_id} ({trigger.subject})")
            else:
                used.add(hit)
    missed = [f"§ {t['section']} {t.get('rule', '')} at {t.get('location')}" for i, t in enumerate(wanted)
              if i not in used]
    return len(used), len(wanted), missed, false


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, help="Use (and fill) this workspace instead of a fresh one.")
    parser.add_argument("--model", action="store_true", help="Let the embedded model read the descriptive fields the "
                                                             "patterns leave unstated (as `summarize` does).")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--rules", type=Path, default=ROOT / "sample_docs" / "guidelines" / "rules.toml",
                        help="The carrier's rules to check with (default: the sample guideline's starter rules).")
    parser.add_argument("--gold", type=Path, default=GOLD, help="Folder of gold profiles.")
    parser.add_argument("--docs", type=Path, nargs="*", help="Folders to ingest (default: sample_docs and lakeview).")
    args = parser.parse_args()

    from assistant.app import Assistant
    from assistant.profile.rules import check, load_rules
    from assistant.settings import load_settings

    rules = load_rules(args.rules)
    workspace = args.workspace or Path(tempfile.mkdtemp(prefix="profile-bench-"))
    core = Assistant(load_settings(workspace=workspace))
    started = time.perf_counter()
    core.ingest(args.docs or FOLDERS)
    print(f"ingested in {time.perf_counter() - started:.1f} s into {workspace}")
    golds = {path.stem: json.loads(path.read_text()) for path in sorted(args.gold.glob("*.json"))}
    total = Score()
    rows = []
    conflicts_found = conflicts_gold = 0
    false_conflicts: list[str] = []
    triggers_found = triggers_gold = 0
    false_triggers: list[str] = []
    for name, gold in golds.items():
        began = time.perf_counter()
        profile = core.profile(name, force=True, model=args.model)
        seconds = time.perf_counter() - began
        score = Score()
        score_fields(gold, profile, score)
        found, wanted, missed, false = score_conflicts(gold, profile)
        report = check(profile, rules, core.profiles.statements(profile))
        t_found, t_wanted, t_missed, t_false = score_triggers(gold, profile, report)
        triggers_found += t_found
        triggers_gold += t_wanted
        false_triggers += [f"{name}: {text}" for text in t_false]
        conflicts_found += found
        conflicts_gold += wanted
        false_conflicts += [f"{name}: {text}" for text in false]
        total.right += score.right
        total.given += score.given
        total.gold += score.gold
        rows.append((name, score, found, wanted, len(false), t_found, t_wanted, len(t_false), seconds))
        if args.show_misses:
            for miss in score.misses + [f"missed conflict: {m}" for m in missed] + [
                    f"false conflict: {f}" for f in false] + [f"missed trigger: {m}" for m in t_missed]:
                print(f"  {name}: {miss}")
    print("\n| submission | fields right | given | gold | precision | recall | conflicts found | false conflicts "
          "| triggers found | false triggers | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, score, found, wanted, false, t_found, t_wanted, t_false, seconds in rows:
        print(f"| {name} | {score.right} | {score.given} | {score.gold} | {score.precision:.3f} | "
              f"{score.recall:.3f} | {found}/{wanted} | {false} | {t_found}/{t_wanted} | {t_false} | {seconds:.2f} |")
    print(f"| **all** | {total.right} | {total.given} | {total.gold} | **{total.precision:.3f}** | "
          f"**{total.recall:.3f}** | {conflicts_found}/{conflicts_gold} | {len(false_conflicts)} | "
          f"{triggers_found}/{triggers_gold} | {len(false_triggers)} | |")
    for text in false_conflicts:
        print(f"false conflict: {text}")
    for text in false_triggers:
        print(f"false trigger: {text}")


if __name__ == "__main__":
    main()
