"""Electronic document exchange between organs of the four levels (DESIGN §6).

service.py         the facade the CLI, the API and the actors call (thin: it composes the rest)
messages.py        the one key layout in the object store, and typed reads/writes there
outbox.py          build, sign and store envelopes; outbox entries and their delivery
inbox.py           receive: verify, claim, import attachments, answer; rejections
statuses.py        the edXML status table (one row per status)
ledger.py          statuses in and out, and the order they may come in
business.py        what a revoke, update or replacement does to the earlier message
links.py           records <-> copies of one paper, derived files <-> records
access.py          organ API tokens, message visibility, the public mark
ports.py           what the exchange is handed: stored records, who sees them, ingest
context.py         what every part shares (store, options, registry, keys, audit log)
envelope_read.py   hardened edXML parse (QCVN 102:2016 layout, limits, streaming)
envelope_write.py  edXML build (attachments streamed)
signing.py         organ keys and certificates; enveloped XML-DSig sign / verify
transport.py       how an envelope reaches its recipient (shared store, HTTP peer)
registry.py        organs (OrganId, level, parent, validity) from the operator's CSV
models.py          envelope, status and stored-state models; errors
audit.py           the append-only, hash-chained audit log
"""
