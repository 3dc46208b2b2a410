"""``xietong dept …``: the consortium's departments as recorded on chain."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlmodel import Session

from .. import refs as _refs
from ..chain import open_client
from ..chain.client import ChainClient
from ..chain.reads import read_department
from ..consent import nominate_operator, proposal_subject, withdraw_nomination
from ..db import queries
from ..db.engine import create_db_engine
from ..gateway import Gateway
from ..governance import (
    account_address,
    approve_proposal,
    execute_proposal,
    membership_proposal,
    proposal_outcome,
    propose_membership,
)
from ._consent import consent_or_relay, write_consent
from ._output import console, emit_json, guarded, load_settings, respond, safe

app = typer.Typer(help="Departments of the consortium.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _department(client: ChainClient, dept_id: bytes) -> dict[str, Any]:
    d = read_department(client, dept_id)
    return {
        "id": "0x" + d.id.hex(),
        "name": d.name,
        "status": d.status.label,
        "admitted_at": d.admitted_at,
        "status_changed_at": d.status_changed_at,
        "operators": client.call("DepartmentRegistry", "operators", dept_id),
    }


@app.command("list")
def list_departments(json_output: JsonOption = False) -> None:
    """List every department ever admitted, with status and operators."""
    settings = load_settings(json_output)

    def run() -> list[dict[str, Any]]:
        client, _ = open_client(settings)
        count = client.call("DepartmentRegistry", "departmentCount")
        return [
            _department(client, client.call("DepartmentRegistry", "departmentIdAt", i))
            for i in range(count)
        ]

    departments = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, "departments": departments})
        return
    table = Table("name", "status", "id", "operators")
    for d in departments:
        # Table cells are Rich markup and a name is any text a member chose: safe() each value.
        table.add_row(
            safe(d["name"]), safe(d["status"]), safe(d["id"]), "\n".join(map(safe, d["operators"]))
        )
    console.print(table)


@app.command("show")
def show(
    department: Annotated[str, typer.Argument(help="Department id (0x…) or its code.")],
    json_output: JsonOption = False,
) -> None:
    """Show one department."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        dept_id = _refs.id_or_code(department, what="department id")
        client, _ = open_client(settings)
        return _department(client, dept_id)

    d = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, "department": d})
        return
    console.print(f"{safe(d['name'])} ({safe(d['status'])})", highlight=False)
    console.print(f"  id        {safe(d['id'])}")
    console.print(f"  operators {safe(', '.join(d['operators']))}")


# --------------------------------------------------------------------------- operators
#
# An account becomes an operator only with its consent: this gateway's department nominates it
# (`nominate`), and the account accepts with its own key (`accept`) or signs a consent file
# (`consent`) that any gateway relays (`accept --signature`). The account an admission or an
# auditor grant names accepts that proposal's role the same way (`accept-role`, `role-consent`).

AccountArgument = Annotated[str, typer.Argument(help="Account address (0x and 40 hex digits).")]
DepartmentArgument = Annotated[str, typer.Argument(help="Department id (0x…) or its code.")]
ProposalArgument = Annotated[
    int, typer.Argument(min=1, max=2**63 - 1, help="Membership proposal id.")
]
SignatureOption = Annotated[
    Path | None, typer.Option("--signature", help="Relay the account's signed consent file.")
]
OutOption = Annotated[
    Path, typer.Option("--out", help="Consent file to hand to the relaying gateway.")
]
ValidForOption = Annotated[
    int, typer.Option("--valid-for", min=60, help="Seconds the signature stays valid.")
]


def _operator_change(function: str, account: str, json_output: bool) -> None:
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        gw = Gateway(settings)
        who = account_address(account)
        action = {
            "nominate": nominate_operator,
            "withdraw-nomination": withdraw_nomination,
        }.get(function)
        if action is not None:
            tx = action(gw.client, gw.signer, who)
        else:
            tx = gw.client.transact("DepartmentRegistry", "removeOperator", who, sender=gw.signer)
        [(_, event)] = tx.events
        return {
            "department_id": "0x" + bytes(event["departmentId"]).hex(),
            "account": who,
            "transaction": tx.tx_hash,
            "block_number": tx.block_number,
        }

    respond(
        json_output,
        run,
        lambda r: f"{function}: {safe(r['account'])} in block {r['block_number']}",
    )


