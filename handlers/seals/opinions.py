"""Signed opinions: each 签发 and 批示 is signed with its author's personal certificate, and checked when shown.

When a person completes a task whose form is declared ``signed`` (``forms.outgoing``'s 签发,
``forms.incoming``'s 批示), the engine calls :func:`sign_completion` inside the step. It refuses
the step if the person holds no usable certificate (``personal.signing_certificate`` says what
to do), else signs a canonical JSON of the instance, the task, the step, the person, the
certificate, the signing time and everything the form recorded, as a detached CMS signature with
the person's key (held encrypted on the server, opened only here), and stores both beside the task.

:func:`trail_signatures` checks every signed step of a trail for the opinion trail: the signature
over the stored payload, the payload against what the trail shows (a changed opinion fails), the
certificate, its chain and the CRLs as of the time the timestamp proves (the recorded time, for
opinions signed before opinions were timestamped).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.models import Person, Task
from engine.registry import FORMS, completion_signer

from . import detached, pki
from .models import CertificateAuthority, OpinionSignature, PersonalCertificate, TimestampAuthority
from .personal import signing_certificate
from .register import keybox, timestamper


def canonical(task_id: uuid.UUID, instance_id: int, step: str, person_id: int, person_name: str, serial: str,
              signed_at: datetime, form_data: dict) -> bytes:
    """The bytes that are signed: sorted-key compact JSON, UTF-8, times in UTC ISO 8601."""
    return json.dumps({"v": 1, "task": str(task_id), "instance": instance_id, "step": step, "person": person_id,
                       "name": person_name, "certificate": serial, "signed_at": signed_at.astimezone(clock.UTC)
                       .isoformat(), "form": form_data}, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode()


@completion_signer
def sign_completion(ctx, task_row, person_id: int, data: dict) -> None:
    """Sign ``person_id``'s completion of ``task_row`` with ``data``; refused without a usable certificate."""
    certificate = signing_certificate(ctx.session, person_id)
    person, now = ctx.session.get(Person, person_id), ctx.now()
    payload = canonical(task_row.id, task_row.instance_id, task_row.spec_name, person_id, person.name,
                        certificate.serial, now, data)
    cert, chain = _certificates(ctx.session, certificate)
    signature = detached.sign(payload, keybox(ctx.settings).open(certificate.key_blob), cert, chain, now,
                              timestamper(ctx.session, ctx.settings))
    ctx.session.add(OpinionSignature(task_id=task_row.id, instance_id=task_row.instance_id,
                                     certificate_id=certificate.id, payload=payload, signature=signature,
                                     signed_at=now))
    ctx.audit("opinion.sign", actor_id=person_id, task_id=str(task_row.id), serial=certificate.serial)


def trail_signatures(session: Session, tasks: list[Task]) -> dict[uuid.UUID, tuple[bool, str]]:
    """For each completed task of a signed form among ``tasks``: (verified, what the trail says)."""
    signed = [t for t in tasks if t.form_key in FORMS and FORMS[t.form_key].signed]
    if not signed:
        return {}
    rows = {r.task_id: r for r in session.scalars(
        select(OpinionSignature).where(OpinionSignature.task_id.in_([t.id for t in signed])))}
    return {t.id: _verdict(session, t, rows.get(t.id)) for t in signed}


def _verdict(session: Session, task: Task, row: OpinionSignature | None) -> tuple[bool, str]:
    if row is None:
        return False, "无签名记录"
    certificate = session.get(PersonalCertificate, row.certificate_id)
    problem = _mismatch(task, row, certificate)
    if problem is None:
        cert, chain = _certificates(session, certificate)
        crls = [pki.load_crl(ca.crl_der) if ca.crl_der else None for ca in _authorities(session, certificate)]
        tsas = [pki.load_certificate(pem.encode())
                for pem in session.scalars(select(TimestampAuthority.certificate_pem))]
        problem, proven = detached.check(bytes(row.payload), bytes(row.signature), cert, chain, crls, row.signed_at,
                                         clock.now(), tsas)
    if problem is not None:
        return False, f"签名验证未通过：{problem}"
    when = f"，时间戳 {clock.local(proven):%Y-%m-%d %H:%M:%S}" if proven else ""
    return True, f"已签名（证书 {certificate.serial}{when}，验证通过）"


def _mismatch(task: Task, row: OpinionSignature, certificate: PersonalCertificate) -> str | None:
    """Whether the signed payload says what the trail shows: this task, this person, these words."""
    try:
        said = json.loads(bytes(row.payload))
    except ValueError:
        return "签名内容无法解析"
    expected = {"task": str(task.id), "instance": task.instance_id, "person": task.completed_by_id,
                "certificate": certificate.serial, "form": task.form_data}
    if not isinstance(said, dict) or any(said.get(k) != v for k, v in expected.items()):
        return "意见记录与签名内容不一致，记录可能被改动"
    return None


def _authorities(session: Session, certificate: PersonalCertificate) -> list[CertificateAuthority]:
    ca = session.get(CertificateAuthority, certificate.ca_id)
    return [ca, session.get(CertificateAuthority, ca.parent_id)]


def _certificates(session: Session, certificate: PersonalCertificate):
    """(the personal certificate, [issuing CA, root]) as ``cryptography`` objects."""
    chain = [pki.load_certificate(ca.certificate_pem.encode()) for ca in _authorities(session, certificate)]
    return pki.load_certificate(certificate.certificate_pem.encode()), chain
