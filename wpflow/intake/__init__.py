"""The e-mail intake: partners mail their files to a mailbox that `wpflow serve` polls over IMAP
(`mailbox`); a message from a partner's known address is matched to its milestone (`matching`),
each attachment goes into the partner's watched folder exactly as a dropped file
(`wpflow.inbox.deliver`), and the message is moved to a processed folder; one that cannot be
taken in gets a short reply saying why (`replies`) and is held for the coordinator. `poller`
ties them together, idempotent by Message-ID.

Above `wpflow.inbox` (whose watched folders it delivers into), below `wpflow.cli` only.
"""
