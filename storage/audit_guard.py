"""The audit log is append-only from the application's side: a flush that would change or delete an audit event,
and an UPDATE or DELETE statement on its table through a session, are refused. The one exception is the retention
prune, which says so with the PRUNING execution option (domain.audit.prune_audit)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from storage.models import AuditLog

PRUNING = "lumina_audit_prune"


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _no_changed_events(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditLog):
            raise AuditLogIsAppendOnly("audit events are never deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditLog) and session.is_modified(obj):
            raise AuditLogIsAppendOnly("audit events are never changed")


@event.listens_for(Session, "do_orm_execute")
def _no_rewrites(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete) or state.execution_options.get(PRUNING):
        return
    if any(mapper.class_ is AuditLog for mapper in state.all_mappers):
        raise AuditLogIsAppendOnly("audit events are never changed or deleted")
