"""Jepsen's bank: transfers between accounts in transactions, and reads of every balance.

The accounts are ``0 .. accounts-1`` and start with the whole ``total`` in account 0 (as
Jepsen's tests set them up); every read must show that total, and, unless
``-w negative-balances=true``, no balance below zero. Half the ops are transfers of
1..``max-transfer`` between two different accounts chosen at random, half are reads, as
in Jepsen's generator; after the faults are healed, one final read.

The op format, which every client of this workload implements (declared as
``bank.transfer`` and ``bank.read``; the history carries the bare ``f``):

- ``f="transfer"``, value ``{"from": a, "to": b, "amount": n}`` (``a != b``, ``n >= 1``),
  one transaction: debit ``a`` and credit ``b`` by ``n``, both or neither. ``ok`` when
  committed (value unchanged); ``fail`` when it certainly did not happen, which includes
  a transfer refused because it would leave ``a`` negative when negative balances are not
  allowed (``error: "insufficient funds"``); ``info`` when unknown.
- ``f="read"``, invoke value ``None``; the ``ok`` value is ``{account: balance, ...}``
  with every account, read in one transaction (JSON turns the account numbers into
  strings; the checker compares them as text).

Clients learn the accounts, the total and whether negative balances are allowed from
``RunContext.workload_options`` (``accounts``, ``total``, ``negative-balances``); the
starting balances are ``checkers.bank.initial_balances``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from splitbrain.checkers import bank
from splitbrain.harness.base.generator import Context, Invocation, Result, Seq
from splitbrain.harness.base.history import Op
from splitbrain.harness.base.values import Flag, Integer, Option
from splitbrain.workloads import Workload, WorkloadSpec

READ_FRACTION = 0.5


@dataclass(frozen=True, slots=True)
class BankOps:
    """Reads and transfers, half each, as Jepsen's ``(gen/mix [diff-transfer read])``."""

    accounts: int
    max_transfer: int

    def op(self, ctx: Context) -> Result:
        if ctx.rng.random() < READ_FRACTION:
            return Invocation("read"), self
        source, dest = ctx.rng.sample(range(self.accounts), 2)
        amount = ctx.rng.randint(1, self.max_transfer)
        return Invocation("transfer", {"from": source, "to": dest, "amount": amount}), self


OPTIONS = {
    "accounts": Option(Integer(2, 10_000), bank.DEFAULT_ACCOUNTS, "accounts 0 .. N-1"),
    "total": Option(
        Integer(0, 10**12), bank.DEFAULT_TOTAL, "the money in all accounts, at first all in 0"
    ),
    "max-transfer": Option(Integer(1, 10**12), 5, "generator: largest amount one transfer moves"),
    "negative-balances": Option(
        Flag(),
        False,
        "balances may go below zero (else such a transfer fails, and a read of one is bad)",
    ),
}


def workload(spec: WorkloadSpec) -> Workload:
    spec.refuse_model("bank")
    accounts, total = spec.options["accounts"], spec.options["total"]
    negative = spec.options["negative-balances"]

    def check(history: list[Op]) -> dict[str, Any]:
        return bank.check(history, accounts=accounts, total=total, negative_balances=negative)

    return Workload(
        name="bank",
        generator=BankOps(accounts, spec.options["max-transfer"]),
        final_generator=Seq((Invocation("read"),)),
        checkers={"bank": check},
        operations=frozenset({"bank.transfer", "bank.read"}),
    )
