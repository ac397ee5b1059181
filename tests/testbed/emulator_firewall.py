"""Route 53 Resolver DNS Firewall for the emulator: moto 5.2.5 has none of its operations.

Added to moto's route53resolver service (JSON protocol, `Route53Resolver.<Operation>`), state kept on moto's
route53resolver backend so that moto's reset clears it: domain lists (CreateFirewallDomainList, UpdateFirewallDomains,
ListFirewallDomains, GetFirewallDomainList, ListFirewallDomainLists), rule groups (CreateFirewallRuleGroup,
GetFirewallRuleGroup, ListFirewallRuleGroups), rules (CreateFirewallRule, ListFirewallRules) and VPC associations
(AssociateFirewallRuleGroup, GetFirewallRuleGroupAssociation, ListFirewallRuleGroupAssociations).

Semantics kept from the Route 53 API reference (FirewallRule, AssociateFirewallRuleGroup): a rule's Action is ALLOW,
BLOCK or ALERT; BLOCK needs a BlockResponse of NODATA, NXDOMAIN or OVERRIDE; OVERRIDE needs BlockOverrideDnsType
CNAME, a BlockOverrideDomain and a BlockOverrideTtl; rule priorities are unique in a group; an association's priority
is 101..9900 and unique per VPC; the resolver applies the associated groups in association-priority order, and in a
group the rules in rule-priority order. Resources are created COMPLETE (AWS passes through UPDATING briefly).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import string
from typing import Any

ACTIONS = ("ALLOW", "BLOCK", "ALERT")
BLOCK_RESPONSES = ("NODATA", "NXDOMAIN", "OVERRIDE")


def _id(prefix: str) -> str:
    return prefix + "".join(random.choice(string.hexdigits.lower()) for _ in range(17))


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _store(backend: Any) -> dict[str, dict[str, Any]]:
    store = getattr(backend, "_vpcbox_firewall", None)
    if store is None:
        store = {"lists": {}, "domains": {}, "groups": {}, "rules": {}, "associations": {}}
        backend._vpcbox_firewall = store
    return store


def _arn(backend: Any, kind: str, ident: str) -> str:
    return f"arn:aws:route53resolver:{backend.region_name}:{backend.account_id}:{kind}/{ident}"


def _not_found(what: str, ident: str) -> Exception:
    from moto.route53resolver.exceptions import ResourceNotFoundException

    return ResourceNotFoundException(f"Can't find the resource with ID '{ident}' ({what})")


def _invalid(message: str) -> Exception:
    from moto.route53resolver.exceptions import InvalidParameterException

    return InvalidParameterException(message)


def _page(items: list[dict[str, Any]], key: str) -> str:
    return json.dumps({key: items})


# -------------------------------------------------------------------------------------------- operations


def create_firewall_domain_list(self: Any) -> str:
    """CreateFirewallDomainList."""
    backend = self.route53resolver_backend
    ident = _id("rslvr-fdl-")
    item = {
        "Id": ident,
        "Arn": _arn(backend, "firewall-domain-list", ident),
        "Name": self._get_param("Name"),
        "DomainCount": 0,
        "Status": "COMPLETE",
        "StatusMessage": "Created Firewall Domain List",
        "CreatorRequestId": self._get_param("CreatorRequestId"),
        "CreationTime": _now(),
        "ModificationTime": _now(),
    }
    _store(backend)["lists"][ident] = item
    _store(backend)["domains"][ident] = []
    return json.dumps({"FirewallDomainList": item})


def update_firewall_domains(self: Any) -> str:
    """UpdateFirewallDomains (ADD, REMOVE, REPLACE)."""
    store = _store(self.route53resolver_backend)
    ident = self._get_param("FirewallDomainListId")
    if ident not in store["lists"]:
        raise _not_found("firewall domain list", ident)
    operation = self._get_param("Operation")
    domains = [str(d) for d in self._get_param("Domains", [])]
    current: list[str] = store["domains"][ident]
    if operation == "ADD":
        current.extend(d for d in domains if d not in current)
    elif operation == "REMOVE":
        current[:] = [d for d in current if d not in domains]
    elif operation == "REPLACE":
        current[:] = list(dict.fromkeys(domains))
    else:
        raise _invalid(f"Operation {operation!r} is not one of ADD, REMOVE, REPLACE")
    item = store["lists"][ident]
    item["DomainCount"] = len(current)
    item["ModificationTime"] = _now()
    return json.dumps({"Id": ident, "Name": item["Name"], "Status": "COMPLETE", "StatusMessage": "Finished"})


def list_firewall_domains(self: Any) -> str:
    """ListFirewallDomains."""
    store = _store(self.route53resolver_backend)
    ident = self._get_param("FirewallDomainListId")
    if ident not in store["lists"]:
        raise _not_found("firewall domain list", ident)
    return json.dumps({"Domains": list(store["domains"][ident])})


def get_firewall_domain_list(self: Any) -> str:
    """GetFirewallDomainList."""
    store = _store(self.route53resolver_backend)
    ident = self._get_param("FirewallDomainListId")
    if ident not in store["lists"]:
        raise _not_found("firewall domain list", ident)
    return json.dumps({"FirewallDomainList": store["lists"][ident]})


def list_firewall_domain_lists(self: Any) -> str:
    """ListFirewallDomainLists."""
    keys = ("Id", "Arn", "Name", "CreatorRequestId")
    items = [{k: v[k] for k in keys} for v in _store(self.route53resolver_backend)["lists"].values()]
    return _page(items, "FirewallDomainLists")


def create_firewall_rule_group(self: Any) -> str:
    """CreateFirewallRuleGroup."""
    backend = self.route53resolver_backend
    ident = _id("rslvr-frg-")
    item = {
        "Id": ident,
        "Arn": _arn(backend, "firewall-rule-group", ident),
        "Name": self._get_param("Name"),
        "RuleCount": 0,
        "Status": "COMPLETE",
        "StatusMessage": "Created Firewall Rule Group",
        "OwnerId": backend.account_id,
        "CreatorRequestId": self._get_param("CreatorRequestId"),
        "ShareStatus": "NOT_SHARED",
        "CreationTime": _now(),
        "ModificationTime": _now(),
    }
    _store(backend)["groups"][ident] = item
    _store(backend)["rules"][ident] = []
    return json.dumps({"FirewallRuleGroup": item})


def get_firewall_rule_group(self: Any) -> str:
    """GetFirewallRuleGroup."""
    store = _store(self.route53resolver_backend)
    ident = self._get_param("FirewallRuleGroupId")
    if ident not in store["groups"]:
        raise _not_found("firewall rule group", ident)
    return json.dumps({"FirewallRuleGroup": store["groups"][ident]})


def list_firewall_rule_groups(self: Any) -> str:
    """ListFirewallRuleGroups."""
    keys = ("Id", "Arn", "Name", "OwnerId", "CreatorRequestId", "ShareStatus")
    items = [{k: v[k] for k in keys} for v in _store(self.route53resolver_backend)["groups"].values()]
    return _page(items, "FirewallRuleGroups")


def create_firewall_rule(self: Any) -> str:
    """CreateFirewallRule, validated as AWS validates BLOCK and OVERRIDE."""
    store = _store(self.route53resolver_backend)
    group = self._get_param("FirewallRuleGroupId")
    domain_list = self._get_param("FirewallDomainListId")
    if group not in store["groups"]:
        raise _not_found("firewall rule group", group)
    if domain_list not in store["lists"]:
        raise _not_found("firewall domain list", domain_list)
    action = self._get_param("Action")
    if action not in ACTIONS:
        raise _invalid(f"Action {action!r} is not one of {', '.join(ACTIONS)}")
    priority = int(self._get_param("Priority"))
    if any(r["Priority"] == priority for r in store["rules"][group]):
        raise _invalid(f"A rule with priority {priority} already exists in {group}")
    rule: dict[str, Any] = {
        "FirewallRuleGroupId": group,
        "FirewallDomainListId": domain_list,
        "Name": self._get_param("Name"),
        "Priority": priority,
        "Action": action,
        "CreatorRequestId": self._get_param("CreatorRequestId"),
        "CreationTime": _now(),
        "ModificationTime": _now(),
        "FirewallDomainRedirectionAction": self._get_param("FirewallDomainRedirectionAction")
        or "INSPECT_REDIRECTION_DOMAIN",
    }
    if self._get_param("Qtype"):
        rule["Qtype"] = self._get_param("Qtype")
    if action == "BLOCK":
        response = self._get_param("BlockResponse")
        if response not in BLOCK_RESPONSES:
            raise _invalid(f"BLOCK needs a BlockResponse of {', '.join(BLOCK_RESPONSES)}")
        rule["BlockResponse"] = response
        if response == "OVERRIDE":
            domain = self._get_param("BlockOverrideDomain")
            kind = self._get_param("BlockOverrideDnsType")
            ttl = self._get_param("BlockOverrideTtl")
            if not domain or kind != "CNAME" or ttl is None:
                raise _invalid("OVERRIDE needs BlockOverrideDomain, BlockOverrideDnsType CNAME and BlockOverrideTtl")
            rule.update({"BlockOverrideDomain": domain, "BlockOverrideDnsType": kind, "BlockOverrideTtl": int(ttl)})
    store["rules"][group].append(rule)
    store["rules"][group].sort(key=lambda r: r["Priority"])
    store["groups"][group]["RuleCount"] = len(store["rules"][group])
    return json.dumps({"FirewallRule": rule})


def list_firewall_rules(self: Any) -> str:
    """ListFirewallRules (optionally filtered by Priority and Action), in priority order."""
    store = _store(self.route53resolver_backend)
    group = self._get_param("FirewallRuleGroupId")
    if group not in store["groups"]:
        raise _not_found("firewall rule group", group)
    rules = store["rules"][group]
    if self._get_param("Priority") is not None:
        rules = [r for r in rules if r["Priority"] == int(self._get_param("Priority"))]
    if self._get_param("Action"):
        rules = [r for r in rules if r["Action"] == self._get_param("Action")]
    return _page(rules, "FirewallRules")


def associate_firewall_rule_group(self: Any) -> str:
    """AssociateFirewallRuleGroup: priority 101..9900, unique per VPC."""
    backend = self.route53resolver_backend
    store = _store(backend)
    group = self._get_param("FirewallRuleGroupId")
    vpc_id = self._get_param("VpcId")
    if group not in store["groups"]:
        raise _not_found("firewall rule group", group)
    priority = int(self._get_param("Priority"))
    if not 101 <= priority <= 9900:
        raise _invalid("Priority must be between 101 and 9900")
    if any(a["VpcId"] == vpc_id and a["Priority"] == priority for a in store["associations"].values()):
        raise _invalid(f"An association with priority {priority} already exists for {vpc_id}")
    ident = _id("rslvr-frgassoc-")
    item = {
        "Id": ident,
        "Arn": _arn(backend, "firewall-rule-group-association", ident),
        "FirewallRuleGroupId": group,
        "VpcId": vpc_id,
        "Name": self._get_param("Name"),
        "Priority": priority,
        "MutationProtection": self._get_param("MutationProtection") or "DISABLED",
        "Status": "COMPLETE",
        "StatusMessage": "Finished rule group association",
        "CreatorRequestId": self._get_param("CreatorRequestId"),
        "CreationTime": _now(),
        "ModificationTime": _now(),
    }
    store["associations"][ident] = item
    return json.dumps({"FirewallRuleGroupAssociation": item})


def get_firewall_rule_group_association(self: Any) -> str:
    """GetFirewallRuleGroupAssociation."""
    store = _store(self.route53resolver_backend)
    ident = self._get_param("FirewallRuleGroupAssociationId")
    if ident not in store["associations"]:
        raise _not_found("firewall rule group association", ident)
    return json.dumps({"FirewallRuleGroupAssociation": store["associations"][ident]})


def list_firewall_rule_group_associations(self: Any) -> str:
    """ListFirewallRuleGroupAssociations (filters: FirewallRuleGroupId, VpcId, Priority, Status)."""
    items = sorted(_store(self.route53resolver_backend)["associations"].values(), key=lambda a: a["Priority"])
    for key in ("FirewallRuleGroupId", "VpcId", "Status"):
        wanted = self._get_param(key)
        if wanted:
            items = [a for a in items if a[key] == wanted]
    if self._get_param("Priority") is not None:
        items = [a for a in items if a["Priority"] == int(self._get_param("Priority"))]
    return _page(items, "FirewallRuleGroupAssociations")


OPERATIONS = (
    create_firewall_domain_list,
    update_firewall_domains,
    list_firewall_domains,
    get_firewall_domain_list,
    list_firewall_domain_lists,
    create_firewall_rule_group,
    get_firewall_rule_group,
    list_firewall_rule_groups,
    create_firewall_rule,
    list_firewall_rules,
    associate_firewall_rule_group,
    get_firewall_rule_group_association,
    list_firewall_rule_group_associations,
)


def apply() -> None:
    """Add the operations to moto's route53resolver responses (idempotent)."""
    from moto.route53resolver.responses import Route53ResolverResponse

    for operation in OPERATIONS:
        setattr(Route53ResolverResponse, operation.__name__, operation)
