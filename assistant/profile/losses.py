"""Loss figures derived from a profile's claims and policy terms, per line of business.

Counts and incurred per year of loss, open claims and reserves, the largest losses, frequency per year
over the span the loss history covers (the policy terms when the loss run lists them, else the claims'
own span), earned premium and the incurred loss ratio over the terms that state a premium (the terms'
own incurred where they state it, as the carrier computed it, else the claims'),."""

from __future__ import annotations

from collections import defaultdict

from assistant.profile.model import LossSummary, Profile, YearLosses


def _years(profile: Profile, line: str) -> float | None:
    terms = [t for t in profile.terms if t.line == line and t.start and t.end]
    if terms:
        days = sum((t.end - t.start).days for t in terms if t.end and t.start)
        return round(days / 365.25, 2) if days > 0 else None
    dates = [c.date_of_loss for c in profile.claims if c.line == line and c.date_of_loss]
    if len(dates) >= 2:
        return round(max(1.0, (max(dates) - min(dates)).days / 365.25), 2)
    return None


def summarize_losses(profile: Profile) -> list[LossSummary]:
    lines = sorted({c.line for c in profile.claims} | {t.line for t in profile.terms},
                   key=lambda line: (line != "property", line))
    summaries = []
    for line in lines:
        claims = [c for c in profile.claims if c.line == line]
        terms = [t for t in profile.terms if t.line == line]
        per_year: dict[int, list[float]] = defaultdict(list)
        for claim in claims:
            if claim.date_of_loss is not None:
                per_year[claim.date_of_loss.year].append(claim.incurred or 0.0)
        summary = LossSummary(
            line=line, claims=len(claims),
            open_claims=sum(1 for c in claims if c.status in ("open", "reopened")),
            incurred=round(sum(c.incurred or 0.0 for c in claims), 2),
            paid=round(sum(c.paid or 0.0 for c in claims), 2),
            open_reserves=round(sum(c.reserve or 0.0 for c in claims if c.status in ("open", "reopened")), 2),
            by_year=[YearLosses(year=y, count=len(v), incurred=round(sum(v), 2)) for y, v in sorted(per_year.items())],
            largest=[c.claim_number or str(c.date_of_loss) for c in
                     sorted(claims, key=lambda c: c.incurred or 0.0, reverse=True)[:3]],
        )
        summary.years_covered = _years(profile, line)
        if summary.years_covered:
            summary.frequency_per_year = round(len(claims) / summary.years_covered, 2)
        premium_terms = [t for t in terms if t.earned_premium]
        if premium_terms:
            summary.earned_premium = round(sum(t.earned_premium or 0.0 for t in premium_terms), 2)
            if all(t.incurred is not None for t in premium_terms):
                incurred = sum(t.incurred or 0.0 for t in premium_terms)
            else:
                incurred = summary.incurred
            summary.loss_ratio_pct = round(100.0 * incurred / summary.earned_premium, 1)
        summaries.append(summary)
    return summaries
