"""Text-and-data-mining opt-outs (EU DSM Directive art. 4(3)): who reserved their rights.

Sources of a reservation, checked in this order for each document:
  1. domain lists (one domain per line, `#` comments), applied retroactively to data
     already collected; a listed domain covers its subdomains;
  2. TDMRep signals the page carried itself: the `tdm-reservation` HTTP header or
     `<meta name="tdm-reservation">` (kept in doc.meta by the WARC reader);
  3. `noai` in the robots meta tag or X-Robots-Tag header of the page;
  4. TDMRep `/.well-known/tdmrep.json` snapshots (JSONL: {"domain", "tdmrep": [...]});
  5. robots.txt snapshots (JSONL: {"domain", "robots_txt", "fetched"}): the document's
     URL disallowed for any of the configured AI user agents.
The stage records every decision per domain with the rule that decided it.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.robotparser import RobotFileParser

from openeurollm.data.document import Document
from openeurollm.data.url_parts import split_url, url_host

# Crawlers that collect text for AI training, as named in robots.txt files in the wild.
DEFAULT_AI_USER_AGENTS = (
    "GPTBot",
    "CCBot",
    "Google-Extended",
    "ClaudeBot",
    "anthropic-ai",
    "Applebot-Extended",
    "Bytespider",
    "meta-externalagent",
    "cohere-ai",
    "PerplexityBot",
    "Amazonbot",
    "OpenEuroLLM",
)
NOAI_DIRECTIVES = frozenset({"noai", "noimageai"})


def normalize_domain(domain: str) -> str:
    domain = domain.strip().lower().rstrip(".")
    if "://" in domain:
        domain = url_host(domain) or ""
    domain = domain.split("/")[0].split(":")[0]
    return domain.removeprefix("www.")


def document_domain(doc: Document) -> str:
    domain = doc.meta.get("domain") if isinstance(doc.meta, dict) else None
    if not domain and doc.source and "://" in doc.source:
        domain = url_host(doc.source)
    return normalize_domain(str(domain or ""))


def read_domain_list(path: Path) -> list[str]:
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(normalize_domain(line))
    return out


class DomainList:
    """Domains from list files (one per line, `#` comments); a listed domain covers its
    subdomains. `rule(domain)` names the file that lists it, as "<label>:<file name>"."""

    def __init__(self, paths: Iterable[Path], label: str) -> None:
        self._listed: dict[str, str] = {}
        for path in paths:
            for domain in read_domain_list(Path(path)):
                self._listed.setdefault(domain, f"{label}:{Path(path).name}")
        self._cache: dict[str, str | None] = {}

    def __len__(self) -> int:
        return len(self._listed)

    def rule(self, domain: str) -> str | None:
        if domain not in self._cache:
            rule = None
            parts = domain.split(".")
            for i in range(len(parts) - 1):  # the domain itself, then its parents
                rule = self._listed.get(".".join(parts[i:]))
                if rule:
                    break
            self._cache[domain] = rule
        return self._cache[domain]


def _read_jsonl(path: Path) -> Iterable[dict]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                record = json.loads(line)
                if isinstance(record, dict) and record.get("domain"):
                    yield record


@dataclass(frozen=True)
class OptOutDecision:
    domain: str
    opted_out: bool
    rule: str  # "domain_list:<file>", "tdmrep_header", "tdmrep_meta", "noai_meta",
    # "tdmrep_json", "robots_txt:<agent>", or "none"


def _tdm_reserved(value: object) -> bool:
    return str(value).strip() in ("1", "true", "True")


class OptOutPolicy:
    def __init__(
        self,
        domain_lists: Iterable[Path] = (),
        robots_snapshots: Iterable[Path] = (),
        tdmrep_snapshots: Iterable[Path] = (),
        ai_user_agents: Iterable[str] = DEFAULT_AI_USER_AGENTS,
        page_signals: bool = True,
    ) -> None:
        self._listed = DomainList(domain_lists, "domain_list")
        self._robots: dict[str, RobotFileParser] = {}
        for path in robots_snapshots:
            for rec in _read_jsonl(Path(path)):
                parser = RobotFileParser()
                parser.parse(str(rec.get("robots_txt", "")).splitlines())
                self._robots[normalize_domain(rec["domain"])] = parser
        self._tdmrep: dict[str, list[dict]] = {}
        for path in tdmrep_snapshots:
            for rec in _read_jsonl(Path(path)):
                rules = rec.get("tdmrep") or []
                if isinstance(rules, list):
                    self._tdmrep[normalize_domain(rec["domain"])] = [
                        r for r in rules if isinstance(r, dict)
                    ]
        self.agents = tuple(ai_user_agents)
        self.page_signals = page_signals

    def decide_domain(self, domain: str) -> OptOutDecision:
        """The domain-level decision (lists only): what applies to every page of it."""
        rule = self._listed.rule(domain)
        return OptOutDecision(domain, rule is not None, rule or "none")

    def decide(self, doc: Document) -> OptOutDecision:
        domain = document_domain(doc)
        rule = self._listed.rule(domain)
        if rule:
            return OptOutDecision(domain, True, rule)
        meta = doc.meta if isinstance(doc.meta, dict) else {}
        if self.page_signals:
            if _tdm_reserved(meta.get("tdm_reservation", "")):
                return OptOutDecision(domain, True, f"tdmrep_{meta.get('tdm_source', 'meta')}")
            robots = meta.get("robots") or []
            if isinstance(robots, str):
                robots = [d.strip() for d in robots.split(",")]
            if NOAI_DIRECTIVES & {str(d).lower() for d in robots}:
                return OptOutDecision(domain, True, "noai_meta")
        # A source URL no parser accepts is judged as the domain's front page.
        parts = split_url(doc.source) if "://" in doc.source else None
        url = doc.source if parts else f"https://{domain}/"
        path = (parts.path if parts else "") or "/"
        for entry in self._tdmrep.get(domain, ()):
            if fnmatch.fnmatchcase(path, str(entry.get("location", "/*")) or "/*"):
                if _tdm_reserved(entry.get("tdm-reservation", 0)):
                    return OptOutDecision(domain, True, "tdmrep_json")
                break  # the first matching location decides
        parser = self._robots.get(domain)
        if parser is not None:
            for agent in self.agents:
                if not _can_fetch(parser, agent, url, domain):
                    return OptOutDecision(domain, True, f"robots_txt:{agent}")
        return OptOutDecision(domain, False, "none")


def _can_fetch(parser: RobotFileParser, agent: str, url: str, domain: str) -> bool:
    """robots.txt's answer for `url`; the robot parser percent-decodes the URL before taking
    it apart, so a URL that parses can still fail there: judge the domain's front page then."""
    try:
        return parser.can_fetch(agent, url)
    except ValueError:
        return parser.can_fetch(agent, f"https://{domain}/")