@app.command()
def nominate(account: AccountArgument, json_output: JsonOption = False) -> None:
    """Nominate ACCOUNT as an operator of this gateway's department; it becomes one when it
    accepts (`dept accept`)."""
    _operator_change("nominate", account, json_output)


@app.command("withdraw-nomination")
def withdraw_nomination_command(account: AccountArgument, json_output: JsonOption = False) -> None:
    """Withdraw this department's pending nomination of ACCOUNT."""
    _operator_change("withdraw-nomination", account, json_output)


@app.command("remove-operator")
def remove_operator(account: AccountArgument, json_output: JsonOption = False) -> None:
    """Remove ACCOUNT from this department's operators (never the last one)."""
    _operator_change("remove-operator", account, json_output)


@app.command()
def accept(
    department: DepartmentArgument,
    signature: SignatureOption = None,
    json_output: JsonOption = False,
) -> None:
    """Accept DEPARTMENT's nomination as operator: with this gateway's key (the nominated
    account), or by relaying the account's signed consent file."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        gw = Gateway(settings)
        dept_id = _refs.id_or_code(department, what="department id")
        tx = consent_or_relay(gw, "AcceptOperator", dept_id, signature)
        added = tx.event("OperatorAdded")
        return {
            "department_id": "0x" + dept_id.hex(),
            "account": added["account"],
            "nominated_by": added["addedBy"],
            "transaction": tx.tx_hash,
        }

    respond(
        json_output,
        run,
        lambda r: (
            f"[green]accepted[/]: {safe(r['account'])} operates {safe(r['department_id'])} now"
        ),
    )


@app.command()
def consent(
    department: DepartmentArgument,
    out: OutOption,
    valid_for: ValidForOption = 86_400,
    json_output: JsonOption = False,
) -> None:
    """Sign (EIP-712) this key's acceptance of DEPARTMENT's nomination, for another gateway
    to relay with `dept accept --signature`."""
    settings = load_settings(json_output)
    write_consent(
        settings,
        "AcceptOperator",
        lambda: _refs.id_or_code(department, what="department id"),
        out,
        valid_for,
        json_output,
    )


@app.command("accept-role")
def accept_role(
    proposal: ProposalArgument,
    signature: SignatureOption = None,
    json_output: JsonOption = False,
) -> None:
    """Accept the role membership proposal PROPOSAL offers this key (first operator of an
    admitted department, or auditor), or relay the named account's signed consent file. The
    proposal executes then if its approvals already suffice."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        gw = Gateway(settings)
        tx = consent_or_relay(gw, "AcceptRole", proposal_subject(proposal), signature)
        accepted = tx.event("ProposalRoleAccepted")
        return {
            "proposal_id": proposal,
            "account": accepted["account"],
            "executed": any(name == "ProposalExecuted" for name, _ in tx.events),
            "transaction": tx.tx_hash,
        }

    respond(
        json_output,
        run,
        lambda r: (
            f"[green]accepted[/] the role of proposal {r['proposal_id']} for {safe(r['account'])}"
            + ("; the proposal was executed" if r["executed"] else "")
        ),
    )


@app.command("role-consent")
def role_consent(
    proposal: ProposalArgument,
    out: OutOption,
    valid_for: ValidForOption = 86_400,
    json_output: JsonOption = False,
) -> None:
    """Sign (EIP-712) this key's acceptance of the role PROPOSAL offers it, for another gateway
    to relay with `dept accept-role --signature`."""
    settings = load_settings(json_output)
    write_consent(
        settings, "AcceptRole", lambda: proposal_subject(proposal), out, valid_for, json_output
    )


# --------------------------------------------------------------------------- governance
#
# Membership changes are proposals of a department, approved by the others (`approve`), and
# executed once the approvals of active departments meet the threshold; an admission or an
# auditor grant also waits for the named account to accept the role (`accept-role`).

