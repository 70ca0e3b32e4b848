"""The curate stage's record: counts that reconcile, drop reasons, PII, opt-outs, dedup."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from openeurollm.records.base import Part, Record


class DomainOptOut(Part):
    docs: int
    bytes: int = 0
    opted_out_docs: int
    rules: dict[str, int]  # rule -> documents ("none": not opted out)


class InfringingSites(Part):
    lists: list[str]  # file names of the lists applied
    domains_listed: int
    docs_removed: int
    domains: dict[str, int]  # listed domain -> documents removed


class OptOutProtocols(Part):
    """What the run was given for each opt-out protocol: applied or not, from the inputs."""

    domain_lists: list[str]
    domains_listed: int
    robots_snapshots: list[str]
    tdmrep_snapshots: list[str]
    ai_user_agents: list[str]
    page_signals: bool  # honoured when a page carries them (WARC input only)
    docs_removed_by_rule: dict[str, int]  # drop reason -> documents


class Decontam(Part):
    matches: dict[str, dict[str, int]]
    docs_dropped: int


class CurateRecord(Record):
    docs_in: int
    docs_kept: int
    docs_dropped: int
    quarantined: int
    reconciled: bool
    kept_per_language: dict[str, int]
    bytes_kept_per_language: dict[str, int]
    dropped_by_reason: dict[str, int]
    quarantined_by_reason: dict[str, int]
    steps: dict[str, Any]  # step -> language -> counts (see data/curate.StepStats)
    relabelled: dict[str, int]
    pii: dict[str, dict[str, int]]
    pii_total: dict[str, int]
    optout: dict[str, DomainOptOut]
    optout_domains_opted_out: list[str]
    optout_docs_removed: int
    optout_protocols: OptOutProtocols | None = None  # absent in records before it existed
    infringing_sites: InfringingSites
    dedup: dict[str, Any]
    decontam: Decontam
    dropped_samples: dict[str, int]
    # filter -> language -> {judged, dropped, rate}: a filter that hurts one language shows
    filter_drop_rates: dict[str, dict[str, dict[str, float]]] = Field(default_factory=dict)
    # Pass wall times and pass 1's task time by step (absent in records before it existed).
    seconds: dict[str, Any] = Field(default_factory=dict)
    # plugin step -> the fields it recorded
    plugin_steps: dict[str, dict[str, Any]] = Field(default_factory=dict)
