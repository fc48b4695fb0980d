from __future__ import annotations

from config.celery import app
from trading.brokers.services import broker_tokens_renew_due


@app.task(name="trading.renew_broker_tokens", max_retries=0)
def renew_broker_tokens() -> int:
    """Beat, every minute: renew tokens that expire within 15 minutes (D26)."""
    return broker_tokens_renew_due()


@app.task(name="trading.execute_signal", acks_late=True, max_retries=0)
def execute_signal(signal_id: int) -> None:
    """Queue ``signals``. Idempotent: safe to deliver twice (outcome status, advisory lock,
    clOrdIds)."""
    from trading.execution import signal_execute

    signal_execute(signal_id=signal_id)


@app.task(name="trading.execute_signal_chunk", acks_late=True, max_retries=0)
def execute_signal_chunk(signal_id: int, outcome_ids: list[int]) -> None:
    """Queue ``signals``. A chunk (by broker login) of a large signal's outcomes, so several
    worker processes share one fan-out. Idempotent like ``execute_signal``."""
    from trading.execution import signal_chunk_execute

    signal_chunk_execute(signal_id=signal_id, outcome_ids=outcome_ids)


@app.task(name="trading.resume_stale_signals", max_retries=0)
def resume_stale_signals() -> int:
    """Beat, every 5 s: re-run signals a dead worker left executing, and look up in-doubt
    orders whose scheduled look-up is overdue."""
    from trading.execution import signals_resume_stale

    return len(signals_resume_stale())


@app.task(name="trading.settle_in_doubt", acks_late=True, max_retries=0)
def settle_in_doubt(outcome_id: int) -> None:
    """Queue ``signals``. One look-up round for an in-doubt outcome (trading/in_doubt.py);
    idempotent: the position lock, the outcome's status and clOrdIds."""
    from trading.execution import outcome_settle

    outcome_settle(outcome_id=outcome_id)


@app.task(name="trading.flatten_after_cutoff", max_retries=0)
def flatten_after_cutoff() -> int:
    """Beat, every 30 s: a CLOSE for each trader whose trading window just ended (with
    flatten_after_cutoff on), executed on queue ``signals`` like any signal."""
    from trading.cutoff import cutoff_signals_create

    return len(cutoff_signals_create())
