"""Sign-in rules that do not need the database: the password policy with its bundled list of
breached passwords, the sign-in throttle, and the bounded pool that hashes passwords off the
event loop. The accounts themselves live in :mod:`vigil.db.identity`."""