propose_app = typer.Typer(
    help="Propose a membership change; this gateway's department approves it at once.",
    no_args_is_help=True,
)
app.add_typer(propose_app, name="propose")


def _propose(kind: str, json_output: bool, **fields: str | None) -> None:
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        proposal = membership_proposal(kind, **fields)  # checked before the node is asked
        gw = Gateway(settings)
        proposal_id, tx = propose_membership(gw.client, gw.signer, proposal)
        return proposal_outcome(proposal_id, kind, tx)

    respond(json_output, run, _said("proposed"))


def _said(verb: str) -> Any:
    def say(r: dict[str, Any]) -> str:
        what = f" ({safe(r['kind'])})" if r["kind"] else ""
        approvals = f", {r['approvals']} approval(s)" if r["approvals"] is not None else ""
        done = "; executed" if r["executed"] else "; not executed yet"
        return f"[green]{verb}[/] proposal {r['proposal_id']}{what} in block {r['block_number']}{approvals}{done}"

    return say


@propose_app.command("admit")
def propose_admit(
    code: Annotated[str, typer.Argument(help="The new department's stable code.")],
    name: Annotated[str, typer.Option("--name", help="Its name (on chain, public).")],
    operator: Annotated[str, typer.Option("--operator", help="Its first operator's account.")],
    json_output: JsonOption = False,
) -> None:
    """Propose to admit a department; its first operator accepts with `dept accept-role`."""
    _propose("admit", json_output, department=code, name=name, account=operator)


@propose_app.command("suspend")
def propose_suspend(department: DepartmentArgument, json_output: JsonOption = False) -> None:
    """Propose to suspend a department (its agreements stop authorizing while suspended)."""
    _propose("suspend", json_output, department=department)


@propose_app.command("readmit")
def propose_readmit(department: DepartmentArgument, json_output: JsonOption = False) -> None:
    """Propose to readmit a suspended department."""
    _propose("readmit", json_output, department=department)


@propose_app.command("grant-auditor")
def propose_grant_auditor(account: AccountArgument, json_output: JsonOption = False) -> None:
    """Propose to make ACCOUNT an auditor; it accepts with `dept accept-role`."""
    _propose("grant-auditor", json_output, account=account)


@propose_app.command("revoke-auditor")
def propose_revoke_auditor(account: AccountArgument, json_output: JsonOption = False) -> None:
    """Propose to revoke ACCOUNT's auditor role."""
    _propose("revoke-auditor", json_output, account=account)


def _vote(verb: str, action: Any, proposal: int, json_output: bool) -> None:
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        gw = Gateway(settings)
        return proposal_outcome(proposal, None, action(gw.client, gw.signer, proposal))

    respond(json_output, run, _said(verb))


@app.command()
def approve(proposal: ProposalArgument, json_output: JsonOption = False) -> None:
    """Approve PROPOSAL on behalf of this gateway's department (it executes when that is
    enough)."""
    _vote("approved", approve_proposal, proposal, json_output)


@app.command()
def execute(proposal: ProposalArgument, json_output: JsonOption = False) -> None:
    """Execute PROPOSAL, whose approvals already meet the threshold."""
    _vote("executed", execute_proposal, proposal, json_output)


@app.command()
def proposals(
    status: Annotated[
        str | None, typer.Option("--status", help="open, expired or executed.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Membership proposals, from the index (`xietong index` first)."""
    settings = load_settings(json_output)

    def run() -> list[dict[str, Any]]:
        with Session(create_db_engine(settings.database_url)) as session:
            return queries.every_item(
                lambda cursor: queries.list_proposals(
                    session=session, status=status, cursor=cursor, limit=queries.MAX_PAGE
                )
            )

    rows = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, "proposals": rows})
        return
    table = Table("id", "kind", "status", "about", "approvals")
    for p in rows:
        about = p["display_name"] or (p["department"] or {}).get("name") or p["account"] or ""
        table.add_row(
            str(p["id"]), safe(p["kind"]), safe(p["status"]), safe(about), str(p["approvals"])
        )
    console.print(table)
