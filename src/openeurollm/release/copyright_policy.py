"""copyright_policy.md: the copyright policy of Art. 53(1)(c), describing the opt-out handling
this run actually applied (from the curate record), not the handling it could have applied."""

from __future__ import annotations

from openeurollm.release.facts import NOT_RECORDED, Facts, fmt
from openeurollm.release.model_card import table
from openeurollm.release.sections import (
    ddmmyyyy,
    domain_optout,
    optout_summary,
)
from openeurollm.release.statements import infringing_sites


def render(f: Facts) -> str:
    domains = f.rec("curate", "optout") or {}
    rows = []
    for domain, v in sorted(domains.items()):
        opted, rules, removed = domain_optout(v)
        if opted:
            rows.append([domain, ", ".join(rules) or NOT_RECORDED, removed])
    return f"""# Copyright policy: {f.model_id()}

Provider: {f.provided("provider")}. Last update: {ddmmyyyy(f.today)}.
Generated from the records of the training run; not legal advice.

## 1. Scope

This policy covers the training data of {f.model_id()}: every document that reached training
went through the steps below, whose effect on this run is given as recorded.

## 2. Lawful access

The training data came from the datasets listed in the training content summary
(training_content_summary.md, section 2), ingested from files; no paywall, login or other
technical protection measure was circumvented by this pipeline. Lists of websites
persistently infringing copyright (issuer as the provider states it): {infringing_sites(f)}.

## 3. Reservations of rights for text and data mining (DSM Directive Art. 4(3))

Machine-readable opt-outs were honoured as follows in this run:

{optout_summary(f)}

Domains that reserved their rights and the documents removed:

{table(["domain", "rule", "documents removed"], rows)}
robots.txt (RFC 9309) checks of a crawler: {f.r("ingest", "crawler", "robots_policy")}.

## 4. Documentation of the data

- Training content summary (AI Act Art. 53(1)(d)): training_content_summary.md
- Datasheet: datasheet.md; Croissant metadata: croissant.json
- Membership index: membership.json and membership.filter answer whether a URL or a text was in
  the training data (`openeurollm check-inclusion`), with a false-positive rate of
  {fmt((f.info.get("membership") or {}).get("false_positive_rate"))} and no false negatives for the URL (in any spelling) and
  the full text (as trained or before PII masking) of every trained document.

## 5. Outputs

The model can reproduce parts of its training data. Users must not use it to infringe
copyright; the acceptable use policy: {f.provided("acceptable_use_policy")}.

## 6. Contact and complaints

Rightsholders can send requests and complaints to: {f.provided("copyright_contact")}.
Policy URL: {f.provided("copyright_policy_url")}.
"""
