"""The append-only, hash-chained audit log and its verification.

Write with :func:`vigil.audit.log.append` inside the transaction that makes the change; check
with :func:`vigil.audit.verify.verify_chain`; hand :func:`vigil.audit.verify.create_checkpoint`
output to an outside witness.
"""
