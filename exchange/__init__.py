"""Electronic document exchange between organs of the four levels (DESIGN §6).

registry.py   organs (OrganId, level, parent, validity) from the operator's CSV
models.py     envelope, status and stored-state models; errors
envelope.py   edXML build and hardened parse (QCVN 102:2016 layout)
signing.py    organ keys and certificates; enveloped XML-DSig sign / verify
transport.py  how an envelope reaches its recipient (shared store, HTTP peer)
service.py    send, outbox delivery, receive (verify, dedupe, reuse), statuses, access
audit.py      the append-only, hash-chained audit log
"""
