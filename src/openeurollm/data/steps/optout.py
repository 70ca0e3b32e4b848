"""Opt-out step: drop documents of persistently infringing sites, then documents whose
rights holder reserved text-and-data mining (domain lists, robots.txt, TDMRep, page signals)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from openeurollm.data.document import Document
from openeurollm.data.optout import DomainList, OptOutPolicy, document_domain
from openeurollm.data.steps import STEPS_REGISTRY, Step, StepInputs, sum_nested


@STEPS_REGISTRY.register("optout")
class OptOutStep(Step):
    name = "optout"

    def setup(self, inputs: StepInputs) -> None:
        files, opt = inputs.optout_files, self.cfg.optout
        self.policy = OptOutPolicy(
            files.get("domain_lists", []),
            files.get("robots_snapshots", []),
            files.get("tdmrep_snapshots", []),
            opt.ai_user_agents,
            opt.page_signals,
        )
        self.infringing_lists = files.get("infringing_lists", [])
        self.infringing = DomainList(self.infringing_lists, "infringing_list")
        self.decisions: dict[str, dict[str, Any]] = {}
        self.infringing_hits: Counter[str] = Counter()  # domain -> documents dropped

    def apply(self, doc: Document) -> Document | None:
        if len(self.infringing):
            domain = document_domain(doc)
            if self.infringing.rule(domain):
                self.infringing_hits[domain] += 1
                self.drop(doc, "infringing_site", domain=domain)
                return None
        opt = self.policy.decide(doc)
        entry = self.decisions.setdefault(
            opt.domain or "(none)", {"docs": 0, "bytes": 0, "opted_out_docs": 0, "rules": {}}
        )
        entry["docs"] += 1
        entry["bytes"] += len(doc.text.encode("utf-8"))
        entry["rules"][opt.rule] = entry["rules"].get(opt.rule, 0) + 1
        if opt.opted_out:
            entry["opted_out_docs"] += 1
            self.drop(doc, "optout_" + opt.rule.split(":")[0], domain=opt.domain)
            return None
        return doc

    def part(self) -> dict[str, Any]:
        return {
            "counts": {"optout": self.decisions, "infringing": dict(self.infringing_hits)},
            "lists": [p.name for p in self.infringing_lists],
            "domains_listed": len(self.infringing),
        }

    @classmethod
    def merge(cls, parts: list[dict[str, Any]]) -> dict[str, Any]:
        parts = [p for p in parts if p]  # empty when the recipe leaves the step out
        first = parts[0] if parts else {"lists": [], "domains_listed": 0}
        return {
            "counts": sum_nested([p["counts"] for p in parts]),
            "lists": first["lists"],  # every task reads the same lists
            "domains_listed": first["domains_listed"],
        }

    @classmethod
    def record(cls, merged: dict[str, Any], dropped: Counter[str]) -> dict[str, Any]:
        optout = merged["counts"].get("optout", {})
        return {
            "optout": dict(sorted(optout.items())),
            "optout_domains_opted_out": sorted(d for d, v in optout.items() if v["opted_out_docs"]),
            # All opt-out drop reasons together (domain list, TDMRep, noai, robots.txt).
            "optout_docs_removed": sum(n for r, n in dropped.items() if r.startswith("optout_")),
            "infringing_sites": {
                "lists": merged["lists"],
                "domains_listed": merged["domains_listed"],
                "docs_removed": dropped.get("infringing_site", 0),
                "domains": dict(sorted(merged["counts"].get("infringing", {}).items())),
            },
        }
